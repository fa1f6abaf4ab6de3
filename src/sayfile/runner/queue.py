"""Scale-out: synthesis jobs go through Taskiq (Redis list broker) to `sayfile worker`
processes, which load voices once and keep them. Streams still run in the API process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AsyncBroker, TaskiqEvents, TaskiqState
from taskiq.kicker import AsyncKicker
from taskiq_redis import ListQueueBroker

from sayfile.audio import audio_format
from sayfile.errors import Busy, SayfileError, StoreUnavailable
from sayfile.jobs import Job
from sayfile.runner.local import InProcessRunner
from sayfile.service import SpeechPlan, SpeechService
from sayfile.settings import Settings
from sayfile.store import build_store
from sayfile.store.redis import Keys
from sayfile.synthesis import JobSynthesis

log = logging.getLogger(__name__)
T = TypeVar("T")
TASK_NAME = "sayfile.synthesize"
# How long a worker's BRPOP waits before asking again (it must stay under socket_timeout).
_POP_WAIT_S = 1


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
        "job_id": job.id,
        "text": plan.text,
        "voice": plan.voice.id,
        "format": plan.format.name,
        "speed": plan.speed,
    }


class TaskiqRunner:
    """Jobs are kicked to Taskiq; blocking work of this process (streams) stays local."""

    def __init__(self, settings: Settings, local: InProcessRunner) -> None:
        self._settings = settings
        self._local = local
        self._broker = make_broker(settings)
        self._started = False

    def admit(self) -> None:
        self._local.admit()

    def release(self) -> None:
        self._local.release()

    @property
    def depth(self) -> int:
        return self._local.depth

    async def run(self, fn: Callable[[], T]) -> T:
        return await self._local.run(fn)

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        try:
            if not self._started:
                await self._broker.startup()
                self._started = True
            async with Redis(connection_pool=self._broker.connection_pool) as conn:
                waiting = await conn.llen(self._broker.queue_name)
            if waiting >= self._settings.max_queue:
                raise Busy(retry_after=5)
            kicker: AsyncKicker[Any, Any] = AsyncKicker(TASK_NAME, self._broker, labels={})
            await kicker.kiq(_payload(job, plan))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("The Redis queue") from exc

    def cancel(self, job_id: str) -> None:
        # The worker holding the job sees its record deleted at its next heartbeat.
        self._local.cancel(job_id)

    async def settled(self, job_id: str, timeout: float) -> bool:
        return False  # the job runs on a worker; its record tells when it ends

    async def close(self) -> None:
        if self._started:
            await self._broker.shutdown()
        await self._local.close()


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
    the environment, voices loaded at start-up and kept, one job at a time per process."""
    settings = Settings()
    broker = make_broker(settings)
    parts: dict[str, Any] = {}

    async def startup(state: TaskiqState) -> None:
        speech = SpeechService(settings)
        pool = InProcessRunner(1, 1_000_000, None)
        await pool.run(speech.warm_up)
        store = build_store(settings)
        parts.update(
            speech=speech,
            pool=pool,
            store=store,
            synthesis=JobSynthesis(settings, speech, store, time.time),
        )

    async def shutdown(state: TaskiqState) -> None:
        if parts:
            await parts["pool"].close()
            await parts["store"].close()
            parts["speech"].close()

    async def synthesize(payload: dict[str, Any]) -> None:
        speech: SpeechService = parts["speech"]
        synthesis: JobSynthesis = parts["synthesis"]
        pool: InProcessRunner = parts["pool"]
        try:
            plan = speech.plan(
                payload["text"],
                voice=payload["voice"],
                format=payload["format"],
                speed=payload["speed"],
            )
        except SayfileError as exc:
            extension = audio_format(payload["format"]).extension
            await synthesis.fail(payload["job_id"], extension, str(exc))
            return
        await synthesis.run(payload["job_id"], plan, pool.run)

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    broker.register_task(synthesize, task_name=TASK_NAME)
    return broker
