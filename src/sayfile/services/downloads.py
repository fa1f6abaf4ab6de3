"""A done job's files opened for whoever downloads them: the audio (a one-time link claimed for
one download at a time, and ended once its bytes went out), its timings, and a book's
chapters while the rest of the book is made."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sayfile.audio.formats import AudioFormat, audio_format
from sayfile.audio.timings import Timings
from sayfile.books.parts import BookFolder
from sayfile.errors import JobBusy, JobExpired, JobFailed, JobNotFound, JobNotReady
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.lru_map import KEPT_JOBS, LruMap
from sayfile.services.reading import JobReader
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import Job, JobStatus

# More chapters than any book has: a chapter number beyond it is not looked up.
_MAX_CHAPTERS = 100_000
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

    async def open_chapter(self, job_id: str, number: int) -> tuple[AudioFormat, Path]:
        """The audio of chapter `number` (from 1) of a book still being made, once that
        chapter is done (a done book's chapters are marked in its file). Raises JobNotFound,
        JobNotReady (the chapter, or the book, is not there)."""
        job = await self.reader.get(job_id)
        if not job.book or not 1 <= number <= _MAX_CHAPTERS:
            raise JobNotFound()
        folder = BookFolder(self.files.book_dir(job.id))
        try:
            manifest = await asyncio.to_thread(folder.manifest)
        except (FileNotFoundError, ValueError):
            raise JobNotReady(job.status.value) from None
        listed = manifest.listed()
        made = listed[number - 1][1] if number <= len(listed) else None
        if made is None:
            raise JobNotFound()  # beyond the book, or a chapter that is not made
        fmt = audio_format(manifest.part_format)
        path = folder.chapter_audio(made, fmt.extension)
        if not await asyncio.to_thread(folder.chapter_done, made):
            raise JobNotReady("the chapter is still being made")
        return fmt, path

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


def _download_claim(job_id: str) -> str:
    return f"download:{job_id}"
