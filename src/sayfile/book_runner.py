"""Making a book in parts, by any number of processes at once: each turn takes one part no
one holds (a lock in the job store, kept while its heartbeat lasts), makes it into the book's
folder, joins a chapter whose parts are all there, and the process that finds every chapter
there joins the book and records it done. A process that dies loses only the part it held."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

from sayfile.assembly import chapter_file_name, join_audio, write_zip
from sayfile.audio import audio_format, with_bitrate
from sayfile.book_parts import BOOK_CHAPTERS_KEY, BookFolder, BookManifest
from sayfile.books import CHAPTER_MARK
from sayfile.chapters import BookTags, chapter_marks, mark_chapters, tag_book
from sayfile.errors import SayfileError
from sayfile.events import DELETED, JobEvents
from sayfile.files import AudioFiles, written_whole
from sayfile.jobs import ZIP, FailureReason, Job, JobStatus
from sayfile.lifecycle import JobLifecycle
from sayfile.plans import validate
from sayfile.remuxing import RemuxExecutor
from sayfile.scheduler import Lane
from sayfile.settings import Settings
from sayfile.store import JobStore
from sayfile.subtitles import Timing, Timings, cues, joined, srt, vtt
from sayfile.synthesizer import Synthesizer

log = logging.getLogger(__name__)

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_ASSEMBLY = "assemble"


class BookRunner:
    """Takes turns at books for one process (the API's own, or a `sayfile worker`'s)."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        settings: Settings,
        store: JobStore,
        lifecycle: JobLifecycle,
        events: JobEvents,
        files: AudioFiles,
        remux: RemuxExecutor | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.remux = remux or RemuxExecutor()
        self.settings = settings
        self.store = store
        self.lifecycle = lifecycle
        self.events = events
        self.files = files
        self._lease_s = settings.worker_timeout_seconds
        self._beat_s = max(0.5, settings.worker_timeout_seconds / 4)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    async def turn(self, job_id: str) -> bool:
        """Make one part of the book `job_id` that no process holds, or join the book when
        every part is there. True when it made a part and the book needs another turn (the
        caller gives it one); False when this turn found nothing to take."""
        folder = BookFolder(self.files.book_dir(job_id))
        try:
            manifest = await asyncio.to_thread(folder.manifest)
        except (FileNotFoundError, ValueError):
            return False  # deleted, or finished meanwhile
        job = await self.store.get(job_id)
        if job is None or job.status.finished:
            return False
        if job.status == JobStatus.queued:
            await self.lifecycle.start(job_id, self._worker)
        work = asyncio.current_task()
        assert work is not None
        stopped: list[bool] = []
        try:
            # One look at the folder for the parts not done; each is checked again once held.
            undone = await asyncio.to_thread(self._undone, folder, manifest)
            for number in undone:
                token = await self.store.try_lock(_part_lock(job_id, number), self._lease_s)
                if token is None:
                    continue  # another process makes it
                held = _part_lock(job_id, number)
                async with self._kept(job, held, token, folder, manifest, work, stopped):
                    if not await asyncio.to_thread(self._part_done, folder, manifest, number):
                        await self._make_part(job, folder, manifest, number)
                        chapter = manifest.parts[number].chapter
                        await self._join_chapters(job_id, folder, manifest, [chapter])
                return await asyncio.to_thread(self._needs_turn, folder, manifest)
            # Every part is done or held. A chapter whose parts are all there but that nobody
            # joined (its joiner died) is joined now; the last one to finish joins the book.
            ready = await asyncio.to_thread(_joinable, folder, manifest)
            await self._join_chapters(job_id, folder, manifest, ready)
            if await asyncio.to_thread(_all_chapters_done, folder, manifest):
                await self._join_book(job, folder, manifest, work, stopped)
            return False
        except asyncio.CancelledError:
            if stopped:
                return False  # deleted or failed elsewhere: this turn simply ends
            raise  # the process is stopping: the book waits for the next one
        except FileNotFoundError:
            return False  # the book's folder went (deleted)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                message = "the server ran out of disk space while writing the audio"
                await self._fail(job, FailureReason.disk_full, message)
            else:
                log.exception("a book failed writing its files")
                await self._fail(job, FailureReason.internal_error, _internal(exc))
            return False
        except SayfileError as exc:
            await self._fail(job, FailureReason.engine_error, str(exc))
            return False
        except Exception as exc:
            log.exception("a book failed")
            await self._fail(job, FailureReason.internal_error, _internal(exc))
            return False

    def forget(self, job_id: str) -> None:
        """The book's folder goes (a deleted, failed or finished book)."""
        self.files.remove_book(job_id)

    @contextlib.asynccontextmanager
    async def _kept(
        self,
        job: Job,
        name: str,
        token: str,
        folder: BookFolder,
        manifest: BookManifest,
        work: asyncio.Task[object],
        stopped: list[bool],
    ) -> AsyncIterator[None]:
        """Hold the lock `name` and beat the job's heart while the body runs; stop the body
        when the job is deleted or failed elsewhere, or the lock is lost."""

        def stop() -> None:
            stopped.append(True)
            work.cancel()

        async def beat() -> None:
            while True:
                await asyncio.sleep(self._beat_s)
                progress = await asyncio.to_thread(_progress, folder, manifest)
                try:
                    alive = await self.lifecycle.beat(job.id, progress)
                    kept = await self.store.extend_lock(name, token, self._lease_s)
                except SayfileError:
                    continue  # the store is away for a moment: keep working, beat again
                if alive is None or not kept:
                    stop()
                    return

        async def watch() -> None:
            with self.events.watch(job.id) as events:
                while True:
                    event = await events.next(None)
                    if event is not None and event.status == DELETED:
                        stop()
                        return

        watchers = [asyncio.create_task(beat()), asyncio.create_task(watch())]
        try:
            yield
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            with contextlib.suppress(SayfileError):
                await self.store.unlock(name, token)

    async def _make_part(
        self, job: Job, folder: BookFolder, manifest: BookManifest, number: int
    ) -> None:
        part = manifest.parts[number]
        # Off the loop: finding the part's sentence languages takes a while.
        plan = await self.synthesizer.executor.run(
            functools.partial(
                validate, manifest.request(part), self.synthesizer, self.settings, None
            ),
            Lane.background,
        )
        if manifest.routed:
            plan = plan.at_rate_of(self.synthesizer.catalogue.resolve(voice=manifest.voice))
        plan = replace(plan, format=with_bitrate(plan.format, manifest.bitrate))
        turn = self.synthesizer.executor.turn(Lane.background, job.client or "")
        path = folder.part_audio(number, plan.format.extension)
        if not folder.path.is_dir():
            raise FileNotFoundError(folder.path)
        result = await self.synthesizer.write(plan, path, turn)
        await asyncio.to_thread(folder.write_timings, folder.part_timings(number), result.timings)
        progress = await asyncio.to_thread(_progress, folder, manifest)
        await self.lifecycle.progress(job.id, progress)

    async def _join_chapters(
        self, job_id: str, folder: BookFolder, manifest: BookManifest, chapters: list[int]
    ) -> None:
        """Join each of `chapters` whose parts are all there, one process at a time: two turns
        that finish a chapter's last parts together would otherwise both write its file
        (seen: an Opus chapter that could not be read back)."""
        for chapter in chapters:
            name = f"join:{job_id}:{chapter}"
            token = await self.store.try_lock(name, self._lease_s)
            if token is None:
                continue  # another turn joins it
            try:
                await self.remux.run(self._join_chapter, folder, manifest, chapter)
            finally:
                with contextlib.suppress(SayfileError):
                    await self.store.unlock(name, token)

    def _join_chapter(self, folder: BookFolder, manifest: BookManifest, chapter: int) -> None:
        """Join chapter `chapter` from its parts when they are all there (once: the chapter's
        file appears whole, then its parts go). File work: run off the event loop."""
        numbers = manifest.parts_of(chapter)
        if not all(folder.part_done(n) for n in numbers) or folder.chapter_done(chapter):
            return
        fmt = audio_format(manifest.part_format)
        sources = [folder.part_audio(n, fmt.extension) for n in numbers]
        target = folder.chapter_audio(chapter, fmt.extension)
        # The chapter lasts as long as its packets: so the chapters after it start where the
        # book's joining puts them.
        began = time.perf_counter()
        starts, end = join_audio(sources, fmt, target)
        log.info(
            "a chapter was joined from %d parts in %.3f s",
            len(sources),
            time.perf_counter() - began,
        )
        parts = [
            (start, folder.read_timings(folder.part_timings(n)))
            for start, n in zip(starts, numbers, strict=True)
        ]
        folder.write_timings(folder.chapter_timings(chapter), joined(parts, end))
        for n in numbers:
            folder.part_audio(n, fmt.extension).unlink(missing_ok=True)
            folder.part_timings(n).unlink(missing_ok=True)

    def _needs_turn(self, folder: BookFolder, manifest: BookManifest) -> bool:
        """After a part: whether the book needs another turn, because a part is not done yet
        (perhaps held by another process: that turn then ends at once, having found nothing
        to take) or because every chapter is done and the book is to be joined."""
        return bool(self._undone(folder, manifest)) or _all_chapters_done(folder, manifest)

    async def _join_book(
        self,
        job: Job,
        folder: BookFolder,
        manifest: BookManifest,
        work: asyncio.Task[object],
        stopped: list[bool],
    ) -> None:
        name = f"{_ASSEMBLY}:{job.id}"
        token = await self.store.try_lock(name, self._lease_s)
        if token is None:
            return  # another process joins it
        async with self._kept(job, name, token, folder, manifest, work, stopped):
            current = await self.store.get(job.id)
            if current is None or current.status.finished:
                return
            target = self.files.path(job.id, job.extension)
            began = time.perf_counter()
            if job.package == ZIP.name:
                duration, timings, size = await self.remux.run(self._zip, folder, manifest, target)
            else:
                duration, timings, size = await self.remux.run(
                    self._one_file, job, folder, manifest, target
                )
            record = timings.to_json()
            record[BOOK_CHAPTERS_KEY] = [[title, made is None] for title, made in manifest.listed()]
            await asyncio.to_thread(self.files.write_timings, job.id, record)
            log.info(
                "a book was joined from %d chapters in %.3f s",
                len(manifest.chapters),
                time.perf_counter() - began,
            )
            finished = self.lifecycle.finish(
                job.id, size, duration, ttl_seconds=self.settings.book_ttl_seconds
            )
            if await finished is None:
                self.files.remove(job.id, job.extension)  # deleted or failed meanwhile
        await asyncio.to_thread(self.forget, job.id)

    def _chapters(
        self, folder: BookFolder, manifest: BookManifest
    ) -> tuple[list[Path], list[Timings]]:
        fmt = audio_format(manifest.part_format)
        count = len(manifest.chapters)
        sources = [folder.chapter_audio(c, fmt.extension) for c in range(count)]
        timings = [folder.read_timings(folder.chapter_timings(c)) for c in range(count)]
        return sources, timings

    def _one_file(
        self, job: Job, folder: BookFolder, manifest: BookManifest, target: Path
    ) -> tuple[float, Timings, int]:
        fmt = audio_format(manifest.format)
        sources, each = self._chapters(folder, manifest)
        lengths = [timings.duration for timings in each]
        starts = [sum(lengths[:n]) for n in range(len(lengths))]
        duration = starts[-1] + each[-1].duration
        marks = _chapter_marks(manifest, starts) if len(manifest.chapters) > 1 else []
        timings = joined(list(zip(starts, each, strict=True)), duration, marks)
        chapters = chapter_marks(timings)
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
        return duration, timings, target.stat().st_size

    def _zip(
        self, folder: BookFolder, manifest: BookManifest, target: Path
    ) -> tuple[float, Timings, int]:
        fmt = audio_format(manifest.part_format)
        sources, each = self._chapters(folder, manifest)
        width = max(2, len(str(len(sources))))
        files: list[tuple[str, Path]] = []
        for number, (source, timings) in enumerate(zip(sources, each, strict=True), 1):
            title = manifest.chapters[number - 1]
            name = chapter_file_name(number, title, fmt.extension, width)
            stem = name.rsplit(".", 1)[0]
            captions = cues(timings)
            srt_path = folder.path / f"chapter-{number:03d}.srt"
            vtt_path = folder.path / f"chapter-{number:03d}.vtt"
            srt_path.write_text(srt(captions), encoding="utf-8")
            vtt_path.write_text(vtt(captions), encoding="utf-8")
            files += [(name, source), (f"{stem}.srt", srt_path), (f"{stem}.vtt", vtt_path)]
        write_zip(files, target)
        lengths = [t.duration for t in each]
        starts = [sum(lengths[:n]) for n in range(len(lengths))]
        duration = sum(lengths)
        marks = _chapter_marks(manifest, starts)
        timings = joined(list(zip(starts, each, strict=True)), duration, marks)
        return duration, timings, target.stat().st_size

    def _undone(self, folder: BookFolder, manifest: BookManifest) -> list[int]:
        return [n for n in range(len(manifest.parts)) if not self._part_done(folder, manifest, n)]

    def _part_done(self, folder: BookFolder, manifest: BookManifest, number: int) -> bool:
        return folder.part_done(number) or folder.chapter_done(manifest.parts[number].chapter)

    async def _fail(self, job: Job, reason: FailureReason, message: str) -> None:
        # The files go first: on a full disk, the store may need the space they held.
        await asyncio.to_thread(self._remove_files, job)
        await self.lifecycle.fail_for_sure(job.id, reason, message)

    def _remove_files(self, job: Job) -> None:
        self.forget(job.id)
        self.files.remove(job.id, job.extension)


def _all_chapters_done(folder: BookFolder, manifest: BookManifest) -> bool:
    return all(folder.chapter_done(c) for c in range(len(manifest.chapters)))


def _joinable(folder: BookFolder, manifest: BookManifest) -> list[int]:
    """The chapters whose parts are all done and that are not joined yet."""
    return [
        chapter
        for chapter in range(len(manifest.chapters))
        if not folder.chapter_done(chapter)
        and all(folder.part_done(n) for n in manifest.parts_of(chapter))
    ]


def _part_lock(job_id: str, number: int) -> str:
    return f"part:{job_id}:{number}"


def _chapter_marks(manifest: BookManifest, starts: Sequence[float]) -> list[Timing]:
    return [
        Timing(start, start, CHAPTER_MARK + title)
        for start, title in zip(starts, manifest.chapters, strict=True)
    ]


def _progress(folder: BookFolder, manifest: BookManifest) -> float:
    """The share of the book's characters whose audio is done."""
    done = sum(
        part.chars
        for number, part in enumerate(manifest.parts)
        if folder.part_done(number) or folder.chapter_done(part.chapter)
    )
    return min(0.99, done / max(1, manifest.chars))


def _internal(exc: BaseException) -> str:
    return f"internal error ({type(exc).__name__})"
