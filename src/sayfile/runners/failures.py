"""What a runner's error means for its job, for both runners: an engine or input error fails
the job, a full disk is `disk_full`, and a store or queue that is away is nobody's failure
(the sweeper decides later, from the record); and recording a failure before any file goes."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sayfile.errors import DiskFull, InvalidInput, SayfileError, StoreUnavailable
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.store import JobStore
from sayfile.store.records import FailureReason, JobStatus

log = logging.getLogger(__name__)

# Writing failed for lack of space: full file system, quota, or file size limit.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
DISK_FULL_MESSAGE = "the server ran out of disk space while writing the audio"
# A failure the store refuses (away, or its disk full) is tried again this many times, this
# often.
_TRIES = 10
_RETRY_S = 0.5


@dataclass(frozen=True, slots=True)
class Failure:
    """A job's failure as recorded: its reason and the message its owner reads."""

    reason: FailureReason
    message: str


def classify(exc: BaseException) -> Failure | None:
    """The failure `exc` (raised while running a job) records, or None when the store or
    the queue was away: then the job is left as it is, for the sweeper."""
    if isinstance(exc, StoreUnavailable):
        return None
    if isinstance(exc, DiskFull) or (isinstance(exc, OSError) and exc.errno in NO_SPACE):
        return Failure(FailureReason.disk_full, DISK_FULL_MESSAGE)
    if isinstance(exc, TimeoutError):
        return Failure(FailureReason.engine_error, "the speech engine took too long")
    if isinstance(exc, InvalidInput):
        return Failure(FailureReason.invalid, str(exc))
    if isinstance(exc, SayfileError):
        return Failure(FailureReason.engine_error, str(exc))
    # No job id in logs: it is a capability.
    log.error("a job failed", exc_info=exc)
    return Failure(FailureReason.internal_error, f"internal error ({type(exc).__name__})")


async def fail_then_remove(
    lifecycle: JobLifecycle,
    job_id: str,
    failure: Failure,
    remove: Callable[[], None],
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
    tries: int = _TRIES,
) -> bool:
    """Record `failure` (a compare-and-set), then `remove` the job's files (run on a
    thread). The files stay when the record says done (a finish that raised after it was
    stored) or cannot be read. A store that is away, or that shares a full disk, is tried
    again for about 5 s (`wait` between tries), so the job's own reason beats the sweeper's
    "worker lost"; on a full disk the files of a job that is not done go first, to make
    room. After that the sweeper sees to the job and its files. True when they were
    removed."""
    removed = False
    for attempt in range(tries):
        try:
            failed = await lifecycle.fail(job_id, failure.reason, failure.message)
        except SayfileError as exc:
            full = isinstance(exc, DiskFull)
            if full and not removed and await _may_remove(lifecycle, job_id, unfinished=True):
                await asyncio.to_thread(remove)
                removed = True
            if attempt < tries - 1:
                await wait(_RETRY_S)
                continue
            log.warning("a failure could not be recorded (%s); the sweeper will", exc)
            return removed
        if failed is not None or await _may_remove(lifecycle, job_id, unfinished=False):
            if not removed:
                await asyncio.to_thread(remove)
            return True
        return removed
    return removed


async def _may_remove(lifecycle: JobLifecycle, job_id: str, unfinished: bool) -> bool:
    """Whether the job's files may go: its record is gone, failed or expired (or, with
    `unfinished`, still queued or running: its failure is being recorded). Never when it is
    done, or when the record cannot be read."""
    try:
        job = await lifecycle.store.get(job_id)
    except SayfileError:
        return False
    if job is None or job.status in (JobStatus.failed, JobStatus.expired):
        return True
    return unfinished and not job.status.finished


async def recorded_status(store: JobStore, job_id: str) -> JobStatus | None:
    """The job's status (None: deleted). A store that is away reads as running, which keeps
    every file and leaves the job to the sweeper; raises nothing."""
    try:
        job = await store.get(job_id)
    except SayfileError:
        return JobStatus.running
    return None if job is None else job.status
