"""Running one job to its end in whichever process holds it: started, synthesized into its
file with heartbeats, and finished or failed, all through the lifecycle."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Callable

from sayfile.audio.chapter_marks import chapter_marks_from_timings, mark_chapters
from sayfile.audio.remuxing import RemuxExecutor
from sayfile.errors import SayfileError
from sayfile.jobs.events import JobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.failures import Failure, classify, fail_then_remove, recorded_status
from sayfile.runners.lease import Lease, LeaseLost, LeaseTerms, Why
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane, SentenceExecutor
from sayfile.speech.synthesizer import Synthesizer
from sayfile.store.files import AudioFiles
from sayfile.store.records import FailureReason, Job, JobStatus

log = logging.getLogger(__name__)

_INTERRUPTED = "stopped before it finished because the server shut down; please submit it again"
# A start the store did not answer is tried this many times, a beat apart.
_START_TRIES = 4
_STALLED = (
    "the speech engine finished no sentence for {:.0f} s (SAYFILE_STALL_SECONDS) and was "
    "given up; please submit it again"
)


class JobRunner:
    """Runs jobs for one process (the API's own, or a `sayfile worker`'s)."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        executor: SentenceExecutor,
        lifecycle: JobLifecycle,
        events: JobEvents,
        files: AudioFiles,
        terms: LeaseTerms,
        remux: RemuxExecutor | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.remux = remux or RemuxExecutor()
        self.executor = executor
        self.lifecycle = lifecycle
        self.events = events
        self.files = files
        self.terms = terms
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, job: Job, plan: SpeechPlan) -> None:
        """Run `job` (recorded as queued) for `plan` until it is done, failed or cancelled.
        Deleting its record (cancelling) stops it at once; cancelling this task (the process
        shutting down) fails it as interrupted. A store that is away at a step leaves the
        job to the sweeper; files go only once the failure is recorded."""
        started = await self._start(job)
        if started is None:
            return
        extension = plan.format.extension
        lease = Lease(self.terms, self.lifecycle, self.lifecycle.store, self.events, job.id)
        try:
            size, duration = await lease.run(self._make(job, plan, lease))
        except LeaseLost as lost:
            failure = None
            if lost.why == Why.stalled:
                failure = Failure(FailureReason.engine_error, _STALLED.format(self.terms.stall_s))
            await self._ended(job, extension, failure)
            return
        except asyncio.CancelledError:
            # The process is stopping: one try, no waiting (the sweeper is there after).
            failure = Failure(FailureReason.interrupted, _INTERRUPTED)
            remove = self._remover(job, extension)
            await fail_then_remove(self.lifecycle, job.id, failure, remove, tries=1)
            raise
        except Exception as exc:
            await self._ended(job, extension, classify(exc))
            return
        await self._finish(job, extension, size, duration)

    async def _make(self, job: Job, plan: SpeechPlan, lease: Lease) -> tuple[int, float]:
        """The job's file and timings, whole under their final names: (bytes, seconds)."""

        async def report(fraction: float) -> None:
            lease.advanced(fraction)
            await self.lifecycle.progress(job.id, fraction)

        lane = Lane.interactive if job.interactive else Lane.background
        turn = self.executor.turn(lane, job.client or "")
        path = self.files.path(job.id, plan.format.extension)
        result = await self.synthesizer.write(plan, path, turn, report)
        size = result.bytes
        timings = result.timings
        # A book's chapters, marked in the file before anyone can fetch it. A book's timings
        # (a word each) are read and written off the event loop.
        marks = await asyncio.to_thread(chapter_marks_from_timings, timings)
        if marks:
            marked = await self.remux.run(mark_chapters, path, plan.format, marks, job.stem)
            if marked:
                size = (await asyncio.to_thread(path.stat)).st_size

        def write_timings() -> None:
            self.files.write_timings(job.id, timings.to_json())

        await asyncio.to_thread(write_timings)
        return size, result.duration_s

    async def _finish(self, job: Job, extension: str, size: int, duration: float) -> None:
        try:
            done = await self.lifecycle.finish(job.id, size, duration)
        except SayfileError as exc:
            # It may have been stored before the answer was lost: the record says.
            if await recorded_status(self.lifecycle.store, job.id) == JobStatus.done:
                log.info("a job was made (its end was recorded despite %s)", exc)
            else:
                log.warning("a job was made but its end not recorded (%s); the sweeper will", exc)
            return
        if done is not None:
            log.info("a job was made: %d bytes, %.1f s of audio", size, duration)
        else:
            await self._ended(job, extension, None)

    async def _ended(self, job: Job, extension: str, failure: Failure | None) -> None:
        """The job ended without finishing: record `failure` and then remove its files; with
        no failure to record (deleted, failed elsewhere, the store away), remove them only
        once the record says they are not wanted."""
        remove = self._remover(job, extension)
        if failure is not None:
            await fail_then_remove(self.lifecycle, job.id, failure, remove, self.terms.wait)
            log.info("a job failed: %s", failure.reason.value)
            return
        status = await recorded_status(self.lifecycle.store, job.id)
        if status is None or status in (JobStatus.failed, JobStatus.expired):
            await asyncio.to_thread(remove)
            log.info("a job stopped: it was deleted or failed elsewhere")
        else:
            log.warning(
                "a job stopped with its record unreadable or %s; left to the sweeper", status
            )

    async def _start(self, job: Job) -> Job | None:
        """queued -> running; a store that is away is tried again a few beats, since the
        job's request lives only in this process (a Taskiq message is taken once). None when
        it must not run (cancelled or failed before its turn, or the store stayed away)."""
        for attempt in range(_START_TRIES):
            try:
                started = await self.lifecycle.start(job.id, self._worker)
            except SayfileError as exc:
                # The store may have recorded the start before its answer was lost.
                started = await self._started(job.id)
                if started is not None:
                    return started
                if attempt < _START_TRIES - 1:
                    await self.terms.wait(self.terms.beat_s)
                    continue
                log.warning("a job could not be started (%s); the sweeper will see to it", exc)
                return None
            if started is None:
                log.info("a job was not started: cancelled or failed before its turn")
            return started
        return None

    async def _started(self, job_id: str) -> Job | None:
        """The job's record when it says this process started it, else None."""
        try:
            job = await self.lifecycle.store.get(job_id)
        except SayfileError:
            return None
        if job is None or job.status != JobStatus.running or job.worker != self._worker:
            return None
        return job

    def _remover(self, job: Job, extension: str) -> Callable[[], None]:
        return functools.partial(self.files.remove, job.id, extension)
