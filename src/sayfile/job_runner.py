"""Running one job to its end in whichever process holds it: started, synthesized into its
file with heartbeats, and finished or failed, all through the lifecycle."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket

from sayfile.chapters import chapter_marks, mark_chapters
from sayfile.errors import SayfileError
from sayfile.events import DELETED, JobEvents
from sayfile.files import AudioFiles
from sayfile.jobs import FailureReason, Job
from sayfile.lifecycle import JobLifecycle
from sayfile.remuxing import RemuxExecutor
from sayfile.scheduler import Lane, SentenceExecutor
from sayfile.synthesizer import SpeechPlan, Synthesizer

log = logging.getLogger(__name__)

# Writing failed for lack of space: full file system, quota, or file size limit.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_INTERRUPTED = "stopped before it finished because the server shut down; please submit it again"


class JobRunner:
    """Runs jobs for one process (the API's own, or a `sayfile worker`'s)."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        executor: SentenceExecutor,
        lifecycle: JobLifecycle,
        events: JobEvents,
        files: AudioFiles,
        worker_timeout_seconds: float,
        remux: RemuxExecutor | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.remux = remux or RemuxExecutor()
        self.executor = executor
        self.lifecycle = lifecycle
        self.events = events
        self.files = files
        # A few beats per worker timeout: enough that one late beat is not taken for death.
        self._beat_s = max(1.0, worker_timeout_seconds / 4)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, job: Job, plan: SpeechPlan) -> None:
        """Run `job` (recorded as queued) for `plan` until it is done, failed or cancelled.
        Deleting its record (cancelling) stops it at its next step; cancelling this task
        (the process shutting down) fails it as interrupted."""
        if await self.lifecycle.start(job.id, self._worker) is None:
            return  # cancelled or failed before its turn came
        extension = plan.format.extension
        progress = [0.0]
        work = asyncio.current_task()
        assert work is not None
        stop = _Stop(work)
        watchers = [
            asyncio.create_task(self._beat(job.id, progress, stop)),
            asyncio.create_task(self._watch(job.id, stop)),
        ]

        async def report(fraction: float) -> None:
            progress[0] = fraction
            await self.lifecycle.progress(job.id, fraction)

        lane = Lane.interactive if job.interactive else Lane.background
        turn = self.executor.turn(lane, job.client or "")
        try:
            path = self.files.path(job.id, extension)
            result = await self.synthesizer.write(plan, path, turn, report)
            size = result.bytes
            # A book's chapters, marked in the file before anyone can fetch it.
            marks = chapter_marks(result.timings)
            if marks:
                marked = await self.remux.run(mark_chapters, path, plan.format, marks, job.stem)
                if marked:
                    size = (await asyncio.to_thread(path.stat)).st_size
            await asyncio.to_thread(self.files.write_timings, job.id, result.timings.to_json())
            if await self.lifecycle.finish(job.id, size, result.duration_s) is None:
                self.files.remove(job.id, extension)  # cancelled or failed meanwhile
        except asyncio.CancelledError:
            # Deleted or failed elsewhere: failing does nothing. Else this process is stopping.
            await self._fail(job.id, extension, FailureReason.interrupted, _INTERRUPTED)
            if not stop.requested:
                raise
        except OSError as exc:
            if exc.errno not in _NO_SPACE:
                log.exception("a job failed writing its file")
                await self._fail(job.id, extension, FailureReason.internal_error, _internal(exc))
            else:
                message = "the server ran out of disk space while writing the audio"
                await self._fail(job.id, extension, FailureReason.disk_full, message)
        except SayfileError as exc:
            await self._fail(job.id, extension, FailureReason.engine_error, str(exc))
        except Exception as exc:
            log.exception("a job failed")  # no job id in logs: it is a capability
            await self._fail(job.id, extension, FailureReason.internal_error, _internal(exc))
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

    async def _fail(self, job_id: str, extension: str, reason: FailureReason, message: str) -> None:
        self.files.remove(job_id, extension)
        await self.lifecycle.fail_for_sure(job_id, reason, message)

    async def _beat(self, job_id: str, progress: list[float], stop: _Stop) -> None:
        while True:
            await asyncio.sleep(self._beat_s)
            try:
                alive = await self.lifecycle.beat(job_id, progress[0])
            except SayfileError:
                continue  # the store is away for a moment; keep working and beat again
            if alive is None:  # deleted, or failed by the sweeper: stop
                stop()
                return

    async def _watch(self, job_id: str, stop: _Stop) -> None:
        with self.events.watch(job_id) as watch:
            while True:
                event = await watch.next(None)
                if event is not None and event.status == DELETED:
                    stop()
                    return


class _Stop:
    """Cancels a job's task because of the job itself (deleted, failed elsewhere), which is
    not the process stopping."""

    def __init__(self, work: asyncio.Task[None]) -> None:
        self._work = work
        self.requested = False

    def __call__(self) -> None:
        self.requested = True
        self._work.cancel()


def _internal(exc: BaseException) -> str:
    return f"internal error ({type(exc).__name__})"
