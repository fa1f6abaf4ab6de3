"""Making a book in parts, by any number of processes at once: each turn takes one part no
one holds (a lock in the job store, kept while its heartbeat lasts), makes it into the book's
folder, joins a chapter whose parts are all there, and the process that finds every chapter
there joins the book and records it done. A process that dies loses only the part it held."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sayfile.audio.chapter_marks import (
    CHAPTER_MARK,
    BookTags,
    chapter_marks,
    mark_chapters,
    tag_book,
)
from sayfile.audio.formats import audio_format, with_bitrate
from sayfile.audio.joining import chapter_file_name, join_audio, write_zip
from sayfile.audio.remuxing import RemuxExecutor
from sayfile.audio.timings import Timing, Timings, cues, joined, srt, vtt
from sayfile.books.parts import BOOK_CHAPTERS_KEY, BookFolder, BookManifest
from sayfile.errors import SayfileError
from sayfile.jobs.events import JobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.failures import Failure, classify, fail_then_remove, recorded_status
from sayfile.runners.lease import Lease, LeaseLost, LeaseTerms, Why
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import Synthesizer
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import ZIP, FailureReason, Job, JobStatus
from sayfile.whole_files import PART, written_whole

log = logging.getLogger(__name__)

_ASSEMBLY = "assemble"
# A job in one of these (None: deleted) wants no files any more.
_GONE = (None, JobStatus.failed, JobStatus.expired)


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
        terms: LeaseTerms | None = None,
        remux: RemuxExecutor | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.remux = remux or RemuxExecutor()
        self.settings = settings
        self.store = store
        self.lifecycle = lifecycle
        self.events = events
        self.files = files
        self.terms = terms or LeaseTerms.of(settings)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    async def turn(self, job_id: str) -> bool:
        """Make one part of the book `job_id` that no process holds, or join the book when
        every part is there. True when the book needs another turn (the caller gives it
        one); False when this turn found nothing to take, or the book ended. Every turn logs
        once why it ended; a store that is away ends it, and the sweeper gives new turns."""
        try:
            more, why = await self._turn(job_id)
        except asyncio.CancelledError:
            log.info("a book's turn ended: this process is stopping")
            raise  # the book waits for the next process
        except LeaseLost as lost:
            more = lost.why in (Why.stalled, Why.lock_lost)
            why = f"its part was given up ({lost.why.value})"
        except Exception as exc:
            more, why = False, await self._failed(job_id, exc)
        level = logging.WARNING if why.startswith("!") else logging.INFO
        log.log(level, "a book's turn ended: %s", why.removeprefix("!"))
        return more

    async def _turn(self, job_id: str) -> tuple[bool, str]:
        folder = BookFolder(self.files.book_dir(job_id))
        try:
            manifest = await asyncio.to_thread(folder.manifest)
        except FileNotFoundError:
            job = await self.store.get(job_id)
            if job is None or job.status.finished:
                return False, "the book is finished or deleted"
            raise _Unusable("the book's folder is gone") from None
        except (ValueError, KeyError, TypeError):
            raise _Unusable("the book's manifest cannot be read") from None
        job = await self.store.get(job_id)
        if job is None or job.status.finished:
            return False, "the book is finished or deleted"
        if job.status == JobStatus.queued:
            await self.lifecycle.start(job_id, self._worker)
        # One look at the folder for the parts not done; each is checked again once held.
        undone = await asyncio.to_thread(self._undone, folder, manifest)
        for number in undone:
            name = _part_lock(job_id, number)
            token = await self.store.try_lock(name, self.terms.lock_s)
            if token is None:
                continue  # another process makes it
            try:
                lease = await self._lease(job_id, name, token, folder, manifest)
                made = await lease.run(self._part(job, folder, manifest, number, lease))
            finally:
                with contextlib.suppress(SayfileError):
                    await self.store.unlock(name, token)
            if made:
                chapter = manifest.parts[number].chapter
                await self._join_chapters(job_id, folder, manifest, [chapter])
            more = await asyncio.to_thread(self._needs_turn, folder, manifest)
            return more, f"part {number + 1} of {len(manifest.parts)} was made"
        # Every part is done or held. A chapter whose parts are all there but that nobody
        # joined (its joiner died) is joined now; the last one to finish joins the book.
        ready = await asyncio.to_thread(_joinable, folder, manifest)
        await self._join_chapters(job_id, folder, manifest, ready)
        if await asyncio.to_thread(_all_chapters_done, folder, manifest):
            return False, await self._join_book(job, folder, manifest)
        return False, "every part left is being made by another turn"

    async def _failed(self, job_id: str, exc: Exception) -> str:
        """Record what `exc` means for the book (then its files go); why the turn ended."""
        if isinstance(exc, FileNotFoundError) and await recorded_status(self.store, job_id) in (
            *_GONE,
            JobStatus.done,
        ):
            return "the book is finished or deleted"  # its folder went under this turn
        if isinstance(exc, FileNotFoundError) and not await asyncio.to_thread(
            self.files.book_dir(job_id).is_dir
        ):
            # Removed under this turn by another that is ending the book (a full disk frees
            # room before it records why): that one records the true reason. A folder gone
            # with nobody to say why is found by the next turn (`_Unusable`).
            return "the book's folder went under this turn; the turn that removed it says why"
        if isinstance(exc, _Unusable):
            failure: Failure | None = Failure(FailureReason.internal_error, str(exc))
        else:
            failure = classify(exc)
        if failure is None:
            return f"!the job store is away ({exc}); the sweeper gives the book new turns"
        remove = functools.partial(self._remove_files, job_id)
        await fail_then_remove(self.lifecycle, job_id, failure, remove, self.terms.wait)
        return f"!the book failed: {failure.reason.value}"

    def forget(self, job_id: str) -> None:
        """The book's folder goes (a deleted, failed or finished book)."""
        self.files.remove_book(job_id)

    async def _lease(
        self, job_id: str, name: str, token: str, folder: BookFolder, manifest: BookManifest
    ) -> Lease:
        """The lease of a part (`part:` lock: it stalls when no sentence finishes) or a join,
        which beats with the book's progress so far."""
        progress = await asyncio.to_thread(_progress, folder, manifest)
        stalls = name.startswith("part:")
        lock = (name, token)
        return Lease(
            self.terms, self.lifecycle, self.store, self.events, job_id, lock, stalls, progress
        )

    async def _part(
        self, job: Job, folder: BookFolder, manifest: BookManifest, number: int, lease: Lease
    ) -> bool:
        """Make part `number` under a name of its own, then (the lease confirmed) rename it
        into place, its timings last (they say it is done). False when it was done already."""
        if await asyncio.to_thread(self._part_done, folder, manifest, number):
            return False
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
        target = folder.part_audio(number, plan.format.extension)
        if not folder.path.is_dir():
            raise FileNotFoundError(folder.path)
        staged = _staged(target)
        timings = _staged(folder.part_timings(number))

        async def report(fraction: float) -> None:
            lease.advanced()

        try:
            result = await self.synthesizer.write(plan, staged, turn, report)
            await asyncio.to_thread(folder.write_timings, timings, result.timings)
            await lease.confirm()
            await asyncio.to_thread(
                _rename, [(staged, target), (timings, folder.part_timings(number))]
            )
        finally:
            await asyncio.to_thread(_unlink, [staged, timings])
        progress = await asyncio.to_thread(_progress, folder, manifest)
        lease.advanced(progress)
        await self.lifecycle.progress(job.id, progress)
        return True

    async def _join_chapters(
        self, job_id: str, folder: BookFolder, manifest: BookManifest, chapters: list[int]
    ) -> None:
        """Join each of `chapters` whose parts are all there, one process at a time: two turns
        that finish a chapter's last parts together would otherwise both write its file
        (seen: an Opus chapter that could not be read back)."""
        for chapter in chapters:
            name = f"join:{job_id}:{chapter}"
            token = await self.store.try_lock(name, self.terms.lock_s)
            if token is None:
                continue  # another turn joins it
            try:
                lease = await self._lease(job_id, name, token, folder, manifest)
                await lease.run(self._join_chapter_held(folder, manifest, chapter, lease))
            finally:
                with contextlib.suppress(SayfileError):
                    await self.store.unlock(name, token)

    async def _join_chapter_held(
        self, folder: BookFolder, manifest: BookManifest, chapter: int, lease: Lease
    ) -> None:
        staged = await self.remux.run(self._join_chapter, folder, manifest, chapter)
        if staged is None:
            return
        try:
            await lease.confirm()
            await asyncio.to_thread(_rename, staged)
        finally:
            await asyncio.to_thread(_unlink, [path for path, _ in staged])
        await asyncio.to_thread(self._remove_parts, folder, manifest, chapter)

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
        staged, staged_timings = _staged(target), _staged(timings_target)
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
            _unlink([staged, staged_timings])
            raise
        return [(staged, target), (staged_timings, timings_target)]

    def _remove_parts(self, folder: BookFolder, manifest: BookManifest, chapter: int) -> None:
        fmt = audio_format(manifest.part_format)
        for n in manifest.parts_of(chapter):
            folder.part_audio(n, fmt.extension).unlink(missing_ok=True)
            folder.part_timings(n).unlink(missing_ok=True)

    def _needs_turn(self, folder: BookFolder, manifest: BookManifest) -> bool:
        """After a part: whether the book needs another turn, because a part is not done yet
        (perhaps held by another process: that turn then ends at once, having found nothing
        to take) or because every chapter is done and the book is to be joined."""
        return bool(self._undone(folder, manifest)) or _all_chapters_done(folder, manifest)

    async def _join_book(self, job: Job, folder: BookFolder, manifest: BookManifest) -> str:
        """Join the chapters into the book's file under the assembly lock, and record the
        book done; why the turn ended."""
        name = f"{_ASSEMBLY}:{job.id}"
        token = await self.store.try_lock(name, self.terms.lock_s)
        if token is None:
            return "another turn joins the book"
        try:
            lease = await self._lease(job.id, name, token, folder, manifest)
            why = await lease.run(self._join_book_held(job, folder, manifest, lease))
        finally:
            with contextlib.suppress(SayfileError):
                await self.store.unlock(name, token)
        return why

    async def _join_book_held(
        self, job: Job, folder: BookFolder, manifest: BookManifest, lease: Lease
    ) -> str:
        current = await self.store.get(job.id)
        if current is None or current.status.finished:
            return "the book is finished or deleted"
        target = self.files.path(job.id, job.extension)
        timings_target = self.files.timings_path(job.id)
        staged, staged_timings = _staged(target), _staged(timings_target)
        began = time.perf_counter()
        try:
            if job.package == ZIP.name:
                duration, timings, size = await self.remux.run(self._zip, folder, manifest, staged)
            else:
                duration, timings, size = await self.remux.run(
                    self._one_file, job, folder, manifest, staged
                )
            record = timings.to_json()
            record[BOOK_CHAPTERS_KEY] = [[title, made is None] for title, made in manifest.listed()]
            await asyncio.to_thread(_write_json, staged_timings, record)
            await lease.confirm()
            await asyncio.to_thread(_rename, [(staged, target), (staged_timings, timings_target)])
        finally:
            await asyncio.to_thread(_unlink, [staged, staged_timings])
        log.info(
            "a book was joined from %d chapters in %.3f s",
            len(manifest.chapters),
            time.perf_counter() - began,
        )
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
            if await recorded_status(self.store, job.id) in _GONE:
                await asyncio.to_thread(self._remove_files, job.id)
            return "the book was joined, but it was deleted or failed meanwhile"
        await asyncio.to_thread(self.forget, job.id)
        return f"the book was made: {size} bytes, {duration:.1f} s of audio"

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

    def _remove_files(self, job_id: str) -> None:
        """The book's folder and its file go (each job's file under its own extension)."""
        self.forget(job_id)
        for path in self.files.root.glob(f"{job_id}.*"):
            path.unlink(missing_ok=True)


class _Unusable(Exception):
    """A book that is still queued or running has no folder, or a manifest that cannot be
    read: no turn will ever make it."""


def _staged(path: Path) -> Path:
    """A name of its own beside `path` to write it at (`part-0007.<random>.mp3.part`): no
    two writers ever share one, and it still reads as begun and unfinished."""
    first, _, rest = path.name.partition(".")
    return path.with_name(f"{first}.{secrets.token_hex(6)}.{rest}{PART}")


def _rename(moves: Sequence[tuple[Path, Path]]) -> None:
    for source, target in moves:
        source.replace(target)


def _unlink(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _write_json(path: Path, record: dict[str, object]) -> None:
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


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
