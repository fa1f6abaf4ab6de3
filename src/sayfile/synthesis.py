"""Running one job to its end, in whichever process holds it: progress and heartbeat into the
store, the file written atomically, cancellation noticed, the final state recorded."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from sayfile.errors import Cancelled, DiskFull, SayfileError
from sayfile.files import AudioFiles
from sayfile.jobs import Job, JobStatus
from sayfile.service import SpeechPlan, SpeechResult, SpeechService
from sayfile.settings import Settings
from sayfile.store import JobStore

log = logging.getLogger(__name__)

# How often a working job writes its progress and heartbeat to the store.
PULSE_S = 0.25
# Writing failed for lack of space: full file system, quota, or file size limit.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class JobSynthesis:
    """Synthesizes jobs for one process (the API's threads or a `sayfile worker`)."""

    def __init__(
        self,
        settings: Settings,
        speech: SpeechService,
        store: JobStore,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.speech = speech
        self.store = store
        self.files = AudioFiles(settings.data_dir)
        self.clock = clock

    async def run(
        self,
        job_id: str,
        plan: SpeechPlan,
        run_blocking: Callable[[Callable[[], SpeechResult]], Awaitable[SpeechResult]],
        cancel: threading.Event | None = None,
        slot: contextlib.AbstractAsyncContextManager[object] | None = None,
    ) -> None:
        """Run the job `job_id` for `plan`. A pulse keeps `heartbeat_at` fresh from now on
        (while waiting for `slot`, a free synthesis place, too, but less often). Deleting the
        record cancels the job at its next sentence."""
        cancel = cancel or threading.Event()
        progress = [0.0]
        started = asyncio.Event()
        pulse = asyncio.create_task(self._pulse(job_id, progress, cancel, started))
        path = self.files.path(job_id, plan.format.extension)

        def report(fraction: float) -> None:
            if cancel.is_set():
                raise Cancelled()
            progress[0] = fraction

        try:
            async with slot or contextlib.nullcontext():
                started.set()
                await self._work(job_id, plan, path, run_blocking, report, cancel)
        except Cancelled:
            # Deleted: nothing to record. Still there: this process is shutting down.
            await self.fail(
                job_id,
                plan.format.extension,
                "stopped before it finished because the server shut down; please submit it again",
                "interrupted",
            )
        except DiskFull as exc:
            await self.fail(job_id, plan.format.extension, str(exc), "disk_full")
        except SayfileError as exc:
            await self.fail(job_id, plan.format.extension, str(exc), "engine_error")
        except Exception as exc:
            log.exception("job %s failed", job_id)
            await self.fail(
                job_id,
                plan.format.extension,
                f"internal error ({type(exc).__name__})",
                "internal_error",
            )
        finally:
            pulse.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pulse

    async def _work(
        self,
        job_id: str,
        plan: SpeechPlan,
        path: Path,
        run_blocking: Callable[[Callable[[], SpeechResult]], Awaitable[SpeechResult]],
        report: Callable[[float], None],
        cancel: threading.Event,
    ) -> None:
        if cancel.is_set():
            raise Cancelled()
        running = await self.store.update(
            job_id,
            status=JobStatus.running,
            heartbeat_at=self.clock(),
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        if running is None or running.status != JobStatus.running:
            raise Cancelled()
        try:
            result = await run_blocking(lambda: self.speech.write(plan, path, report))
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                raise DiskFull() from exc
            raise
        if cancel.is_set():
            raise Cancelled()
        done = await self.store.update(
            job_id,
            status=JobStatus.done,
            progress=1.0,
            bytes=result.bytes,
            duration_s=round(result.duration_s, 3),
            heartbeat_at=None,
            expires_at=self.clock() + self.settings.ttl_seconds,
        )
        if done is None:  # deleted while we worked
            raise Cancelled()

    async def _pulse(
        self,
        job_id: str,
        progress: list[float],
        cancel: threading.Event,
        started: asyncio.Event,
    ) -> None:
        # Waiting for a synthesis place, a job has no progress to report, only its heartbeat:
        # a few beats per worker timeout then, not four a second (a record write each).
        waiting_beat = max(PULSE_S, self.settings.worker_timeout_seconds / 4)
        while True:
            try:
                job = await self.store.update(
                    job_id, progress=round(min(progress[0], 0.999), 4), heartbeat_at=self.clock()
                )
            except SayfileError:
                pass  # the store is away for a moment; keep working and beat again
            else:
                if job is None:
                    cancel.set()
                    return
            if started.is_set():
                await asyncio.sleep(PULSE_S)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(started.wait(), waiting_beat)

    async def fail(
        self, job_id: str, extension: str, message: str, code: str = "worker_lost"
    ) -> None:
        """Record a failure: no file, a clear error, and the usual lifetime for the record.
        Does nothing to a deleted record."""
        self.files.remove(job_id, extension)
        await self.store.update(
            job_id,
            status=JobStatus.failed,
            error=message,
            error_code=code,
            heartbeat_at=None,
            expires_at=self.clock() + self.settings.ttl_seconds,
        )

    def stale(self, job: Job, now: float) -> str | None:
        """Why an unfinished job is considered dead, or None while it is alive."""
        if job.heartbeat_at is not None:
            if job.heartbeat_at < now - self.settings.worker_timeout_seconds:
                return (
                    "the worker synthesizing this job stopped (it crashed or was killed); "
                    "please submit it again"
                )
        elif job.created_at < now - self.settings.queued_timeout_seconds:
            return "no worker picked this job up in time; check that `sayfile worker` is running"
        return None
