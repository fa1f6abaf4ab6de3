"""Scale-out: jobs go through Taskiq (a Redis list) to `sayfile worker` processes, which load
voices once and run several jobs at a time in fair turns on their own sentence executor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker
from taskiq.kicker import AsyncKicker
from taskiq_redis import ListQueueBroker

from sayfile.errors import Busy, StoreUnavailable
from sayfile.jobs.admission import RETRY_AFTER_S
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan
from sayfile.store.records import Job
from sayfile.store.redis import Keys

log = logging.getLogger(__name__)
TASK_NAME = "sayfile.synthesize"
BOOK_TASK_NAME = "sayfile.book"
# How long a worker's BRPOP waits before asking again (it must stay under socket_timeout).
_POP_WAIT_S = 1
# How long a worker process whose sentence threads all have a book's part waits for one of
# them to come free before it hands a further turn of a book back to the queue: at first
# briefly (an idle process may take it), then twice as long each time the turn comes back,
# up to a few seconds, so a cluster that is full does not pass turns around all the time.
_DECLINE_S = 0.2
_DECLINE_MAX_S = 5.0


class SayfileQueueBroker(ListQueueBroker):
    """Taskiq's Redis list broker, whose listener pauses while Redis is away instead of
    spinning, and never blocks longer than the socket timeout."""

    async def listen(self) -> AsyncGenerator[bytes, None]:
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as conn:
                    item = await conn.brpop([self.queue_name], timeout=_POP_WAIT_S)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("queue unreachable (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            if item is not None:
                message = item[1]
                yield message if isinstance(message, bytes) else message.encode()


def make_broker(settings: Settings) -> SayfileQueueBroker:
    assert settings.queue_url, "SAYFILE_QUEUE_URL is not set"
    return SayfileQueueBroker(
        settings.queue_url,
        queue_name=Keys().queue,
        socket_connect_timeout=settings.redis_timeout_seconds,
        socket_timeout=max(settings.redis_timeout_seconds, _POP_WAIT_S + 1),
        timeout=settings.redis_timeout_seconds,
    )


def _payload(job: Job, plan: SpeechPlan) -> dict[str, Any]:
    return {
        "job": job.to_dict(),
        "text": plan.text,
        # A plan routed by language is planned again the same way (the routing depends on
        # the text alone); naming its main voice would put every sentence in that voice.
        "voice": None if plan.routed else plan.voice.id,
        "format": plan.format.name,
        "speed": plan.speed,
        "loudness": "off" if plan.loudness is None else plan.loudness,
        "lexicon": list(plan.lexicon),
        # The text as planned: read already, so never read as Markdown a second time.
        "text_format": "ssml" if plan.ssml else "plain",
    }


class TaskiqJobQueue:
    """Jobs are kicked to Taskiq for `sayfile worker` processes."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._broker = make_broker(settings)
        self._started = False

    @property
    def depth(self) -> int:
        return 0  # nothing runs in this process

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        try:
            if not self._started:
                await self._broker.startup()
                self._started = True
            async with Redis(connection_pool=self._broker.connection_pool) as conn:
                waiting = await conn.llen(self._broker.queue_name)
            if waiting >= self._settings.max_queue:
                raise Busy(retry_after=RETRY_AFTER_S)
            kicker: AsyncKicker[Any, Any] = AsyncKicker(TASK_NAME, self._broker, labels={})
            await kicker.kiq(_payload(job, plan))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("The Redis queue") from exc

    async def enqueue_book(self, job: Job, turns: int) -> None:
        try:
            if not self._started:
                await self._broker.startup()
                self._started = True
            await kick_book(self._broker, job.id, turns)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("The Redis queue") from exc

    def cancel(self, job_id: str) -> None:
        return None  # the worker holding the job hears that its record was deleted

    async def close(self) -> None:
        if self._started:
            await self._broker.shutdown()


async def kick_book(broker: AsyncBroker, job_id: str, turns: int, declined: int = 0) -> None:
    """`turns` turns at the book `job_id`, behind whatever is queued already, so other jobs
    are not kept waiting for a whole book; `declined`: how often a full process handed this
    turn back already."""
    kicker: AsyncKicker[Any, Any] = AsyncKicker(BOOK_TASK_NAME, broker, labels={})
    for _ in range(turns):
        await kicker.kiq(job_id, declined)


class TurnSlots:
    """The book turns one worker process runs at once: one per sentence thread. A turn
    beyond that would only wait behind this process's own parts (the fair turns run one
    client's requests in order) while another process may sit idle, so it waits here for a
    slot to come free (an event, not a poll) a short while, and is otherwise handed back to
    the queue; each time the same turn comes back it waits twice as long, up to
    `_DECLINE_MAX_S`, so a cluster that is full does not pass turns around all the time."""

    def __init__(self, room: int) -> None:
        self._room = max(1, room)
        self._taken = 0
        self._freed = asyncio.Condition()

    @staticmethod
    def patience(declined: int) -> float:
        """How long a turn handed back `declined` times already waits for a slot."""
        return min(_DECLINE_S * (1 << min(declined, 16)), _DECLINE_MAX_S)

    async def take(self, declined: int = 0) -> bool:
        """A slot for one turn: at once, or when one comes free within `patience`; False
        when none did (the caller hands the turn back)."""
        async with self._freed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._freed.wait_for(lambda: self._taken < self._room),
                    self.patience(declined),
                )
            if self._taken >= self._room:
                return False
            self._taken += 1
            return True

    async def give_back(self) -> None:
        async with self._freed:
            self._taken -= 1
            self._freed.notify()


def parallel_sentences_per_process(settings: Settings, processes: int) -> int:
    """SAYFILE_PARALLEL_SENTENCES for each of `processes` worker processes on one machine: as
    configured when set; else the CPUs shared out between the processes (at least 1), so
    that with every process busy there is one sentence per core. More would not be faster
    and each process would hold more memory (onnxruntime keeps working memory per sentence
    running); fewer processes than cores still let one long job use them all."""
    if "parallel_sentences" in settings.model_fields_set:
        return settings.parallel_sentences
    return max(1, settings.parallel_sentences // processes)
