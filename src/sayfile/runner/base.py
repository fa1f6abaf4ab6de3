"""The runner interface: where synthesis happens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sayfile.jobs import Job
from sayfile.service import SpeechPlan

T = TypeVar("T")


class Runner(Protocol):
    """Runs synthesis for the API process.

    - `enqueue(job, plan)` starts synthesizing a job already recorded as queued, here or on
      a worker; raises Busy when the queue is full, StoreUnavailable when the queue is away.
    - `cancel(job_id)` stops a job running in this process at once (jobs elsewhere notice
      the deleted record by themselves).
    - `admit()` / `release()` hold a place for work done here outside jobs (streams);
      `admit` raises Busy when full. `run(fn)` awaits blocking `fn()` on this process's
      synthesis threads, the only place blocking work runs.
    - `settled(job_id, timeout)` waits up to `timeout` for a job running or queued in this
      process to end and returns True; it returns False at once for a job it does not hold
      (one on a worker elsewhere), whose record the caller then polls.
    - `depth` is how much work this runner holds; `close()` stops it.
    """

    def admit(self) -> None: ...

    def release(self) -> None: ...

    @property
    def depth(self) -> int: ...

    async def run(self, fn: Callable[[], T]) -> T: ...

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None: ...

    def cancel(self, job_id: str) -> None: ...

    async def settled(self, job_id: str, timeout: float) -> bool: ...

    async def close(self) -> None: ...
