"""The embedded runner: a bounded pool of synthesis threads in the API process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sayfile.errors import Busy
from sayfile.jobs import Job
from sayfile.service import SpeechPlan
from sayfile.synthesis import JobSynthesis

T = TypeVar("T")


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
        self._cancels: dict[str, threading.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

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
        cancel = self._cancels[job.id] = threading.Event()
        task = self._tasks[job.id] = asyncio.create_task(self._job(job.id, plan, cancel))
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    async def _job(self, job_id: str, plan: SpeechPlan, cancel: threading.Event) -> None:
        assert self._synthesis is not None
        try:
            await self._synthesis.run(job_id, plan, self.run, cancel=cancel, slot=self._slots)
        finally:
            self._cancels.pop(job_id, None)
            self.release()

    def cancel(self, job_id: str) -> None:
        event = self._cancels.get(job_id)
        if event is not None:
            event.set()

    async def settled(self, job_id: str, timeout: float) -> bool:
        task = self._tasks.get(job_id)
        if task is None or task.done():
            return False
        await asyncio.wait({task}, timeout=timeout)
        return True

    async def close(self) -> None:
        for event in self._cancels.values():
            event.set()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
