"""Scale-out: jobs go through Taskiq (a Redis list) to `sayfile worker` processes, which load
voices once and run several jobs at a time in fair turns on their own sentence executor."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import AsyncGenerator, Iterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker, TaskiqEvents, TaskiqState
from taskiq.kicker import AsyncKicker
from taskiq_redis import ListQueueBroker

from sayfile.admission import RETRY_AFTER_S
from sayfile.errors import Busy, SayfileError, StoreUnavailable
from sayfile.jobs import FailureReason, Job
from sayfile.models import SpeechRequest
from sayfile.plans import validate
from sayfile.settings import Settings
from sayfile.store.redis import Keys
from sayfile.supervision import go_with_parent
from sayfile.synthesizer import SpeechPlan

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


def worker_broker() -> AsyncBroker:
    """The broker of a `sayfile worker` process (Taskiq imports this factory): settings from
    the environment, voices loaded at start-up and kept, up to SAYFILE_WORKER_JOBS jobs at a
    time taking fair turns on the process's sentence executor."""
    from sayfile.wiring import STOP_WAIT_S, Parts

    # This runs in each worker process, which ends when `sayfile worker` does.
    go_with_parent(signal.SIGTERM)
    settings = Settings()
    broker = make_broker(settings)
    # Taskiq says "Executing task" at INFO for every message, a book's every turn among
    # them; the runners say at INFO what was made instead.
    logging.getLogger("taskiq.receiver").setLevel(logging.WARNING)
    holder: dict[str, Parts] = {}
    running: set[asyncio.Task[Any]] = set()

    async def startup(state: TaskiqState) -> None:
        parts = Parts.build(settings)
        await parts.start()
        await parts.warm_up()
        holder["parts"] = parts

    async def shutdown(state: TaskiqState) -> None:
        # Stopping (SIGTERM or SIGINT; the supervisor's death): what runs here stops at the
        # piece being made, as when the process is restarted (a book's part waits for another
        # turn, a job is failed as interrupted), within STOP_WAIT_S for the runners and as much
        # again for the pieces, however long an engine call hangs.
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT_S)
        if "parts" in holder:
            await holder.pop("parts").close()

    async def synthesize(payload: dict[str, Any]) -> None:
        with _tracked(running):
            await _synthesize(payload)

    async def _synthesize(payload: dict[str, Any]) -> None:
        parts = holder["parts"]
        job = Job.from_dict(payload["job"])
        try:
            request = SpeechRequest(
                payload["text"],
                voice=payload["voice"],
                format=payload["format"],
                speed=payload["speed"],
                loudness=payload.get("loudness"),
                lexicon=tuple(payload.get("lexicon", ())),
                text_format=payload.get("text_format"),
            )
            # Off the loop: finding a long text's languages takes a while (see plans.py).
            plan = await parts.synthesizer.executor.run(
                functools.partial(validate, request, parts.synthesizer, parts.settings, None)
            )
        except SayfileError as exc:
            await parts.lifecycle.fail(job.id, FailureReason.invalid, str(exc))
            return
        await parts.runner.run(job, plan)

    slots: list[TurnSlots] = []  # made with the parts, which know the sentence threads

    async def book(job_id: str, declined: int = 0) -> None:
        # One part per turn; a turn that leaves parts nobody holds queues the next behind
        # the other jobs, so a book takes every free worker without starving anyone.
        parts = holder["parts"]
        if not slots:
            slots.append(TurnSlots(parts.settings.parallel_sentences))
        if not await slots[0].take(declined):
            await kick_book(broker, job_id, 1, declined + 1)
            return
        try:
            with _tracked(running):
                more = await parts.books.turn(job_id)
        finally:
            await slots[0].give_back()
        if more:
            await kick_book(broker, job_id, 1)

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    broker.register_task(synthesize, task_name=TASK_NAME)
    broker.register_task(book, task_name=BOOK_TASK_NAME)
    return broker


@contextlib.contextmanager
def _tracked(running: set[asyncio.Task[Any]]) -> Iterator[None]:
    """The current task is in `running` while the block runs (so shutdown can stop it)."""
    task = asyncio.current_task()
    assert task is not None
    running.add(task)
    try:
        yield
    finally:
        running.discard(task)
