"""The embedded queue: every job runs as a task of this process, taking its turns on the
process's sentence executor; a book runs as a few tasks taking turns at its parts."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from sayfile.jobs.admission import Admission
from sayfile.runners.book_runner import BookRunner
from sayfile.runners.job_runner import JobRunner
from sayfile.speech.plan import SpeechPlan
from sayfile.store.records import Job
from sayfile.task_stopping import stop_task


class InProcessJobQueue:
    """Jobs run here at once; the admission's places bound how many there are. A book takes
    one place, and makes up to `book_turns` parts at a time (one per sentence thread keeps
    every thread busy, as each part's sentences queue ahead of it)."""

    def __init__(
        self, runner: JobRunner, books: BookRunner, admission: Admission, book_turns: int
    ) -> None:
        self._runner = runner
        self._books = books
        self._admission = admission
        self._book_turns = max(1, book_turns)
        self._tasks: dict[str, set[asyncio.Task[None]]] = {}

    @property
    def depth(self) -> int:
        return len(self._tasks)

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        self._start(job.id, [self._runner.run(job, plan)])

    async def enqueue_book(self, job: Job, turns: int) -> None:
        count = max(1, min(turns, self._book_turns))
        self._start(job.id, [self._book(job.id) for _ in range(count)])

    async def _book(self, job_id: str) -> None:
        while await self._books.turn(job_id):
            pass

    def _start(self, job_id: str, works: list[Coroutine[Any, Any, None]]) -> None:
        ticket = self._admission.enter()
        running = {asyncio.create_task(work) for work in works}
        self._tasks.setdefault(job_id, set()).update(running)

        def ended(done: asyncio.Task[None]) -> None:
            running.discard(done)
            if not running:
                ticket.release()  # one place for the whole call
            held = self._tasks.get(job_id)
            if held is not None:
                held.discard(done)
                if not held:
                    del self._tasks[job_id]

        for task in running:
            task.add_done_callback(ended)

    def cancel(self, job_id: str) -> None:
        for task in list(self._tasks.get(job_id, ())):
            task.cancel()

    async def close(self) -> None:
        tasks = [task for group in self._tasks.values() for task in group]
        await asyncio.gather(*(stop_task(task) for task in tasks))
