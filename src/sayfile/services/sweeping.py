"""The sweep, one process at a time: jobs whose process died failed (or a book given new turns,
or a job whose file was made whole recorded done), due files expired, old records and files
nobody owns removed; and the recovery at start-up of what an earlier life left unfinished."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from sayfile.errors import Busy, StoreUnavailable
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.queue import JobQueue
from sayfile.settings import Settings
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import FailureReason, Job, JobStatus, is_job_id
from sayfile.whole_files import is_unfinished

log = logging.getLogger(__name__)

# A book nobody works at is handed out again this many times before it fails: more than a
# busy cluster's queue needs, few enough to stop a book whose parts crash every worker.
_MAX_RESUMES = 50
_SWEEPER = "sweeper"  # the store lock of the one process sweeping at a time
_RESTARTED = "interrupted because the server restarted before it finished; please submit it again"
_LOST = (
    "the worker synthesizing this job stopped (it crashed or was killed); please submit it again"
)
_NOT_PICKED_UP = "no worker picked this job up in time; check that `sayfile worker` is running"


class Sweeper:
    """Sweeps the store and the data folder, and recovers at start-up."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        lifecycle: JobLifecycle,
        files: AudioFiles,
        queue: JobQueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        self.queue = queue
        self._clock = clock
        # This process's token for the sweeper lock: an answer lost with the store (a Redis
        # pause) when taking or releasing it must not leave the lock held by nobody known.
        self._token = secrets.token_hex(16)

    async def start(self, interrupted: bool) -> None:
        """Prepare the data folder. With `interrupted` (this process alone runs its store's
        jobs, as the embedded server does), every job left queued or running by an earlier
        life of the process failed: it is marked so at once."""
        self.files.ensure()
        try:
            if interrupted:
                for job in await self.store.unfinished():
                    if job.book and self.files.book_dir(job.id).is_dir():
                        await self._resume(job)  # from its finished parts
                        continue
                    # Files go only once the failure is recorded: a job that ended meanwhile
                    # (done, with its file) keeps what it has.
                    if await self.lifecycle.fail(job.id, FailureReason.interrupted, _RESTARTED):
                        self.files.remove(job.id, job.extension)
            await self.sweep()  # files and records as a crash may have left them
        except StoreUnavailable:
            # Serve anyway: /readyz says the store is away, and the sweeper tries again.
            log.warning("the job store is unreachable at start-up; sweeping once it is back")

    async def sweep(self) -> int:
        """Fail jobs whose process died, expire what is due, delete old records, and remove
        files nobody owns. One process sweeps at a time. Returns the files deleted."""
        # The lock outlives a sweep that hangs, but not the next round by much.
        seconds = self.settings.sweep_interval_seconds + 60
        token = self._token
        # Ours already (taken or kept by a call whose answer was lost: every process would
        # otherwise wait the lock's minute for a sweep), or free: this process sweeps.
        ours = await self.store.extend_lock(_SWEEPER, token, seconds)
        if not ours and await self.store.try_lock(_SWEEPER, seconds, token) is None:
            return 0
        try:
            return await self._sweep()
        finally:
            await self.store.unlock(_SWEEPER, token)

    async def _sweep(self) -> int:
        now = self._clock()
        deleted = 0
        for job in await self.store.unfinished():
            await self._sweep_unfinished(job, now)
        for job in await self.store.due(now):
            # Recorded expired first: a store that fails here leaves a done job with its
            # file, which the next round expires, never a done job whose file is gone.
            await self.lifecycle.expire(job.id)
            self.files.remove(job.id, job.extension)
            deleted += 1
        for job in await self.store.stale_records(now - self.settings.record_ttl_seconds):
            await self.store.delete(job.id)
        for path in await asyncio.to_thread(self.files.listing):
            if await self._unowned(path):
                path.unlink(missing_ok=True)
                deleted += 1
        for path in await asyncio.to_thread(self.files.book_listing):
            if not is_job_id(path.name):
                continue  # not sayfile's
            owner = await self.store.get(path.name)
            if owner is None or owner.status.finished:
                await asyncio.to_thread(self.files.remove_book, path.name)
                deleted += 1
        return deleted

    async def _sweep_unfinished(self, job: Job, now: float) -> None:
        """A queued or running job nobody works at: a book gets new turns (its finished parts
        stay); a job whose file was made whole is recorded done (its runner could not); the
        rest fail, and their files go once that is recorded."""
        if job.book and job.resumes < _MAX_RESUMES and self._turns_lost(job, now):
            # The processes that worked at it are gone, or its turns were lost with them. A
            # queued book may only be waiting in a long queue: one more turn (which starts
            # it) is enough to find out, and jumps the queue by one part at most.
            await self._resume(job, None if job.status == JobStatus.running else 1)
            return
        failure = self._why_dead(job, now)
        if failure is None:
            return
        if job.status == JobStatus.running and not job.book and await self._record_made(job):
            return
        if await self.lifecycle.fail(job.id, *failure) is None:
            return  # it ended meanwhile (perhaps done): its files are its own
        log.info("the sweeper failed a job: %s", failure[0].value)
        self.files.remove(job.id, job.extension)
        if job.book:
            await asyncio.to_thread(self.files.remove_book, job.id)

    def _turns_lost(self, job: Job, now: float) -> bool:
        """A running book whose heartbeat is older than the worker timeout, or a queued one
        that no turn has started for a worker timeout since it was made (or last resumed):
        found by the sweep within a worker timeout and a sweep interval."""
        timeout = self.settings.worker_timeout_seconds
        if job.status == JobStatus.running:
            return job.heartbeat_at is not None and job.heartbeat_at < now - timeout
        return job.created_at < now - timeout * (job.resumes + 1)

    async def _record_made(self, job: Job) -> bool:
        """Record `job` done when its file and timings are there whole (its runner made them
        but could not record it: the store was away); True when it is done now."""
        try:
            made = await asyncio.to_thread(self._whole_file, job)
        except (OSError, ValueError):
            return False
        if made is None:
            return False
        size, duration = made
        done = await self.lifecycle.finish(job.id, size, duration)
        if done is not None:
            log.info("the sweeper recorded a job done whose runner could not")
        return done is not None

    def _whole_file(self, job: Job) -> tuple[int, float] | None:
        """The size and duration of a job's file when it and its timings are whole."""
        path = self.files.path(job.id, job.extension)
        if not path.is_file() or not self.files.timings_path(job.id).is_file():
            return None
        duration = self.files.read_timings(job.id).get("duration")
        if not isinstance(duration, int | float):
            return None
        return path.stat().st_size, float(duration)

    async def _resume(self, job: Job, turns: int | None = None) -> None:
        """Give a book whose turns were lost new ones; its heartbeat starts again now, so the
        next sweep waits a worker timeout before it looks again. A full queue or one that is
        away skips the book this round (the next sweep tries again), never the sweep."""
        resumed = await self.store.change(
            job.id,
            {job.status},
            heartbeat_at=self._clock() if job.status == JobStatus.running else None,
            resumes=job.resumes + 1,
        )
        if resumed is None:
            return
        try:
            await self.queue.enqueue_book(resumed, turns or self.settings.book_turns)
        except (Busy, StoreUnavailable) as exc:
            log.warning("a book could not be given new turns (%s); the next sweep tries", exc)
            return
        log.info("the sweeper gave a book new turns (%d so far)", resumed.resumes)

    def _why_dead(self, job: Job, now: float) -> tuple[FailureReason, str] | None:
        """Why an unfinished job is considered dead, or None while it is alive."""
        if job.heartbeat_at is not None:
            if job.heartbeat_at < now - self.settings.worker_timeout_seconds:
                return FailureReason.worker_lost, _LOST
        elif job.created_at < now - self.settings.queued_timeout_seconds:
            return FailureReason.not_picked_up, _NOT_PICKED_UP
        return None

    async def _unowned(self, path: Path) -> bool:
        """Whether a file in the audio folder belongs to no live job (and may go)."""
        owner = self.files.job_id_of(path)
        if owner is None:
            return True
        job = await self.store.get(owner)
        if job is None:
            return True
        if is_unfinished(path.name):
            # Live jobs keep their unfinished file; dead ones were failed above.
            return job.status.finished
        # A final file whose job is still running is being recorded as done right now.
        return job.status in (JobStatus.failed, JobStatus.expired)
