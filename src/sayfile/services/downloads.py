"""A done job's files opened for whoever downloads them: the audio (a one-time link claimed for
one download at a time, and ended once its bytes went out), its timings, and a book's
chapters while the rest of the book is made."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sayfile.audio.formats import AudioFormat, audio_format
from sayfile.audio.timings import Timings
from sayfile.books.parts import BookFolder
from sayfile.errors import SayfileError
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.link_errors import (
    ChapterJoined,
    ChapterNotFound,
    JobBusy,
    JobExpired,
    JobFailed,
    JobNotReady,
)
from sayfile.lru_map import KEPT_JOBS, LruMap
from sayfile.services.reading import JobReader
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import Job, JobStatus

# A one-time download claims its link in the store for at most this long: a process that dies
# while sending leaves the link blocked (409) no longer than this.
_DOWNLOAD_CLAIM_S = 3600.0


class Downloads:
    """Opens done jobs' files, and ends one-time links once they are used up."""

    def __init__(
        self,
        reader: JobReader,
        store: JobStore,
        lifecycle: JobLifecycle,
        files: AudioFiles,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reader = reader
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        self._clock = clock
        # Bytes of one-time files sent so far, by job, and the store's claim on each one
        # being sent now from this process.
        # (Bounded: a download manager that never finishes must not grow the process.)
        self._delivered: LruMap[str, int] = LruMap(KEPT_JOBS)
        self._claims: dict[str, str] = {}

    async def open_audio(self, job_id: str, download: bool = False) -> tuple[Job, BinaryIO]:
        """The finished file of a done job, opened for reading (the caller closes it); once
        open it can be read whole even if the link ends meanwhile. With `download` (a GET,
        not a HEAD) a one-time link is held until `download_ended` is called: one download at a
        time, so two at once cannot both get the file. Raises JobNotFound, JobExpired,
        JobFailed, JobNotReady (while queued or running) or JobBusy."""
        job = await self._done(job_id)
        if not (download and job.one_time):
            return job, await self._open(job)
        # The claim is taken in the store before the record is read again, and given back
        # only after the link is used up (`download_ended`): whoever claims next, in this process
        # or another, sees it expired. Without it a second GET on the same connection came
        # in between the end of the body and the expiry, and got the file again.
        token = await self.store.try_lock(_download_claim(job.id), _DOWNLOAD_CLAIM_S)
        if token is None:
            raise JobBusy()
        try:
            job = await self._done(job_id)
            file = await self._open(job)
        except BaseException:
            await self.store.unlock(_download_claim(job.id), token)
            raise
        self._claims[job.id] = token
        return job, file

    async def download_ended(self, job: Job, sent: int) -> None:
        """A download of the file has ended, `sent` bytes sent (any range). A one-time link
        ends once as many bytes as the file has went out, in one GET or in ranges:
        `Range: bytes=0-` or a download manager's pieces use it up like a plain download."""
        if not job.one_time:
            return
        token = self._claims.pop(job.id, None)
        try:
            total = self._delivered.get(job.id, 0) + sent
            if total < (job.bytes or 0):
                self._delivered[job.id] = total
                return
            self._delivered.pop(job.id, None)
            await self.lifecycle.expire(job.id, self._clock())
            self.files.remove(job.id, job.extension)
        finally:
            if token is not None:
                await self.store.unlock(_download_claim(job.id), token)

    async def timings(self, job_id: str) -> tuple[Job, Timings]:
        """A done job and what its audio says when: its pieces, exact to the sample, and
        words where known. Raises JobNotFound, JobExpired, JobFailed or JobNotReady, as
        `open_audio`."""
        job = await self._done(job_id)
        try:
            data = await asyncio.to_thread(self.files.read_timings, job.id)
        except FileNotFoundError:
            raise JobExpired() from None
        return job, Timings.from_json(data)

    async def open_chapter(self, job_id: str, number: int) -> ChapterFile:
        """The audio of chapter `number` (from 1, as the job's `chapters` list them) of a book
        still being made, once that chapter is done, opened for reading (the caller closes
        it). Raises JobNotFound, ChapterNotFound (no such chapter, a skipped one, or a job that
        is no book), JobNotReady, ChapterJoined (the book is done: its chapters are in the
        book's file), JobFailed or JobExpired."""
        for _ in range(2):
            job = await self.reader.get(job_id)
            if not job.book:
                raise ChapterNotFound(number, None)
            if job.status.finished:
                raise await self._finished_chapter(job, number)
            folder = BookFolder(self.files.book_dir(job.id))
            try:
                return await asyncio.to_thread(_open_chapter, folder, job, number)
            except FileNotFoundError:
                continue  # joined or deleted since the look-up: the record says which
        raise _chapter_not_ready(number)

    async def _finished_chapter(self, job: Job, number: int) -> SayfileError:
        """Why chapter `number` of a finished book cannot be had."""
        if job.status == JobStatus.expired:
            return JobExpired()
        if job.status == JobStatus.failed:
            return JobFailed(job.error or "unknown error")
        chapters = await self.reader.chapters(job)
        if chapters is None:
            return JobExpired()  # its timings were deleted with its file
        if not 1 <= number <= len(chapters):
            return ChapterNotFound(number, len(chapters))
        chapter = chapters[number - 1]
        if chapter.skipped:
            return ChapterNotFound(number, len(chapters), skipped=True)
        return ChapterJoined(number, chapter.start, chapter.end)

    async def _open(self, job: Job) -> BinaryIO:
        try:
            return await asyncio.to_thread(self.files.path(job.id, job.extension).open, "rb")
        except FileNotFoundError:
            raise JobExpired() from None

    async def _done(self, job_id: str) -> Job:
        """The job, if it is done. Raises JobNotFound, JobExpired, JobFailed or JobNotReady."""
        job = await self.reader.get(job_id)
        if job.status == JobStatus.expired:
            raise JobExpired()
        if job.status == JobStatus.failed:
            raise JobFailed(job.error or "unknown error")
        if job.status != JobStatus.done:
            raise JobNotReady(job.status.value)
        return job


@dataclass(frozen=True, slots=True)
class ChapterFile:
    """A finished chapter's file, open, with what names it: its number (from 1) and title
    among the `count` chapters the book lists."""

    job: Job
    number: int
    title: str
    count: int
    format: AudioFormat
    file: BinaryIO


def _open_chapter(folder: BookFolder, job: Job, number: int) -> ChapterFile:
    """Chapter `number`'s file in the book's folder, opened (blocking: run on a thread).
    Raises FileNotFoundError once the folder is gone (the book joined or deleted)."""
    try:
        manifest = folder.manifest()
    except ValueError:
        raise _chapter_not_ready(number) from None  # a manifest still being written
    listed = manifest.listed()
    if not 1 <= number <= len(listed):
        raise ChapterNotFound(number, len(listed))
    title, made = listed[number - 1]
    if made is None:
        raise ChapterNotFound(number, len(listed), skipped=True)
    if not folder.chapter_done(made):
        raise _chapter_not_ready(number)
    fmt = audio_format(manifest.part_format)
    file = folder.chapter_audio(made, fmt.extension).open("rb")
    return ChapterFile(job, number, title, len(listed), fmt, file)


def _chapter_not_ready(number: int) -> JobNotReady:
    return JobNotReady("running", f"Chapter {number} is still being made; try again shortly.")


def _download_claim(job_id: str) -> str:
    return f"download:{job_id}"
