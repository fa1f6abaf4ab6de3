"""The storage quota through its public methods (`admitting` with the job's record stored
inside it, the job's end through its record and events, `used`), on a real data folder and
the in-memory store, with an injected clock and injected faults: a disk that cannot be
counted, a reservation cancelled half-way, a job that failed on a full disk."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from pathlib import Path

import pytest

from sayfile.audio.formats import FORMATS
from sayfile.errors import StorageFull
from sayfile.jobs.events import DELETED, JobEvent, LocalJobEvents
from sayfile.jobs.quota import StorageQuota, estimate_bytes
from sayfile.settings import Settings
from sayfile.store.files import AudioFiles
from sayfile.store.memory import MemoryJobStore
from sayfile.store.records import JobStatus, new_job_id
from sayfile.whole_files import UNFINISHED
from test_quota import reserved_job

QUOTA = 10_000


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Quota:
    """A quota of QUOTA bytes on a real folder, the events that end its jobs, and its clock."""

    def __init__(self, data_dir: Path, files: AudioFiles | None = None) -> None:
        self.files = files or AudioFiles(data_dir)
        self.files.ensure()
        self.events = LocalJobEvents()
        self.clock = Clock()
        self.store = MemoryJobStore()
        self.quota = StorageQuota(self.files, QUOTA, self.store, self.events, clock=self.clock)

    async def reserve(self, job_id: str, estimate: int) -> None:
        """Admit a job as the service does: its record, with its reservation, is stored
        while the quota holds the room."""
        job = reserved_job(estimate, job_id=job_id)
        async with self.quota.admitting(estimate):
            await self.store.add(job)

    def write(self, job_id: str, size: int, extension: str = "mp3") -> Path:
        path = self.files.path(job_id, extension)
        path.write_bytes(b"\0" * size)
        return path

    async def end(self, job_id: str, status: str = "done") -> None:
        """The job ends as the lifecycle ends it: its record first, then its event."""
        if status == DELETED:
            await self.store.delete(job_id)
        else:
            unfinished = {JobStatus.queued, JobStatus.running}
            await self.store.change(job_id, unfinished, status=JobStatus(status))
        await self.events.publish(JobEvent(job_id, status, 1.0))


@pytest.fixture
def quota(tmp_path: Path) -> Quota:
    return Quota(tmp_path / "data")


async def test_jobs_are_admitted_while_the_disk_and_the_reservations_fit(quota: Quota) -> None:
    quota.write(new_job_id(), 3000)
    first, second = new_job_id(), new_job_id()
    await quota.reserve(first, 4000)
    quota.clock.now += 2
    with pytest.raises(StorageFull) as refused:
        await quota.reserve(second, 4000)
    assert (refused.value.limit, refused.value.length, refused.value.room) == (QUOTA, 4000, 3000)
    assert "3,000 bytes left" in str(refused.value)
    await quota.end(first)  # the first job ended without a file: its room is free again
    await quota.reserve(second, 4000)


async def test_two_jobs_that_fit_are_admitted_within_the_same_second(quota: Quota) -> None:
    await quota.reserve(new_job_id(), 5000)
    await quota.reserve(new_job_id(), 5000)


@pytest.mark.parametrize("status", ["done", "failed", DELETED])
async def test_every_end_of_a_job_gives_its_reservation_back(quota: Quota, status: str) -> None:
    job = new_job_id()
    await quota.reserve(job, QUOTA)
    await quota.events.publish(JobEvent(job, "running", 0.5))  # progress keeps it
    with pytest.raises(StorageFull):
        await quota.reserve(new_job_id(), 1)
    await quota.end(job, status)
    await quota.reserve(new_job_id(), QUOTA)


async def test_a_finished_file_is_counted_at_once_instead_of_its_reservation(
    quota: Quota,
) -> None:
    job = new_job_id()
    await quota.reserve(job, 2000)
    quota.write(job, 6000)  # bigger than estimated
    await quota.end(job)
    assert await quota.quota.used() == 6000  # counted again, not a second old
    with pytest.raises(StorageFull) as refused:
        await quota.reserve(new_job_id(), 4001)
    assert refused.value.room == 4000


async def test_a_file_linked_to_many_jobs_counts_once(quota: Quota) -> None:
    original = quota.write(new_job_id(), 4000)
    for _ in range(3):
        assert quota.files.link(original, quota.files.path(new_job_id(), "mp3"))
    assert await quota.quota.used() == 4000
    await quota.reserve(new_job_id(), 6000)


async def test_what_a_working_job_has_written_is_not_counted_twice(quota: Quota) -> None:
    job = new_job_id()
    await quota.reserve(job, 6000)
    part = quota.files.path(job, "mp3")
    part.with_name(part.name + UNFINISHED).write_bytes(b"\0" * 5000)
    quota.clock.now += 2  # the disk is counted again
    # On disk 5000, still to come 6000 - 5000: room for 4000 exactly.
    with pytest.raises(StorageFull) as refused:
        await quota.reserve(new_job_id(), 4001)
    assert refused.value.room == 4000
    await quota.reserve(new_job_id(), 4000)


async def test_the_disk_is_counted_again_after_a_second(quota: Quota) -> None:
    assert await quota.quota.used() == 0
    quota.write(new_job_id(), 1000)
    assert await quota.quota.used() == 0  # the figure is a second old at most
    quota.clock.now += 0.9
    assert await quota.quota.used() == 0
    quota.clock.now += 0.2
    assert await quota.quota.used() == 1000


async def test_a_job_that_failed_on_a_full_disk_leaves_room_for_the_next(quota: Quota) -> None:
    job = new_job_id()
    await quota.reserve(job, 9000)
    part = quota.files.path(job, "mp3")
    part.with_name(part.name + UNFINISHED).write_bytes(b"\0" * 3000)  # then ENOSPC
    quota.files.remove(job, "mp3")  # the runner removes what it wrote, then says so
    await quota.end(job, "failed")
    assert await quota.quota.used() == 0
    await quota.reserve(new_job_id(), QUOTA)


class FaultyFiles(AudioFiles):
    """A data folder whose counting fails with `error` while it is set, and can be held
    (`hold`) until the test lets it go."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.error: OSError | None = None
        self.counting = threading.Event()
        self.hold = threading.Event()
        self.hold.set()

    def usage(self) -> tuple[int, dict[str, int]]:
        self.counting.set()
        self.hold.wait()
        if self.error is not None:
            raise self.error
        return super().usage()


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC, errno.EACCES])
async def test_a_disk_that_cannot_be_counted_admits_nothing_and_holds_nothing(
    tmp_path: Path, code: int
) -> None:
    files = FaultyFiles(tmp_path / "data")
    quota = Quota(tmp_path / "data", files)
    files.error = OSError(code, os.strerror(code))
    with pytest.raises(OSError) as failed:
        await quota.reserve(new_job_id(), 100)
    assert failed.value.errno == code
    files.error = None
    await quota.reserve(new_job_id(), QUOTA)  # the failed one reserved nothing


async def test_a_reservation_cancelled_while_the_disk_is_counted_holds_nothing(
    tmp_path: Path,
) -> None:
    files = FaultyFiles(tmp_path / "data")
    quota = Quota(tmp_path / "data", files)
    files.hold.clear()
    waiting = asyncio.create_task(quota.reserve(new_job_id(), QUOTA))
    await asyncio.to_thread(files.counting.wait)
    waiting.cancel()
    files.hold.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await quota.reserve(new_job_id(), QUOTA)


def test_a_long_novel_fits_the_default_quota_in_mp3() -> None:
    """War and Peace is about 3.3 million characters; its estimate must not refuse it."""
    novel = "word " * 660_000
    assert estimate_bytes(novel, FORMATS["mp3"], 24_000) < Settings().storage_quota_bytes
    # A CJK text takes longer to say, and so more room, than as many Latin letters.
    assert estimate_bytes("你" * 1000, FORMATS["mp3"], 24_000) > estimate_bytes(
        "a" * 1000, FORMATS["mp3"], 24_000
    )
