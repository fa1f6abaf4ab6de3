"""The storage quota as one count for the cluster: two `StorageQuota`s sharing one store and
one data folder are two processes; reservations live in the job records and a book's folder
of parts counts as used."""

from __future__ import annotations

from pathlib import Path

import pytest

from sayfile.errors import StorageFull
from sayfile.jobs.events import LocalJobEvents
from sayfile.jobs.quota import StorageQuota
from sayfile.store.files import AudioFiles
from sayfile.store.memory import MemoryJobStore
from sayfile.store.records import Job, JobStatus, new_job_id

QUOTA = 100_000


def reserved_job(
    reserved: int, status: JobStatus = JobStatus.queued, job_id: str | None = None
) -> Job:
    """A job record holding a reservation of `reserved` bytes."""
    return Job(
        id=job_id or new_job_id(),
        status=status,
        format="mp3",
        voice="tone",
        key="k",
        stem="s",
        created_at=0.0,
        expires_at=10**10,
        reserved_bytes=reserved,
    )


def _processes(folder: Path) -> tuple[MemoryJobStore, AudioFiles, StorageQuota, StorageQuota]:
    store = MemoryJobStore()
    files = AudioFiles(folder)
    files.ensure()
    one = StorageQuota(AudioFiles(folder), QUOTA, store, LocalJobEvents())
    two = StorageQuota(AudioFiles(folder), QUOTA, store, LocalJobEvents())
    return store, files, one, two


async def _admit(quota: StorageQuota, store: MemoryJobStore, estimate: int) -> Job:
    job = reserved_job(estimate)
    async with quota.admitting(estimate):
        await store.add(job)
    return job


async def test_a_reservation_made_by_one_process_is_counted_by_the_other(tmp_path: Path) -> None:
    store, _, one, two = _processes(tmp_path)
    await _admit(one, store, 70_000)
    with pytest.raises(StorageFull) as refused:
        await _admit(two, store, 40_000)
    assert "30,000 bytes left" in str(refused.value)
    # What fits the room left is admitted by either.
    await _admit(two, store, 30_000)
    assert await one.pending() == await two.pending() == 100_000


async def test_a_finished_job_holds_no_reservation_any_more(tmp_path: Path) -> None:
    store, _, one, two = _processes(tmp_path)
    job = await _admit(one, store, 90_000)
    with pytest.raises(StorageFull):
        await _admit(two, store, 20_000)
    await store.change(job.id, {JobStatus.queued}, status=JobStatus.failed)
    await _admit(two, store, 20_000)


async def test_what_a_job_has_written_is_counted_once(tmp_path: Path) -> None:
    """A running job's unfinished file is on disk and no longer reserved: not counted twice."""
    store, files, one, two = _processes(tmp_path)
    job = await _admit(one, store, 60_000)
    files.path(job.id, "mp3").with_suffix(".mp3.unfinished").write_bytes(b"\0" * 50_000)
    assert await two.used() == 50_000
    assert await two.pending() == 10_000
    await _admit(two, store, 40_000)
    with pytest.raises(StorageFull):
        await _admit(one, store, 1_000)


async def test_a_books_parts_count_as_used(tmp_path: Path) -> None:
    """A book in progress keeps its finished parts in its folder under `books/`: they are
    on disk, so they count, and they count against the book's own reservation only."""
    store, files, one, two = _processes(tmp_path)
    book = await _admit(one, store, 50_000)
    folder = files.book_dir(book.id)
    folder.mkdir()
    (folder / "part-0000.mp3").write_bytes(b"\0" * 30_000)
    (folder / "chapter-000.mp3").write_bytes(b"\0" * 30_000)
    # Some other book's leftovers (nobody's reservation) count as used all the same.
    (files.books / "not-a-job").mkdir()
    (files.books / "not-a-job" / "part-0000.mp3").write_bytes(b"\0" * 10_000)
    assert await two.used() == 70_000
    assert await two.pending() == 0  # it has written more than it reserved
    await _admit(two, store, 30_000)
    with pytest.raises(StorageFull) as refused:
        await _admit(two, store, 1_000)
    assert "0 bytes left" in str(refused.value)


async def test_two_requests_at_once_in_one_process_cannot_both_take_the_last_room(
    tmp_path: Path,
) -> None:
    import asyncio

    store, _, one, _ = _processes(tmp_path)
    results = await asyncio.gather(
        *(_admit(one, store, 60_000) for _ in range(2)), return_exceptions=True
    )
    assert sum(isinstance(r, StorageFull) for r in results) == 1
