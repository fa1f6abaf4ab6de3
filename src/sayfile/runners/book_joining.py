"""A book's parts joined into chapters, and its chapters into the book's file (one file with
chapter marks and tags, or a ZIP of chapter files with captions), each join by one process
at a time under its lock; then the book recorded done and its folder removed."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sayfile.audio.chapter_marks import (
    BookTags,
    chapter_marks_from_timings,
    mark_chapters,
    tag_book,
    timing_marks_from_chapters,
)
from sayfile.audio.formats import audio_format
from sayfile.audio.joined_timings import joined, write_joined
from sayfile.audio.joining import chapter_file_name, join_audio, played, write_zip
from sayfile.audio.remuxing import RemuxExecutor
from sayfile.audio.timings import Timing, Timings, cues, srt, vtt
from sayfile.books.parts import BOOK_CHAPTERS_KEY, BookFolder, BookManifest
from sayfile.books.read_along_epub import (
    BookAudio,
    ChapterAudio,
    job_identifier,
    write_read_along,
)
from sayfile.errors import SayfileError
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.book_leases import BookLeases, book_lock, chapter_lock
from sayfile.runners.failures import recorded_status
from sayfile.runners.lease import Lease
from sayfile.settings import Settings
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import EPUB, ZIP, Job, JobStatus
from sayfile.whole_files import own_unfinished_name, put_in_place, remove_files, written_whole

log = logging.getLogger(__name__)

# A job in one of these (None: deleted) wants no files any more.
GONE = (None, JobStatus.failed, JobStatus.expired)


def remove_book_files(files: AudioFiles, job_id: str) -> None:
    """The book's folder and its file go (each job's file under its own extension)."""
    files.remove_book(job_id)
    for path in files.root.glob(f"{job_id}.*"):
        path.unlink(missing_ok=True)


class BookJoiner:
    """Joins a book's chapters when their parts are all there, and the book when its
    chapters are."""

    def __init__(
        self,
        remux: RemuxExecutor,
        store: JobStore,
        lifecycle: JobLifecycle,
        files: AudioFiles,
        leases: BookLeases,
        settings: Settings,
    ) -> None:
        self.remux = remux
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        self.leases = leases
        self.settings = settings

    async def join_chapters(
        self, job_id: str, folder: BookFolder, manifest: BookManifest, chapters: list[int]
    ) -> None:
        """Join each of `chapters` whose parts are all there, one process at a time: two turns
        that finish a chapter's last parts together would otherwise both write its file
        (seen: an Opus chapter that could not be read back)."""
        for chapter in chapters:

            async def join(lease: Lease, chapter: int = chapter) -> bool:
                return await self._join_chapter_held(folder, manifest, chapter, lease)

            await self.leases.hold(chapter_lock(job_id, chapter), job_id, folder, manifest, join)

    async def _join_chapter_held(
        self, folder: BookFolder, manifest: BookManifest, chapter: int, lease: Lease
    ) -> bool:
        staged = await self.remux.run(self._join_chapter, folder, manifest, chapter)
        if staged is None:
            return False
        try:
            await lease.confirm()
            await asyncio.to_thread(put_in_place, staged)
        finally:
            await asyncio.to_thread(remove_files, [path for path, _ in staged])
        await asyncio.to_thread(folder.remove_parts, manifest, chapter)
        return True

    def _join_chapter(
        self, folder: BookFolder, manifest: BookManifest, chapter: int
    ) -> list[tuple[Path, Path]] | None:
        """Chapter `chapter` joined from its parts when they are all there, under names of
        its own: the renames that put it in place, audio first (None when there is nothing
        to join). File work: run off the event loop."""
        numbers = manifest.parts_of(chapter)
        if not all(folder.part_done(n) for n in numbers) or folder.chapter_done(chapter):
            return None
        fmt = audio_format(manifest.part_format)
        sources = [folder.part_audio(n, fmt.extension) for n in numbers]
        target = folder.chapter_audio(chapter, fmt.extension)
        timings_target = folder.chapter_timings(chapter)
        staged, staged_timings = own_unfinished_name(target), own_unfinished_name(timings_target)
        try:
            # The chapter lasts as long as its packets: so the chapters after it start where
            # the book's joining puts them.
            began = time.perf_counter()
            starts, end = join_audio(sources, fmt, staged)
            log.info(
                "a chapter was joined from %d parts in %.3f s",
                len(sources),
                time.perf_counter() - began,
            )
            parts = [
                (start, folder.read_timings(folder.part_timings(n)))
                for start, n in zip(starts, numbers, strict=True)
            ]
            folder.write_timings(staged_timings, joined(parts, end))
        except BaseException:
            remove_files([staged, staged_timings])
            raise
        return [(staged, target), (staged_timings, timings_target)]

    async def join_book(self, job: Job, folder: BookFolder, manifest: BookManifest) -> str:
        """Join the chapters into the book's file under the book's lock, and record the book
        done; why the turn ended."""

        async def join(lease: Lease) -> str:
            return await self._join_book_held(job, folder, manifest, lease)

        why = await self.leases.hold(book_lock(job.id), job.id, folder, manifest, join)
        return "another turn joins the book" if why is None else why

    async def _join_book_held(
        self, job: Job, folder: BookFolder, manifest: BookManifest, lease: Lease
    ) -> str:
        current = await self.store.get(job.id)
        if current is None or current.status.finished:
            return "the book is finished or deleted"
        target = self.files.path(job.id, job.extension)
        timings_target = self.files.timings_path(job.id)
        staged, staged_timings = own_unfinished_name(target), own_unfinished_name(timings_target)
        began = time.perf_counter()
        try:
            if job.package == ZIP.name:
                book = await self.remux.run(self._zip, folder, manifest, staged)
            elif job.package == EPUB.name:
                book = await self.remux.run(self._epub, job, folder, manifest, staged)
            else:
                book = await self.remux.run(self._one_file, folder, manifest, staged)
            listed = [[title, made is None] for title, made in manifest.listed()]
            await asyncio.to_thread(
                write_joined,
                staged_timings,
                book.sections,
                book.duration,
                book.marks,
                {BOOK_CHAPTERS_KEY: listed},
            )
            await lease.confirm()
            await asyncio.to_thread(
                put_in_place, [(staged, target), (staged_timings, timings_target)]
            )
        finally:
            await asyncio.to_thread(remove_files, [staged, staged_timings])
        log.info(
            "a book was joined from %d chapters in %.3f s",
            len(manifest.chapters),
            time.perf_counter() - began,
        )
        return await self._record_done(job, book.size, book.duration)

    async def _record_done(self, job: Job, size: int, duration: float) -> str:
        """Record the joined book done, then its folder goes; why the turn ended."""
        try:
            done = await self.lifecycle.finish(
                job.id, size, duration, ttl_seconds=self.settings.book_ttl_seconds
            )
        except SayfileError as exc:
            if await recorded_status(self.store, job.id) != JobStatus.done:
                return f"!the book was joined but its end not recorded ({exc}); the sweeper will"
            done = job
        if done is None:
            # Deleted or failed meanwhile: its files go only once the record says so.
            if await recorded_status(self.store, job.id) in GONE:
                await asyncio.to_thread(remove_book_files, self.files, job.id)
            return "the book was joined, but it was deleted or failed meanwhile"
        await asyncio.to_thread(self.files.remove_book, job.id)
        return f"the book was made: {size} bytes, {duration:.1f} s of audio"

    def _chapters(
        self, folder: BookFolder, manifest: BookManifest
    ) -> tuple[list[Path], list[Timings]]:
        fmt = audio_format(manifest.part_format)
        count = len(manifest.chapters)
        sources = [folder.chapter_audio(c, fmt.extension) for c in range(count)]
        timings = [folder.read_timings(folder.chapter_timings(c)) for c in range(count)]
        return sources, timings

    def _one_file(self, folder: BookFolder, manifest: BookManifest, target: Path) -> _Made:
        fmt = audio_format(manifest.format)
        sources, each = self._chapters(folder, manifest)
        lengths = [timings.duration for timings in each]
        starts = list(itertools.accumulate(lengths[:-1], initial=0.0))[: len(lengths)]
        duration = starts[-1] + each[-1].duration
        marks = (
            timing_marks_from_chapters(manifest.chapters, starts)
            if len(manifest.chapters) > 1
            else []
        )
        chapters = chapter_marks_from_timings(Timings((), None, duration, None, tuple(marks)))
        # The file appears under the job's name whole and with its chapters, or not at all.
        with written_whole(target) as staged:
            join_audio(sources, fmt, staged)
            mark_chapters(staged, fmt, chapters, manifest.title)
            tags = BookTags(
                manifest.title,
                manifest.author,
                manifest.language,
                manifest.year,
                folder.cover(manifest),
            )
            tag_book(staged, fmt, tags)
        sections = list(zip(starts, each, strict=True))
        return _Made(target.stat().st_size, duration, sections, marks)

    def _zip(self, folder: BookFolder, manifest: BookManifest, target: Path) -> _Made:
        fmt = audio_format(manifest.part_format)
        sources, each = self._chapters(folder, manifest)
        # Numbered as the book's chapters are listed, the skipped ones counted (the job's
        # `chapters`, their own links while the book is made and `chapters` on POST /jobs
        # all number them so): chapter 3 is 03-... even with 01 and 02 not made.
        listed = manifest.listed()
        width = max(2, len(str(len(listed))))
        files: list[tuple[str, Path]] = []
        for number, (title, made) in enumerate(listed, 1):
            if made is None:
                continue
            name = chapter_file_name(number, title, fmt.extension, width)
            stem = name.rsplit(".", 1)[0]
            captions = cues(each[made])
            srt_path = folder.path / f"chapter-{made:03d}.srt"
            vtt_path = folder.path / f"chapter-{made:03d}.vtt"
            srt_path.write_text(srt(captions), encoding="utf-8")
            vtt_path.write_text(vtt(captions), encoding="utf-8")
            files += [(name, sources[made]), (f"{stem}.srt", srt_path), (f"{stem}.vtt", vtt_path)]
        write_zip(files, target)
        return _book_made(manifest, each, target)

    def _epub(self, job: Job, folder: BookFolder, manifest: BookManifest, target: Path) -> _Made:
        """A read-along EPUB of the chapters' files as they are (no encoding again), their
        text and overlays from their timings; the book's timings as for one file."""
        fmt = audio_format(manifest.part_format)
        sources, each = self._chapters(folder, manifest)
        chapters = []
        made = zip(manifest.chapters, sources, each, strict=True)
        for number, (title, source, timings) in enumerate(made):
            heard = played(source)
            layout = manifest.layout(number)
            chapters.append(
                ChapterAudio(title, source, timings, heard.seconds, heard.lead_s(fmt), layout)
            )
        cover = folder.path / manifest.cover if manifest.cover else None
        book = BookAudio(
            title=manifest.title,
            author=manifest.author,
            language=manifest.language,
            narrator=manifest.voice,
            identifier=job_identifier(job.id),
            chapters=chapters,
            audio_media_type=fmt.media_type,
            cover=cover if cover is not None and cover.is_file() else None,
        )
        write_read_along(book, target)
        return _book_made(manifest, each, target)


@dataclass(frozen=True, slots=True)
class _Made:
    """A book's file as written: its size, how long it lasts, and what its timings record is
    joined from (each chapter's start and timings, and the marks at chapters' starts)."""

    size: int
    duration: float
    sections: list[tuple[float, Timings]]
    marks: list[Timing]


def _book_made(manifest: BookManifest, each: list[Timings], target: Path) -> _Made:
    """The book at `target` made of chapters timed `each`, played one after another with a
    mark at each one's start (a book delivered as chapter files)."""
    lengths = [t.duration for t in each]
    starts = list(itertools.accumulate(lengths[:-1], initial=0.0))[: len(lengths)]
    marks = timing_marks_from_chapters(manifest.chapters, starts)
    sections = list(zip(starts, each, strict=True))
    return _Made(target.stat().st_size, sum(lengths), sections, marks)
