"""A job store held in one process's memory: the contract of `JobStore` with no file and no
server, for unit tests of everything above the store (runners, sweeper, quota, admission),
where faults are injected by wrapping it. Nothing is kept when the process ends, so it is
never chosen by `build_store`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection
from typing import Any

from sayfile.store.records import Job, JobStatus

_ACTIVE = (JobStatus.queued, JobStatus.running)


class MemoryJobStore:
    """Records in a dict, locks in another; `clock` (seconds, like `time.time`) decides when
    a lock has lapsed, so tests can move time on instead of sleeping."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        # lock name -> (token, held until)
        self._locks: dict[str, tuple[str, float]] = {}

    async def add(self, job: Job) -> None:
        if job.id in self._jobs:
            raise ValueError("a job with this id is already stored")
        self._jobs[job.id] = job

    async def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.status not in expected:
            return None
        new = job.evolve(**fields)
        self._jobs[job_id] = new
        return new

    async def find_done(self, key: str, now: float) -> Job | None:
        found = [
            job
            for job in self._jobs.values()
            if job.key == key and job.status == JobStatus.done and job.expires_at > now
        ]
        return max(found, key=lambda job: job.expires_at, default=None)

    async def due(self, now: float) -> list[Job]:
        return [
            job
            for job in self._jobs.values()
            if job.status in (JobStatus.done, JobStatus.failed) and job.expires_at <= now
        ]

    async def stale_records(self, before: float) -> list[Job]:
        return [
            job
            for job in self._jobs.values()
            if job.status == JobStatus.expired and job.expires_at <= before
        ]

    async def unfinished(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.status in _ACTIVE]

    async def active_count(self, client: str) -> int:
        return sum(1 for j in self._jobs.values() if j.client == client and j.status in _ACTIVE)

    async def stored_bytes(self, now: float) -> int:
        return sum(
            job.bytes or 0
            for job in self._jobs.values()
            if job.status == JobStatus.done and job.expires_at > now
        )

    async def delete(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    async def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys((status.value for status in JobStatus), 0)
        for job in self._jobs.values():
            counts[job.status.value] += 1
        return counts

    async def ping(self) -> None:
        return None

    async def try_lock(self, name: str, seconds: float, token: str | None = None) -> str | None:
        now = self._clock()
        held = self._locks.get(name)
        if held is not None and held[1] > now:
            return None
        token = token or secrets.token_hex(16)
        self._locks[name] = (token, now + seconds)
        return token

    async def unlock(self, name: str, token: str) -> None:
        held = self._locks.get(name)
        if held is not None and held[0] == token:
            del self._locks[name]

    async def extend_lock(self, name: str, token: str, seconds: float) -> bool:
        held = self._locks.get(name)
        if held is None or held[0] != token:
            return False
        self._locks[name] = (token, self._clock() + seconds)
        return True

    async def close(self) -> None:
        return None
