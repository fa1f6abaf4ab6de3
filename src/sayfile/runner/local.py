"""The embedded runner: a bounded pool of synthesis threads in the API process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from sayfile.errors import Busy
from sayfile.jobs import Job
from sayfile.service import SpeechPlan
from sayfile.synthesis import JobSynthesis

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Held:
    """A job this runner holds until it ends: its task, and the event that stops it."""

    task: asyncio.Task[None]
    cancel: threading.Event


class InProcessRunner:
    """`workers` threads; at most `max_queue` jobs and streams admitted at once; jobs take one
    of `workers` slots while synthesizing so queued ones stay `queued`."""

    def __init__(self, workers: int, max_queue: int, synthesis: JobSynthesis | None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth")
        self._max = max_queue
        self._admitted = 0
        self._lock = threading.Lock()
        self._slots = asyncio.Semaphore(workers)
        self._synthesis = synthesis
        self._held: dict[str, _Held] = {}

    def admit(self) -> None:
        with self._lock:
            if self._admitted >= self._max:
                raise Busy(retry_after=5)
            self._admitted += 1

    def release(self) -> None:
        with self._lock:
            self._admitted -= 1

    @property
    def depth(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        assert self._synthesis is not None, "this runner only runs blocking calls"
        self.admit()
        cancel = threading.Event()
        task = asyncio.create_task(self._job(job.id, plan, cancel))
        self._held[job.id] = _Held(task, cancel)
        task.add_done_callback(lambda _: self._held.pop(job.id, None))

    async def _job(self, job_id: str, plan: SpeechPlan, cancel: threading.Event) -> None:
        assert self._synthesis is not None
        try:
            await self._synthesis.run(job_id, plan, self.run, cancel=cancel, slot=self._slots)
        finally:
            self.release()

    def cancel(self, job_id: str) -> None:
        held = self._held.get(job_id)
        if held is not None:
            held.cancel.set()

    async def settled(self, job_id: str, timeout: float) -> bool:
        held = self._held.get(job_id)
        if held is None or held.task.done():
            return False
        await asyncio.wait({held.task}, timeout=timeout)
        return True

    async def close(self) -> None:
        held = list(self._held.values())
        for job in held:
            job.cancel.set()
        if held:
            await asyncio.gather(*(job.task for job in held), return_exceptions=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
