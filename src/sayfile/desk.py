"""The job orchestrator behind every HTTP route: validate, reuse, queue, run, record, expire.

Routes call only this; it owns the store, the files and the runner, never FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sayfile.errors import (
    Cancelled,
    JobExpired,
    JobFailed,
    JobNotFound,
    JobNotReady,
    SayfileError,
    StorageFull,
)
from sayfile.files import PART, AudioFiles
from sayfile.jobs import Job, JobStatus, cache_key, is_job_id, new_job_id
from sayfile.naming import stem_for
from sayfile.runner import InProcessRunner
from sayfile.service import SpeechPlan, SpeechService
from sayfile.settings import Settings
from sayfile.store import JobStore

log = logging.getLogger(__name__)

# Progress is written to the store at most this often per job.
_PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """What a user asked for, before validation (from JSON, a form, or the CLI)."""

    text: str
    voice: str | None = None
    language: str | None = None
    format: str | None = None
    speed: float = 1.0


@dataclass
class _Running:
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class JobDesk:
    """Takes speech requests and hands back jobs, files and streams."""

    def __init__(
        self,
        settings: Settings,
        speech: SpeechService,
        store: JobStore,
        runner: InProcessRunner,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.speech = speech
        self.store = store
        self.runner = runner
        self.files = AudioFiles(settings.data_dir)
        self._clock = clock
        self._running: dict[str, _Running] = {}
        self._tasks: set[asyncio.Task[None]] = set()

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
        )

    async def submit(self, plan: SpeechPlan, *, one_time: bool = False) -> Job:
        """Create a job for `plan`: a finished identical file is reused at once (a hard link,
        so each job still owns its file); otherwise synthesis is queued. Raises Busy when the
        queue is full and StorageFull when the quota is reached."""
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
        )
        ext = plan.format.extension
        previous = await self.store.find_done(key, now)
        if previous is not None and self.files.link(
            self.files.path(previous.id, ext), self.files.path(job.id, ext)
        ):
            done = job.evolve(
                status=JobStatus.done,
                progress=1.0,
                bytes=previous.bytes,
                duration_s=previous.duration_s,
            )
            await self.store.add(done)
            return done
        if await self.store.stored_bytes(now) >= self.settings.storage_quota_bytes:
            raise StorageFull(self.settings.storage_quota_bytes)
        self.runner.admit()
        try:
            await self.store.add(job)
        except BaseException:
            self.runner.release()
            raise
        running = self._running[job.id] = _Running()
        task = asyncio.create_task(self._synthesize(job, plan, running))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def wait(self, job_id: str, timeout: float) -> Job:
        """Wait until the job has finished (or `timeout` passes), then return its record."""
        running = self._running.get(job_id)
        if running is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.finished.wait(), timeout)
        return await self.get(job_id)

    async def get(self, job_id: str) -> Job:
        """The job's record. Raises JobNotFound for unknown ids."""
        job = await self.store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise JobNotFound()
        if job.status == JobStatus.done and job.expires_at <= self._clock():
            # The sweeper has not come by yet; the link is expired all the same.
            job = job.evolve(status=JobStatus.expired)
        return job

    async def audio(self, job_id: str) -> tuple[Job, Path]:
        """The finished file of a done job. Raises JobNotFound, JobExpired, JobFailed or
        JobNotReady (while queued or running)."""
        job = await self.get(job_id)
        if job.status == JobStatus.expired:
            raise JobExpired()
        if job.status == JobStatus.failed:
            raise JobFailed(job.error or "unknown error")
        if job.status != JobStatus.done:
            raise JobNotReady(job.status.value)
        path = self.files.path(job.id, self.speech_extension(job))
        if not path.is_file():
            raise JobExpired()
        return job, path

    async def downloaded(self, job: Job) -> None:
        """Called after a complete GET of the whole file: one-time links end here."""
        if job.one_time:
            await self.store.update(job.id, status=JobStatus.expired, expires_at=self._clock())
            self.files.remove(job.id, self.speech_extension(job))

    async def cancel(self, job_id: str) -> None:
        """Stop a queued or running job, or delete a finished one; its record goes too."""
        job = await self.get(job_id)
        running = self._running.get(job.id)
        if running is not None:
            running.cancel.set()
        await self.store.delete(job.id)
        self.files.remove(job.id, self.speech_extension(job))

    async def stream(self, plan: SpeechPlan) -> AsyncIterator[bytes]:
        """Encoded audio piece by piece as each sentence is synthesized (on the runner's
        threads); stopping iteration (a client gone) stops synthesis at the next sentence."""
        self.runner.admit()
        pieces = self.speech.stream(plan)
        try:
            while True:
                piece = await self.runner.run(lambda: next(pieces, None))
                if piece is None:
                    break
                yield piece
        finally:
            await self.runner.run(pieces.close)
            self.runner.release()

    @staticmethod
    def speech_extension(job: Job) -> str:
        from sayfile.audio import audio_format

        return audio_format(job.format).extension

    # -- running --------------------------------------------------------------------------

    async def _synthesize(self, job: Job, plan: SpeechPlan, running: _Running) -> None:
        loop = asyncio.get_running_loop()
        path = self.files.path(job.id, plan.format.extension)
        last = 0.0

        def progress(fraction: float) -> None:
            nonlocal last
            if running.cancel.is_set():
                raise Cancelled()
            now = time.monotonic()
            if now - last >= _PROGRESS_EVERY_S and fraction < 1.0:
                last = now
                asyncio.run_coroutine_threadsafe(
                    self.store.update(job.id, progress=round(fraction, 4)), loop
                )

        try:
            await self.store.update(job.id, status=JobStatus.running)
            result = await self.runner.run(lambda: self.speech.write(plan, path, progress))
            if running.cancel.is_set():
                raise Cancelled()
            updated = await self.store.update(
                job.id,
                status=JobStatus.done,
                progress=1.0,
                bytes=result.bytes,
                duration_s=round(result.duration_s, 3),
                expires_at=self._clock() + self.settings.ttl_seconds,
            )
            if updated is None:  # deleted while we worked
                path.unlink(missing_ok=True)
        except Cancelled:
            self.files.remove(job.id, plan.format.extension)
        except SayfileError as exc:
            await self._fail(job, str(exc))
        except Exception as exc:
            log.exception("job %s failed", job.id)
            await self._fail(job, f"internal error ({type(exc).__name__})")
        finally:
            self.runner.release()
            running.finished.set()
            self._running.pop(job.id, None)

    async def _fail(self, job: Job, message: str) -> None:
        self.files.remove(job.id, self.speech_extension(job))
        await self.store.update(
            job.id,
            status=JobStatus.failed,
            error=message,
            expires_at=self._clock() + self.settings.ttl_seconds,
        )

    # -- lifetime -------------------------------------------------------------------------

    async def start(self) -> None:
        """Prepare the data folder and reconcile it with the records (after a crash too)."""
        self.files.ensure()
        for job in await self.store.unfinished():
            if job.id not in self._running:
                await self._fail(job, "interrupted by a server restart; please submit again")
        await self.sweep()

    async def sweep(self) -> int:
        """Expire what is due, forget old records, and remove files nobody owns: stale
        `.part` files, files without a done job. Returns the number of files deleted."""
        now = self._clock()
        deleted = 0
        for job in await self.store.due(now):
            self.files.remove(job.id, self.speech_extension(job))
            await self.store.update(job.id, status=JobStatus.expired)
            deleted += 1
        for job in await self.store.stale_records(now - self.settings.record_ttl_seconds):
            await self.store.delete(job.id)
        ids = await self.store.all_ids()
        for path in self.files.listing():
            owner = self.files.job_id_of(path)
            if owner in self._running:
                continue
            if path.name.endswith(PART) or owner is None or owner not in ids:
                path.unlink(missing_ok=True)
                deleted += 1
                continue
            record = await self.store.get(owner)
            if record is None or record.status != JobStatus.done:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    async def close(self) -> None:
        for running in self._running.values():
            running.cancel.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
