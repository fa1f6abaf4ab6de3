"""The job queue interface: where a recorded job waits for synthesis, and where it runs."""

from __future__ import annotations

from typing import Protocol

from sayfile.speech.plan import SpeechPlan
from sayfile.store.records import Job


class JobQueue(Protocol):
    """Hands jobs to whoever synthesizes them.

    - `enqueue(job, plan)` starts a job already recorded as queued (here, or by handing it
      to a worker); raises Busy when the queue is full, StoreUnavailable when it is away.
    - `enqueue_book(job, turns)` gives a book (its parts in its folder) `turns` turns at
      once; each turn makes one part, and a turn that leaves parts nobody holds is followed
      by another. Resuming a book is the same call.
    - `cancel(job_id)` stops a job running in this process at once; a job running elsewhere
      stops when its worker hears that the record was deleted.
    - `depth` is how many jobs this queue holds in this process; `close()` stops it (jobs
      running here fail as interrupted).
    """

    @property
    def depth(self) -> int: ...

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None: ...

    async def enqueue_book(self, job: Job, turns: int) -> None: ...

    def cancel(self, job_id: str) -> None: ...

    async def close(self) -> None: ...
