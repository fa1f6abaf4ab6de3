"""The embedded queue: every job runs as a task of this process, taking its turns on the
process's sentence executor."""

from __future__ import annotations

import asyncio

from sayfile.admission import Admission
from sayfile.job_runner import JobRunner
from sayfile.jobs import Job
from sayfile.synthesizer import SpeechPlan


class InProcessJobQueue:
    """Jobs run here at once; the admission's places bound how many there are."""

    def __init__(self, runner: JobRunner, admission: Admission) -> None:
        self._runner = runner
        self._admission = admission
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def depth(self) -> int:
        return len(self._tasks)

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        ticket = self._admission.enter()
        task = asyncio.create_task(self._runner.run(job, plan))
        self._tasks[job.id] = task

        def ended(_: asyncio.Task[None]) -> None:
            ticket.release()
            self._tasks.pop(job.id, None)

        task.add_done_callback(ended)

    def cancel(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
