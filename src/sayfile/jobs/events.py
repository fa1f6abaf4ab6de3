"""Job events (progress, a new status, a deleted record) announced to whoever waits for them:
in this process, or through Redis pub/sub to every process sharing a Redis store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from sayfile.lru_map import KEPT_JOBS, LruMap
from sayfile.store.records import JobStatus
from sayfile.task_stopping import stop_task

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)

DELETED = "deleted"
"""The status an event gives for a record that was deleted (a cancelled job)."""


@dataclass(frozen=True, slots=True)
class JobEvent:
    """Something happened to one job: its status (a JobStatus value or `deleted`) and
    progress (0..1) now."""

    job_id: str
    status: str
    progress: float = 0.0

    @property
    def final(self) -> bool:
        """Nothing more will happen to the job's synthesis."""
        return self.status == DELETED or JobStatus(self.status).finished


class Watch:
    """The events of one job as they come. Between two reads only the newest is kept (a
    final event is never replaced by a later progress one)."""

    def __init__(self) -> None:
        self._pending: JobEvent | None = None
        self._changed = asyncio.Event()

    def deliver(self, event: JobEvent) -> None:
        if self._pending is None or not self._pending.final:
            self._pending = event
        self._changed.set()

    async def next(self, timeout: float | None) -> JobEvent | None:
        """The next event, or None when `timeout` seconds pass without one."""
        if self._pending is None:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        event, self._pending = self._pending, None
        return event


class JobEvents(Protocol):
    """Announces job events to the watchers of a job.

    - `publish(event)` announces an event (to every process sharing the store, where there
      are several); it never raises for a store that is away, since the record stays the
      truth and watchers look at it again now and then.
    - `watch(job_id)` is a context manager giving a Watch; open it before reading the record
      so that nothing that happens after the read is missed.
    - `latest(job_id)` is the newest event seen for a job still working, or None.
    - `on_final(callback)` has `callback(job_id)` called for every job whose final event
      this process hears (bookkeeping such as the storage quota's reservations).
    - `start()` / `close()` connect and disconnect.
    """

    async def publish(self, event: JobEvent) -> None: ...

    def watch(self, job_id: str) -> contextlib.AbstractContextManager[Watch]: ...

    def latest(self, job_id: str) -> JobEvent | None: ...

    def on_final(self, callback: Callable[[str], None]) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalJobEvents:
    """Events within one process (the embedded server, the command line)."""

    def __init__(self) -> None:
        self._watches: defaultdict[str, set[Watch]] = defaultdict(set)
        # (Bounded: a job whose final event was lost must not stay for ever.)
        self._latest: LruMap[str, JobEvent] = LruMap(KEPT_JOBS)
        self._final: list[Callable[[str], None]] = []

    def on_final(self, callback: Callable[[str], None]) -> None:
        self._final.append(callback)

    def deliver(self, event: JobEvent) -> None:
        if event.final:
            self._latest.pop(event.job_id, None)
        else:
            self._latest[event.job_id] = event
        for watch in self._watches.get(event.job_id, ()):
            watch.deliver(event)
        if event.final:
            # Bookkeeping after the watchers: one that fails must not keep the end from them,
            # nor from the other callbacks, nor fail the publisher.
            for callback in self._final:
                try:
                    callback(event.job_id)
                except Exception:
                    log.exception("a job's end was not taken into account by %r", callback)

    async def publish(self, event: JobEvent) -> None:
        self.deliver(event)

    @contextlib.contextmanager
    def watch(self, job_id: str) -> Iterator[Watch]:
        watch = Watch()
        self._watches[job_id].add(watch)
        try:
            yield watch
        finally:
            watchers = self._watches[job_id]
            watchers.discard(watch)
            if not watchers:
                del self._watches[job_id]

    def latest(self, job_id: str) -> JobEvent | None:
        return self._latest.get(job_id)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisJobEvents:
    """Events through Redis pub/sub: one pattern subscription per process hears every job's
    channel and hands each event to this process's watchers."""

    def __init__(self, url: str, timeout: float) -> None:
        from sayfile.store.redis import Keys, connect

        self._keys = Keys()
        self._redis = connect(url, timeout)
        self._listener_redis = connect(url, timeout, blocking_reads=True)
        self._local = LocalJobEvents()
        self._listener: asyncio.Task[None] | None = None
        # The listening connection blocks on reads; subscribing is bounded by this instead.
        self._timeout = timeout

    async def publish(self, event: JobEvent) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.publish(self._keys.events(event.job_id), json.dumps(asdict(event)))
        except (RedisError, OSError) as exc:
            log.warning("job event not announced (%s); watchers will read the record", exc)
            self._local.deliver(event)

    def watch(self, job_id: str) -> contextlib.AbstractContextManager[Watch]:
        return self._local.watch(job_id)

    def latest(self, job_id: str) -> JobEvent | None:
        return self._local.latest(job_id)

    def on_final(self, callback: Callable[[str], None]) -> None:
        self._local.on_final(callback)

    async def start(self) -> None:
        """Subscribe before returning, so no event published afterwards is missed; a Redis
        that is away now is subscribed to once it is back."""
        from redis.exceptions import RedisError

        if self._listener is not None:
            return
        pubsub = self._listener_redis.pubsub()
        subscribed: PubSub | None = pubsub
        try:
            await asyncio.wait_for(pubsub.psubscribe(self._keys.all_events), self._timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("job events unreachable (%s); listening once Redis is back", exc)
            await pubsub.aclose()
            subscribed = None
        self._listener = asyncio.create_task(self._listen(subscribed))

    async def _listen(self, subscribed: PubSub | None) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                if subscribed is None:
                    subscribed = self._listener_redis.pubsub()
                    await asyncio.wait_for(
                        subscribed.psubscribe(self._keys.all_events), self._timeout
                    )
                async with subscribed as pubsub:
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        data = json.loads(message["data"])
                        self._local.deliver(JobEvent(**data))
            except (RedisError, OSError, ValueError, TypeError, TimeoutError) as exc:
                log.warning("job events unreachable (%s); listening again in 1 s", exc)
                subscribed = None
                await asyncio.sleep(1)

    async def close(self) -> None:
        if self._listener is not None:
            await stop_task(self._listener, 5.0)
            self._listener = None
        await self._redis.aclose()
        await self._listener_redis.aclose()
