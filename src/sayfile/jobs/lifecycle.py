"""The one owner of a job's life: every change of a job's status goes through here, only
along `sayfile.store.records.TRANSITIONS`, as a compare-and-set in the store, announced as an
event."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sayfile.errors import DiskFull, EngineError, Interrupted, SayfileError, WorkerLost
from sayfile.jobs.events import DELETED, JobEvent, JobEvents
from sayfile.lru_map import KEPT_JOBS, LruMap
from sayfile.speech.pace import PaceBook
from sayfile.store import JobStore
from sayfile.store.records import FailureReason, Job, JobStatus

# Progress of a working job is announced at most this often (the record is written only with
# a heartbeat).
_PROGRESS_EVERY_S = 0.25


def failure_error(job: Job) -> SayfileError:
    """The error a caller waiting for `job` (failed) gets: the one table from reasons."""
    message = job.error or "unknown error"
    match job.reason:
        case FailureReason.disk_full:
            return DiskFull()
        case FailureReason.interrupted:
            return Interrupted(message)
        case FailureReason.worker_lost | FailureReason.not_picked_up:
            return WorkerLost(message)
        case _:
            return EngineError(message)


class JobLifecycle:
    """Records jobs and moves them from status to status; publishes what happened."""

    def __init__(
        self,
        store: JobStore,
        events: JobEvents,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        pace: PaceBook | None = None,
    ) -> None:
        self.store = store
        # The pace of each voice, from the jobs finished here: what time left is told from.
        self.pace = pace or PaceBook()
        self.events = events
        self._ttl = ttl_seconds
        self._clock = clock
        # Jobs this process runs, with when their progress was last announced.
        # (Bounded: a job whose end this process never hears of must not stay for ever.)
        self._announced: LruMap[str, float] = LruMap(KEPT_JOBS)

    async def add(self, job: Job) -> None:
        """Record a new job (queued, or done when it reuses a finished file)."""
        await self.store.add(job)

    async def _move(self, job_id: str, status: JobStatus, **fields: Any) -> Job | None:
        job = await self.store.change(job_id, status.comes_from, status=status, **fields)
        if job is not None:
            if status == JobStatus.running:
                self._announced[job_id] = 0.0
            else:
                self._announced.pop(job_id, None)
            await self.events.publish(JobEvent(job_id, status.value, job.progress))
        return job

    async def start(self, job_id: str, worker: str) -> Job | None:
        """queued -> running, in `worker` ("host:pid"); None when the job is no longer
        queued (cancelled, or failed meanwhile): then it must not run."""
        now = self._clock()
        return await self._move(
            job_id, JobStatus.running, heartbeat_at=now, worker=worker, started_at=now
        )

    async def beat(self, job_id: str, progress: float) -> Job | None:
        """A running job's heartbeat with its progress; None when it is no longer running
        (deleted, or failed by the sweeper): then it must stop."""
        job = await self.store.change(
            job_id,
            {JobStatus.running},
            heartbeat_at=self._clock(),
            progress=round(min(progress, 0.999), 4),
        )
        if job is None:
            self._announced.pop(job_id, None)
        return job

    async def progress(self, job_id: str, fraction: float) -> None:
        """Announce progress (not written to the store) of a job this process started and
        that has not ended; a few times a second at most."""
        now = time.monotonic()
        last = self._announced.get(job_id)
        if last is not None and now - last >= _PROGRESS_EVERY_S:
            self._announced[job_id] = now
            await self.events.publish(
                JobEvent(job_id, JobStatus.running.value, round(min(fraction, 0.999), 4))
            )

    async def finish(
        self, job_id: str, bytes_: int, duration_s: float, ttl_seconds: float | None = None
    ) -> Job | None:
        """running -> done, downloadable for `ttl_seconds` from now (default: the TTL of
        short jobs); None when the job was cancelled or failed meanwhile. The time it took
        teaches this process its voice's pace."""
        done = await self._move(
            job_id,
            JobStatus.done,
            progress=1.0,
            bytes=bytes_,
            duration_s=round(duration_s, 3),
            heartbeat_at=None,
            expires_at=self._clock() + (self._ttl if ttl_seconds is None else ttl_seconds),
        )
        if done is not None and done.started_at is not None:
            self.pace.learn(done.voice, done.chars, self._clock() - done.started_at)
        return done

    async def fail(self, job_id: str, reason: FailureReason, message: str) -> Job | None:
        """queued or running -> failed; nothing happens to a job already finished or gone."""
        return await self._move(
            job_id,
            JobStatus.failed,
            error=message,
            reason=reason,
            heartbeat_at=None,
            expires_at=self._clock() + self._ttl,
        )

    async def expire(self, job_id: str, now: float | None = None) -> Job | None:
        """done or failed -> expired (the file goes; the record answers 410 a while)."""
        fields: dict[str, Any] = {} if now is None else {"expires_at": now}
        return await self._move(job_id, JobStatus.expired, **fields)

    async def delete(self, job_id: str) -> None:
        """Forget the record (a cancelled or deleted job); whoever runs it stops."""
        await self.store.delete(job_id)
        self._announced.pop(job_id, None)
        await self.events.publish(JobEvent(job_id, DELETED))
