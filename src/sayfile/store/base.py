"""The job store interface; every backend passes the same contract tests."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from sayfile.store.records import Job, JobStatus


class JobStore(Protocol):
    """Where job records live, shared by every process that serves or runs jobs.

    - `add(job)` stores a new record; `get(id)` returns it or None.
    - `change(id, expected, **fields)` changes fields of the record only while its status is
      one of `expected` (compare-and-set, atomic against every other writer) and returns the
      new record, or None when the record is gone or in another status. It never resurrects
      a deleted record. Whether a status may move at all is `sayfile.store.records.TRANSITIONS`'
      business, checked by the caller (`sayfile.jobs.lifecycle`).
    - `find_done(key, now)` returns a done, unexpired job with that cache key, if any.
    - `due(now)` returns done or failed jobs whose expiry has passed;
      `stale_records(before)` returns expired jobs whose record may now be forgotten.
    - `unfinished()` lists queued and running jobs.
    - `active_count(client)` counts the queued and running jobs of one client (kept
      incrementally, not by listing).
    - `stored_bytes(now)` is the total size of the done, unexpired files.
    - `delete(id)` forgets a record.
    - `status_counts()` counts records by status (every status present, zeros included);
      `ping()` checks the store answers.
    - `try_lock(name, seconds, token=None)` returns a token to exactly one caller until
      `unlock(name, token)` or until `seconds` pass, None to the others (one sweeper at a
      time, one process per part of a book); the caller may bring its own `token` (a new
      random one is made otherwise), so that after an answer lost on the way it can still
      find the lock is its own; `extend_lock(name, token, seconds)` keeps a lock still held
      `seconds` more, False when it was lost.
    - `close()` releases connections. Every method raises StoreUnavailable when the store
      cannot be reached.
    """

    async def add(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None: ...

    async def find_done(self, key: str, now: float) -> Job | None: ...

    async def due(self, now: float) -> list[Job]: ...

    async def stale_records(self, before: float) -> list[Job]: ...

    async def unfinished(self) -> list[Job]: ...

    async def active_count(self, client: str) -> int: ...

    async def stored_bytes(self, now: float) -> int: ...

    async def delete(self, job_id: str) -> None: ...

    async def status_counts(self) -> dict[str, int]: ...

    async def ping(self) -> None: ...

    async def try_lock(self, name: str, seconds: float, token: str | None = None) -> str | None: ...

    async def unlock(self, name: str, token: str) -> None: ...

    async def extend_lock(self, name: str, token: str, seconds: float) -> bool: ...

    async def close(self) -> None: ...


__all__ = ["JobStatus", "JobStore"]
