"""The job orchestrator behind every HTTP route: validate, reuse, queue, record, expire.

Routes call only this; it owns the store, the files and the runner, never FastAPI.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sayfile.audio import audio_format
from sayfile.errors import (
    Cancelled,
    JobExpired,
    JobFailed,
    JobNotFound,
    JobNotReady,
    StorageFull,
    TooManyActive,
)
from sayfile.files import PART, AudioFiles
from sayfile.jobs import Job, JobStatus, cache_key, is_job_id, new_job_id
from sayfile.naming import stem_for
from sayfile.runner import Runner
from sayfile.service import SpeechPlan, SpeechService
from sayfile.settings import Settings
from sayfile.store import JobStore
from sayfile.synthesis import JobSynthesis

log = logging.getLogger(__name__)

# How often `wait` looks at a job record (POST /speech waiting for its job).
_WAIT_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """What a user asked for, before validation (from JSON, a form, or the CLI)."""

    text: str
    voice: str | None = None
    language: str | None = None
    format: str | None = None
    speed: float = 1.0
    engine: str | None = None


def _extension(job: Job) -> str:
    return audio_format(job.format).extension


class JobDesk:
    """Takes speech requests and hands back jobs, files and streams."""

    def __init__(
        self,
        settings: Settings,
        speech: SpeechService,
        store: JobStore,
        runner: Runner,
        synthesis: JobSynthesis,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.speech = speech
        self.store = store
        self.runner = runner
        self.synthesis = synthesis
        self.files = AudioFiles(settings.data_dir)
        self._clock = clock
        self._streams: dict[str, int] = {}  # client -> streams running in this process

    # -- requests -------------------------------------------------------------------------

    def plan(self, request: SpeechRequest, max_chars: int) -> SpeechPlan:
        """Validate a request; raises InvalidInput naming the problem."""
        return self.speech.plan(
            request.text,
            voice=request.voice,
            language=request.language,
            format=request.format,
            speed=request.speed,
            max_chars=max_chars,
            engine=request.engine,
        )

    async def submit(
        self, plan: SpeechPlan, *, one_time: bool = False, client: str | None = None
    ) -> Job:
        """Create a job for `plan`: a finished identical file is reused at once (a hard link,
        so each job still owns its file); otherwise synthesis is queued. Raises Busy when the
        queue is full, TooManyActive when `client` has too much running, StorageFull when
        the quota is reached, StoreUnavailable."""
        now = self._clock()
        key = cache_key(plan.text, plan.voice.id, plan.format.name, plan.speed)
        job = Job(
            id=new_job_id(),
            status=JobStatus.queued,
            format=plan.format.name,
            voice=plan.voice.id,
            key=key,
            stem=stem_for(plan.text),
            created_at=now,
            expires_at=now + self.settings.ttl_seconds,
            one_time=one_time,
            client=client,
        )
        reused = await self._reuse(job, now)
        if reused is not None:
            return reused
        await self._check_active(client)
        if await self.store.stored_bytes(now) >= self.settings.storage_quota_bytes:
            raise StorageFull(self.settings.storage_quota_bytes)
        # The record exists before any file or worker can refer to it. Its heartbeat starts
        # when a process takes the job (a Taskiq queue may hold it a while before that).
        await self.store.add(job)
        try:
            await self.runner.enqueue(job, plan)
        except BaseException:
            await self.store.delete(job.id)
            raise
        return job

    async def _reuse(self, job: Job, now: float) -> Job | None:
        previous = await self.store.find_done(job.key, now)
        if previous is None:
            return None
        done = job.evolve(
            status=JobStatus.done,
            progress=1.0,
            bytes=previous.bytes,
            duration_s=previous.duration_s,
        )
        # Record first, then the file: a sweep in between must not see a file without a job.
        await self.store.add(done)
        ext = _extension(job)
        if self.files.link(self.files.path(previous.id, ext), self.files.path(job.id, ext)):
            return done
        await self.store.delete(job.id)
        return None

    async def _check_active(self, client: str | None) -> None:
        if client is None:
            return
        jobs = sum(1 for job in await self.store.unfinished() if job.client == client)
        if jobs + self._streams.get(client, 0) >= self.settings.max_active_per_client:
            raise TooManyActive(self.settings.max_active_per_client)

    async def wait(self, job_id: str, timeout: float) -> Job:
        """Wait until the job has finished (or `timeout` passes), then return its record."""
        deadline = time.monotonic() + timeout
        job = await self.get(job_id)
        while not job.status.finished and (left := deadline - time.monotonic()) > 0:
            # A job of this process says when it ends; one on a worker elsewhere is polled.
            if not await self.runner.settled(job_id, left):
                await asyncio.sleep(_WAIT_POLL_S)
            job = await self.get(job_id)
        return job

    async def get(self, job_id: str) -> Job:
        """The job's record. Raises JobNotFound for unknown ids."""
        job = await self.store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise JobNotFound()
        if job.status == JobStatus.done and job.expires_at <= self._clock():
            # The sweeper has not come by yet; the link is expired all the same.
            job = job.evolve(status=JobStatus.expired)
        return job

    async def audio(self, job_id: str) -> tuple[Job, BinaryIO]:
        """The finished file of a done job, opened for reading (the caller closes it); once
        open it can be read whole even if the link ends meanwhile. Raises JobNotFound,
        JobExpired, JobFailed or JobNotReady (while queued or running)."""
        job = await self.get(job_id)
        if job.status == JobStatus.expired:
            raise JobExpired()
        if job.status == JobStatus.failed:
            raise JobFailed(job.error or "unknown error", job.error_code)
        if job.status != JobStatus.done:
            raise JobNotReady(job.status.value)
        path = self.files.path(job.id, _extension(job))
        try:
            return job, await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise JobExpired() from None

    async def downloaded(self, job: Job) -> None:
        """Called after a complete GET of the whole file: one-time links end here."""
        if job.one_time:
            await self.store.update(job.id, status=JobStatus.expired, expires_at=self._clock())
            self.files.remove(job.id, _extension(job))

    async def cancel(self, job_id: str) -> None:
        """Stop a queued or running job (wherever it runs), or delete a finished one; its
        record and file go too."""
        job = await self.get(job_id)
        self.runner.cancel(job.id)
        await self.store.delete(job.id)
        self.files.remove(job.id, _extension(job))

    async def stream(
        self, plan: SpeechPlan, client: str | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Encoded audio piece by piece as each sentence is synthesized (always in this
        process). Stopping iteration (a client gone) stops synthesis at the next sentence;
        the place in the queue is given back once the thread has let go."""
        await self._check_active(client)
        self.runner.admit()
        key = client or ""
        self._streams[key] = self._streams.get(key, 0) + 1
        stop = threading.Event()

        def report(_fraction: float) -> None:
            if stop.is_set():
                raise Cancelled()

        pieces = self.speech.stream(plan, report)
        pending: asyncio.Future[bytes | None] | None = None
        try:
            while True:
                pending = asyncio.ensure_future(self.runner.run(lambda: next(pieces, None)))
                # Shielded: a cancelled response must not abandon a thread mid-sentence.
                piece = await asyncio.shield(pending)
                pending = None
                if piece is None:
                    break
                yield piece
        finally:
            stop.set()
            if pending is None or pending.done():
                self._let_go(pending, pieces, key)
            else:
                pending.add_done_callback(lambda future: self._let_go(future, pieces, key))

    def _let_go(
        self, future: asyncio.Future[bytes | None] | None, pieces: Generator[bytes], key: str
    ) -> None:
        if future is not None and not future.cancelled():
            future.exception()  # retrieved: Cancelled, by design
        pieces.close()
        self.runner.release()
        self._streams[key] -= 1
        if not self._streams[key]:
            del self._streams[key]

    # -- lifetime -------------------------------------------------------------------------

    async def start(self) -> None:
        """Prepare the data folder and reconcile it with the records (after a crash too)."""
        self.files.ensure()
        await self.sweep()

    async def sweep(self) -> int:
        """Fail jobs whose process died, expire what is due, forget old records, and remove
        files nobody owns. One process sweeps at a time. Returns the files deleted."""
        # The lock outlives a sweep that hangs, but not the next round by much.
        token = await self.store.try_lock("sweeper", self.settings.sweep_interval_seconds + 60)
        if token is None:
            return 0
        try:
            return await self._sweep()
        finally:
            await self.store.unlock("sweeper", token)

    async def _sweep(self) -> int:
        now = self._clock()
        deleted = 0
        for job in await self.store.unfinished():
            reason = self.synthesis.stale(job, now)
            if reason is not None:
                await self.synthesis.fail(job.id, _extension(job), reason, "worker_lost")
        for job in await self.store.due(now):
            self.files.remove(job.id, _extension(job))
            await self.store.update(job.id, status=JobStatus.expired)
            deleted += 1
        for job in await self.store.stale_records(now - self.settings.record_ttl_seconds):
            await self.store.delete(job.id)
        for path in self.files.listing():
            if await self._orphan(path):
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    async def _orphan(self, path: Path) -> bool:
        owner = self.files.job_id_of(path)
        if owner is None:
            return True
        job = await self.store.get(owner)
        if job is None:
            return True
        if path.name.endswith(PART):
            # Live jobs keep their part file; dead ones were failed above.
            return job.status.finished
        # A final file whose job is still running is being recorded as done right now.
        return job.status in (JobStatus.failed, JobStatus.expired)
