"""A job as its owner reads it: its record with the latest progress, its events until it ends,
the time it has left, and a book's chapters as they stand."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

from sayfile.audio.chapter_marks import chapter_marks_from_timings
from sayfile.audio.timings import Timings
from sayfile.books.parts import BOOK_CHAPTERS_KEY, BookFolder, ChapterProgress
from sayfile.errors import SayfileError
from sayfile.jobs.events import JobEvents, Watch
from sayfile.link_errors import JobNotFound
from sayfile.models import Voice
from sayfile.speech.pace import JobPace, PaceBook
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import Job, JobStatus, is_job_id
from sayfile.voices.catalogue import Catalogue

# A watcher looks at the record itself this often even without events, in case one was lost
# (Redis pub/sub delivers at most once).
_RECHECK_S = 5.0


@dataclass(frozen=True, slots=True)
class ChapterState:
    """One chapter of a book job: how far it is, and where it is in the finished file."""

    title: str
    state: ChapterProgress
    start: float | None = None
    end: float | None = None

    @property
    def done(self) -> bool:
        return self.state is ChapterProgress.done

    @property
    def skipped(self) -> bool:
        return self.state is ChapterProgress.skipped


class JobReader:
    """Reads jobs: their records, events, time left and chapters. Changes nothing."""

    def __init__(
        self,
        store: JobStore,
        events: JobEvents,
        files: AudioFiles,
        catalogue: Catalogue,
        pace: PaceBook,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.events = events
        self.files = files
        self.catalogue = catalogue
        self.pace = pace
        self._clock = clock

    async def get(self, job_id: str) -> Job:
        """The job as its owner sees it now. Raises JobNotFound for unknown ids."""
        job = await self.store.get(job_id) if is_job_id(job_id) else None
        if job is None:
            raise JobNotFound()
        if job.status == JobStatus.running:
            # Progress is announced as it happens and written with heartbeats only.
            latest = self.events.latest(job_id)
            if latest is not None and latest.progress > job.progress:
                job = job.evolve(progress=latest.progress)
        if job.status == JobStatus.done and job.expires_at <= self._clock():
            # The sweeper has not come by yet; the link is expired all the same.
            job = job.evolve(status=JobStatus.expired)
        return job

    def eta(self, job: Job) -> float | None:
        """The seconds `job` has left, whole, from its voice's pace on this machine and its
        progress so far (`speech.pace.PaceBook`); None once it has finished or when nothing tells.
        A queued job's is the time it takes once started (its wait is not counted)."""
        if job.status.finished:
            return None
        try:
            voice: Voice | None = self.catalogue.resolve(voice=job.voice)
        except SayfileError:
            voice = None  # a voice only the workers have: the job's own pace tells
        elapsed = None
        if job.status == JobStatus.running and job.started_at is not None:
            elapsed = self._clock() - job.started_at
        left = self.pace.seconds_left(voice, JobPace(job.chars, job.progress, elapsed))
        return None if left is None else float(round(left))

    def watch(self, job_id: str) -> contextlib.AbstractContextManager[Watch]:
        """The job's events from now on, for `until_finished` (opened before the job is
        submitted, so none is missed)."""
        return self.events.watch(job_id)

    async def until_finished(self, job: Job, watch: Watch, seconds: float) -> Job:
        """The job once it has finished, or as it stands after `seconds`."""
        deadline = time.monotonic() + seconds
        while not job.status.finished and (left := deadline - time.monotonic()) > 0:
            await watch.next(min(left, _RECHECK_S))
            job = await self.get(job.id)
        return job

    async def follow(self, job_id: str) -> AsyncGenerator[Job, None]:
        """The job now, then again each time it changes, until it has finished. Raises
        JobNotFound, also when it is deleted meanwhile."""
        with self.events.watch(job_id) as watch:
            job = await self.get(job_id)
            yield job
            while not job.status.finished:
                event = await watch.next(_RECHECK_S)
                if event is not None and event.status == job.status.value and not event.final:
                    job = job.evolve(progress=max(job.progress, event.progress))
                else:
                    job = await self.get(job_id)
                yield job

    async def chapters(self, job: Job) -> list[ChapterState] | None:
        """A book's chapters as they stand: each one's title, whether its audio is done and,
        once the book is done, where it starts and ends in the file. None for other jobs,
        and for books that failed or expired."""
        if not job.book:
            return None
        if job.status == JobStatus.done:
            try:
                data = await asyncio.to_thread(self.files.read_timings, job.id)
            except FileNotFoundError:
                return None
            return _done_chapter_states(data)
        if job.status.finished:
            return None
        folder = BookFolder(self.files.book_dir(job.id))
        return await asyncio.to_thread(_chapter_states, folder)


def _chapter_states(folder: BookFolder) -> list[ChapterState] | None:
    try:
        manifest = folder.manifest()
        states = folder.chapter_states(manifest)
    except (FileNotFoundError, ValueError):
        return None  # finished or deleted meanwhile
    return [
        ChapterState(title, ChapterProgress.skipped)
        if made is None
        else ChapterState(title, states[made])
        for title, made in manifest.listed()
    ]


def _done_chapter_states(data: dict[str, object]) -> list[ChapterState]:
    """A done book's chapters from its timings record: the chapter marks, and the chapters
    listed but not made (`BOOK_CHAPTERS_KEY`) in their places."""
    timings = Timings.from_json(data)
    marks = iter(chapter_marks_from_timings(timings))
    listed = data.get(BOOK_CHAPTERS_KEY)
    if not isinstance(listed, list):
        return [ChapterState(m.title, ChapterProgress.done, m.start, m.end) for m in marks]
    states = []
    for title, skipped in listed:
        if skipped:
            states.append(ChapterState(str(title), ChapterProgress.skipped))
            continue
        # A book of one chapter made has no chapter marks: it is the whole file.
        mark = next(marks, None)
        start, end = (mark.start, mark.end) if mark else (0.0, timings.duration)
        states.append(ChapterState(str(title), ChapterProgress.done, start, end))
    return states
