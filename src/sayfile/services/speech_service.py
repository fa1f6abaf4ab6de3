"""The use cases every interface calls (the page, the JSON API, the OpenAI route, the command
line): speak, stream, create a job, look one up, open its audio, cancel, list voices. Every
limit and default is chosen here, none in a route."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from sayfile.audio.chapter_marks import CHAPTER_MARK, MAX_CHAPTERS, chapter_marks_from_timings
from sayfile.audio.formats import FORMATS, AudioFormat, audio_format, with_bitrate
from sayfile.audio.timings import Timing, Timings
from sayfile.books.parts import (
    BOOK_CHAPTERS_KEY,
    BookFolder,
    BookManifest,
    ChapterProgress,
    split_book,
)
from sayfile.books.reading import (
    Book,
    Chapter,
    book_ssml,
    choose_chapters,
    open_book,
    title_of,
)
from sayfile.errors import (
    Busy,
    InvalidBook,
    InvalidInput,
    JobBusy,
    JobExpired,
    JobFailed,
    JobNotFound,
    JobNotReady,
    SayfileError,
    StoreUnavailable,
    TextTooLong,
    TooManyActive,
    TooMuchSilence,
)
from sayfile.jobs.admission import Admission, Ticket
from sayfile.jobs.answers import Answer, AnswerCache
from sayfile.jobs.download_names import stem_for, title_stem
from sayfile.jobs.events import JobEvents
from sayfile.jobs.lifecycle import JobLifecycle, failure_error
from sayfile.jobs.quota import StorageQuota, estimate_bytes, speech_seconds
from sayfile.lru_map import KEPT_JOBS, LruMap
from sayfile.models import BookChoice, BookUpload, SpeechRequest, Voice
from sayfile.queue import JobQueue
from sayfile.settings import Settings
from sayfile.speech.pace import JobPace
from sayfile.speech.plans import validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import SpeechPlan, Synthesizer
from sayfile.store import JobStore
from sayfile.store.files import AudioFiles
from sayfile.store.records import FailureReason, Job, JobStatus, cache_key, is_job_id, new_job_id
from sayfile.text.language_detection import LanguageVoice
from sayfile.text.markup import TextFormat, spoken, text_format
from sayfile.voices.catalogue import Catalogue, sample_text
from sayfile.whole_files import is_unfinished

log = logging.getLogger(__name__)

# A watcher looks at the record itself this often even without events, in case one was lost
# (Redis pub/sub delivers at most once).
_RECHECK_S = 5.0
# A book nobody works at is handed out again this many times before it fails: more than a
# busy cluster's queue needs, few enough to stop a book whose parts crash every worker.
_MAX_RESUMES = 50
# More chapters than any book has: a chapter number beyond it is not looked up.
_MAX_CHAPTERS = 100_000
# A one-time download claims its link in the store for at most this long: a process that dies
# while sending leaves the link blocked (409) no longer than this.
_DOWNLOAD_CLAIM_S = 3600.0
# The cover picture's file in a book's folder, by its media type.
_COVER_FILES = {"image/jpeg": "cover.jpg", "image/png": "cover.png"}
_SWEEPER = "sweeper"  # the store lock of the one process sweeping at a time
_RESTARTED = "interrupted because the server restarted before it finished; please submit it again"
_LOST = (
    "the worker synthesizing this job stopped (it crashed or was killed); please submit it again"
)
_NOT_PICKED_UP = "no worker picked this job up in time; check that `sayfile worker` is running"


class Purpose(Enum):
    """What a request is for, which decides its character limit."""

    direct = "direct"  # POST /speech: the whole file is the answer
    stream = "stream"  # sent while synthesized
    job = "job"  # a download link
    book = "book"  # an uploaded book, or a long text made as one


# The setting that holds each purpose's character limit.
_LIMITS = {
    Purpose.direct: "max_chars_direct",
    Purpose.stream: "max_chars_job",
    Purpose.job: "max_chars_job",
    Purpose.book: "max_chars_book",
}

# Silence (<break>s, paragraph pauses) a request may ask for on top of as much silence as it
# has speech: pauses can at most double a file, and a word with a thousand breaks is refused.
_SILENCE_S = {
    Purpose.direct: 60.0,
    Purpose.stream: 600.0,
    Purpose.job: 600.0,
    Purpose.book: 3600.0,
}


@dataclass
class SpeechStream:
    """An admitted stream whose first piece is already made: `chunks()` yields it and the
    rest; `close()` (always called) stops synthesis and gives the place back. `heard` holds
    the timing of every piece whose bytes have been yielded (and perhaps of the next)."""

    plan: SpeechPlan
    first: bytes
    rest: AsyncGenerator[bytes, None]
    ticket: Ticket
    heard: list[Timing]

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        if self.first:
            yield self.first
        async for piece in self.rest:
            yield piece

    async def close(self) -> None:
        try:
            await self.rest.aclose()
        finally:
            self.ticket.release()


class SpeechService:
    """Takes speech requests; hands back audio, streams and jobs."""

    def __init__(
        self,
        settings: Settings,
        synthesizer: Synthesizer,
        store: JobStore,
        lifecycle: JobLifecycle,
        events: JobEvents,
        files: AudioFiles,
        queue: JobQueue,
        admission: Admission,
        quota: StorageQuota,
        answers: AnswerCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.synthesizer = synthesizer
        self.catalogue: Catalogue = synthesizer.catalogue
        self.store = store
        self.lifecycle = lifecycle
        self.events = events
        self.files = files
        self.queue = queue
        self.admission = admission
        self.quota = quota
        self.answers = answers
        self._clock = clock
        # Bytes of one-time files sent so far, by job, and the store's claim on each one
        # being sent now from this process.
        # (Bounded: a download manager that never finishes must not grow the process.)
        self._delivered: LruMap[str, int] = LruMap(KEPT_JOBS)
        self._claims: dict[str, str] = {}
        # Voice samples being made, by cache key.
        self._samples: dict[str, asyncio.Lock] = {}
        # This process's token for the sweeper lock: an answer lost with the store (a Redis
        # pause) when taking or releasing it must not leave the lock held by nobody known.
        self._sweeper_token = secrets.token_hex(16)

    # -- validation -----------------------------------------------------------------------

    def limit(self, purpose: Purpose) -> int:
        """The most characters a request for `purpose` may have."""
        limit: int = getattr(self.settings, _LIMITS[purpose])
        return limit

    def plan(self, request: SpeechRequest, purpose: Purpose) -> SpeechPlan:
        """Validate a request for `purpose` (on the thread it is called on). Raises
        InvalidInput (or a subclass such as TextTooLong, naming the setting whose limit the
        text is over) naming what is wrong and what is allowed."""
        setting = f"SAYFILE_{_LIMITS[purpose].upper()}"
        limit = self.limit(purpose)
        plan = validate(request, self.synthesizer, self.settings, limit, setting)
        # The limits hold for what is spoken and written, not for what was typed: a
        # lexicon replacement or a say-as can say far more than its text, a <break> makes
        # audio out of nothing.
        most = self.settings.max_sentence_chars
        for span in plan.spans:
            # Words are cut into sentences of at most `most`; a pronunciation is one engine
            # call whatever its length, so a longer one would pin a thread for minutes.
            if len(said := span.phonemes or span.pinyin or "") > most:
                raise InvalidInput(
                    f"A <phoneme> (or lexicon pronunciation) is {len(said)} characters long; "
                    f"allowed: at most {most} (SAYFILE_MAX_SENTENCE_CHARS). Split it up.",
                    field="text",
                )
        chapters = sum(1 for span in plan.spans if (span.mark or "").startswith(CHAPTER_MARK))
        if chapters > MAX_CHAPTERS:
            # Refused now rather than failing when the marks are written, after synthesis.
            raise InvalidInput(
                f"The text has {chapters} chapter marks (<mark name='{CHAPTER_MARK}...'>); "
                f"allowed: at most {MAX_CHAPTERS}.",
                field="text",
            )
        if plan.spoken_chars > limit:
            raise TextTooLong(plan.spoken_chars, limit, setting, spoken=True)
        allowed = _SILENCE_S[purpose] + speech_seconds(plan.words, plan.speed)
        if plan.silence_s > allowed:
            raise TooMuchSilence(plan.silence_s, allowed, _SILENCE_S[purpose])
        return plan

    async def _plan(self, request: SpeechRequest, purpose: Purpose) -> SpeechPlan:
        """`plan`, on the executor: reading Markdown (about 3 ms per 1,000 characters) and
        finding each sentence's language (5-19 ms per 1,000) would hold up the event loop."""
        lane = Lane.background if purpose in (Purpose.job, Purpose.book) else Lane.interactive
        return await self.synthesizer.executor.run(
            functools.partial(self.plan, request, purpose), lane
        )

    def voices(self, language: str | None = None) -> list[Voice]:
        """The catalogue (best first for `language`)."""
        return self.catalogue.voices(language)

    async def sample(self, voice_id: str, client: str | None = None) -> Job:
        """A short sentence in the voice's own language, made the first time it is asked
        for and then served from the finished file while it lives; `client`'s limits count
        it like speech. Raises UnknownVoice, and what `speak` raises (TooManyActive, Busy)."""
        voice = self.catalogue.resolve(voice=voice_id)
        text = sample_text(voice)
        request = SpeechRequest(text, voice=voice.id, format="mp3")
        plan = await self._plan(request, Purpose.direct)
        # Many asking for the same sample at once wait for the one being made and then share
        # its file, rather than each queueing a job of its own.
        key = self._key(plan, client)
        lock = self._samples.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                # A job with a kept file, not an answer in memory: players fetch in ranges.
                return await self._speak_as_job(plan, client)
        finally:
            if not lock.locked() and self._samples.get(key) is lock:
                del self._samples[key]

    def lexicons(self) -> list[dict[str, object]]:
        """The pronunciation lexicons every request gets: each file, its language, entries."""
        return self.synthesizer.lexicon.describe()

    def voice_ids(self) -> frozenset[str]:
        """Every voice id the catalogue has."""
        return frozenset(voice.id for voice in self.catalogue.voices())

    async def languages(self) -> list[LanguageVoice]:
        """Each language a voice speaks, the voice its text gets with no hint, whether that
        is neural and whether such text is recognised (the identifier loads off the loop)."""
        return await self.synthesizer.executor.run(self.synthesizer.languages.table)

    def voice(self, voice: str | None = None, language: str | None = None) -> Voice:
        """The voice a request naming `voice` or `language` (or neither) gets."""
        return self.catalogue.resolve(voice=voice, language=language)

    # -- speaking -------------------------------------------------------------------------

    async def speak(
        self, request: SpeechRequest, client: str | None, purpose: Purpose = Purpose.direct
    ) -> Answer | Job:
        """Make the whole file for someone waiting (POST /speech). Text of up to
        `max_chars_in_memory` characters is made in memory and answered as such: no record, no
        file, and the same request again is answered from the recent answers. Longer text is a
        job: the done job, or the job still working when the wait limit passed (its link
        serves it later). Either way its sentences go before background jobs'. Cancelling the
        call (the client hung up) stops the synthesis and leaves no file. Raises InvalidInput,
        TooManyActive, Busy, and the job's failure as an error."""
        plan = await self._plan(request, purpose)
        if len(plan.words) > self.settings.max_chars_in_memory:
            return await self._speak_as_job(plan, client)
        return await self._answer(plan, client)

    async def _answer(self, plan: SpeechPlan, client: str | None) -> Answer:
        now = self._clock()
        key = self._key(plan, client)
        answer = self.answers.get(key, now)
        if answer is not None:
            return answer
        previous = await self.store.find_done(key, now)
        answer = await self._answer_from(previous, plan) if previous is not None else None
        if answer is None:
            holder = client or ""
            await self._check_client(holder)
            ticket = self.admission.enter(held_by=holder)
            try:
                turn = self.synthesizer.executor.turn(Lane.interactive, holder)
                made = await self.synthesizer.render(plan, turn)
            finally:
                ticket.release()
            answer = Answer(made.data, plan.format, stem_for(plan.words), made.duration_s)
        self.answers.put(key, answer, now + self.settings.ttl_seconds)
        return answer

    async def _answer_from(self, job: Job, plan: SpeechPlan) -> Answer | None:
        """The finished file of an identical job, read into memory (short text only), or None
        when it has gone meanwhile."""
        path = self.files.path(job.id, plan.format.extension)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        return Answer(data, plan.format, job.stem, job.duration_s or 0.0)

    async def _speak_as_job(self, plan: SpeechPlan, client: str | None) -> Job:
        job = self._new_job(plan, client, one_time=False, interactive=True)
        with self.events.watch(job.id) as watch:
            job = await self._submit(job, plan)
            try:
                deadline = time.monotonic() + self.settings.direct_wait_seconds
                while not job.status.finished and (left := deadline - time.monotonic()) > 0:
                    await watch.next(min(left, _RECHECK_S))
                    job = await self.get(job.id)
            except asyncio.CancelledError:
                with contextlib.suppress(SayfileError):
                    await self.cancel(job.id)
                raise
        if job.status == JobStatus.failed:
            raise failure_error(job)
        return job

    async def stream(self, request: SpeechRequest, client: str | None) -> SpeechStream:
        """Admit a stream and make its first piece, so that a refusal or an engine error on
        the first sentence is an error status, not an empty 200. Raises TooManyActive, Busy,
        InvalidInput, EngineError."""
        plan = await self._plan(request, Purpose.stream)
        if not plan.format.streamable:
            streamable = ", ".join(name for name, f in FORMATS.items() if f.streamable)
            raise InvalidInput(
                f"format {plan.format.name} cannot be streamed (its container is written "
                f"last); allowed for streams: {streamable}.",
                field="format",
            )
        key = client or ""
        await self._check_client(key)
        ticket = self.admission.enter(held_by=key)
        heard: list[Timing] = []
        turn = self.synthesizer.executor.turn(Lane.interactive, key)
        rest = self.synthesizer.stream(plan, turn, heard=heard)
        try:
            first = await anext(rest, b"")
        except BaseException:
            with contextlib.suppress(Exception):
                await rest.aclose()
            ticket.release()
            raise
        return SpeechStream(plan, first, rest, ticket, heard)

    async def speak_or_stream(
        self, request: SpeechRequest, client: str | None
    ) -> SpeechStream | Answer | Job:
        """For clients that save what they get (the OpenAI route): a stream, unless the format's
        header states its length (WAV, FLAC), which only a whole file gets right; then the
        whole file as `speak` gives it (with the stream's character limit)."""
        fmt = audio_format(request.format or self.settings.default_format)
        if fmt.sized_header:
            return await self.speak(request, client, Purpose.stream)
        return await self.stream(request, client)

    async def create_job(
        self,
        request: SpeechRequest,
        client: str | None,
        one_time: bool = False,
        choice: BookChoice | None = None,
    ) -> Job:
        """Create a job for a download link; synthesis is queued (or a finished identical
        file reused at once). A plain or Markdown text longer than `book_above_chars`, or one
        sent with a choice of chapters or bit rate, is made as a book (`create_book_job`), in
        parts that every process can take, with chapters where it has "Chapter 1" or "第一章"
        lines (Markdown: at its headings); SSML never is. Raises InvalidInput, Busy,
        TooManyActive, StorageFull, StoreUnavailable."""
        reading = text_format(request.text_format, request.text)
        chosen = choice is not None and (choice.chapters or choice.bitrate)
        if reading is not TextFormat.ssml and (self._long_text(request.text) or chosen):
            # Markdown is read as a Markdown book (chapters at its headings); plain text has
            # its addresses said briefly first, as a short text would.
            media_type = "text/markdown" if reading is TextFormat.markdown else "text/plain"
            said = request.text
            if reading is not TextFormat.markdown:
                read = functools.partial(spoken, request.text, reading)
                said = await self.synthesizer.executor.run(read, Lane.background)
            data = said.encode("utf-8")
            text = BookUpload(io.BytesIO(data), len(data), "", media_type)
            try:
                return await self.create_book_job(text, request, client, one_time, choice=choice)
            except InvalidBook as exc:
                exc.field = "text"  # the book came from the text field, not a file
                raise
        plan = await self._plan(request, Purpose.job)
        return await self._submit(self._new_job(plan, client, one_time, False), plan)

    async def create_book_job(
        self,
        book: BookUpload,
        request: SpeechRequest,
        client: str | None,
        one_time: bool = False,
        package: str = "file",
        choice: BookChoice | None = None,
    ) -> Job:
        """A job for an uploaded book (EPUB, Markdown or text): its chapters (those `choice`
        names, else all but the front matter) are made in parts (`book_parts.split_book`) by
        whichever processes take turns at it, then joined into one file with chapter marks
        and the book's title, author, language, year and cover (mp3, Opus, m4b), or a ZIP of
        chapter files (`package="zip"`). The client's limit is checked before the book is
        read; reading and validating run on the executor. Raises InvalidBook (BookTooLong
        over `max_chars_book`), InvalidInput (a choice of chapters or bit rate that does not
        fit), and what `create_job` raises (StorageFull when the book's expected size does
        not fit the quota)."""
        choice = choice or BookChoice()
        if client is not None:
            await self._check_client(client)
        read, chapters, plan = await self.synthesizer.executor.run(
            functools.partial(self._read_book, book, request, choice), Lane.background
        )
        made = [chapter for chapter in chapters if not chapter.skipped]
        fmt = with_bitrate(plan.format, choice.bitrate)
        plan = replace(plan, format=fmt)
        info = read.info
        cover = info.cover
        manifest = BookManifest(
            title=info.title or title_of(book.filename, made),
            chapters=tuple(chapter.title for chapter in made),
            parts=split_book(made, self.settings.book_part_chars),
            voice=plan.voice.id,
            format=fmt.name,
            part_format=fmt.book_parts or fmt.name,
            speed=plan.speed,
            loudness=plan.loudness,
            lexicon=plan.lexicon,
            package=package,
            skipped=tuple((n, c.title) for n, c in enumerate(chapters) if c.skipped),
            author=info.author,
            language=info.language,
            year=info.year,
            cover=_COVER_FILES.get(cover.media_type) if cover else None,
            bitrate=choice.bitrate,
            routed=plan.routed,
        )
        job = self._new_job(plan, client, one_time, False)
        job = job.evolve(
            book=True,
            package=package,
            key=f"{job.key}:{package}:{choice.bitrate or ''}",
            stem=title_stem(manifest.title),
            encoding=read.encoding,
        )
        return await self._submit(job, plan, manifest, cover.data if cover else None)

    async def preview_book(
        self, book: BookUpload, request: SpeechRequest, choice: BookChoice
    ) -> BookPreview:
        """A book's chapters (as `choice` chooses them; front matter skipped by default),
        what it says about itself, and how long each chapter and how big the file would be in
        the requested format and bit rate, before anything is made. Raises InvalidBook, and
        InvalidInput as `create_book_job` would (an unknown format or voice, a speed out of
        range, too many characters, a choice that does not fit)."""
        # Checked as the job would be: the same refusals now rather than after a click.
        read, chapters, plan = await self.synthesizer.executor.run(
            functools.partial(self._read_book, book, request, choice), Lane.background
        )
        fmt = with_bitrate(plan.format, choice.bitrate)
        seconds = [speech_seconds(chapter.text, plan.speed) for chapter in chapters]
        return BookPreview(
            title=read.info.title or title_of(book.filename, chapters),
            book=read,
            chapters=chapters,
            seconds=seconds,
            format=fmt,
        )

    def _read_book(
        self, book: BookUpload, request: SpeechRequest, choice: BookChoice
    ) -> tuple[Book, list[Chapter], SpeechPlan]:
        """The book, its chapters as `choice` chooses them, and the plan for speaking those
        made (on the executor: each takes time in the book's length)."""
        read = open_book(
            book.file, book.filename, book.media_type, max_chars=self.settings.max_chars_book
        )
        chapters = choose_chapters(read.chapters, choice.chapters)
        made = book_ssml([chapter for chapter in chapters if not chapter.skipped])
        plan = self.plan(replace(request, text=made, text_format=TextFormat.ssml), Purpose.book)
        return read, chapters, plan

    def _long_text(self, text: str) -> bool:
        """Whether a job's plain or Markdown `text` is long enough to be made as a book (over
        `book_above_chars`; up to the book limit, `max_chars_book`, whose error names it)."""
        above = self.settings.book_above_chars
        return 0 < above < len(text)

    def _new_job(
        self, plan: SpeechPlan, client: str | None, one_time: bool, interactive: bool
    ) -> Job:
        now = self._clock()
        return Job(
            id=new_job_id(),
            status=JobStatus.queued,
            format=plan.format.name,
            voice=plan.voice.id,
            key=self._key(plan, client),
            stem=stem_for(plan.words),
            created_at=now,
            expires_at=now + self.settings.ttl_seconds,
            one_time=one_time,
            client=client,
            interactive=interactive,
            chars=len(plan.words),
        )

    def _key(self, plan: SpeechPlan, client: str | None) -> str:
        """The key under which identical requests find each other's audio."""
        # Sentences routed to their languages' voices differ from the same text in one voice.
        routed = [plan.voices] if plan.routed else []
        variant = json.dumps([plan.loudness, plan.lexicon, *routed], sort_keys=True)
        return cache_key(
            plan.text, plan.voice.id, plan.format.name, plan.speed, self._owner(client), variant
        )

    def _owner(self, client: str | None) -> str:
        """Whose finished files a request may reuse. With API keys, each key's own: a file
        made at once would tell one key what another asked for. Without keys, everyone's."""
        return (client or "") if self.settings.api_keys else ""

    async def _submit(
        self,
        job: Job,
        plan: SpeechPlan,
        book: BookManifest | None = None,
        cover: bytes | None = None,
    ) -> Job:
        reused = await self._reuse(job)
        if reused is not None:
            return reused
        if job.client is not None:
            await self._check_client(job.client)
        if book is None:
            estimate = estimate_bytes(
                plan.words, plan.format, plan.voice.sample_rate, plan.speed, plan.silence_s
            )
        else:  # a book's millions of characters are counted off the event loop
            estimate = await asyncio.to_thread(
                estimate_bytes,
                plan.words,
                plan.format,
                plan.voice.sample_rate,
                plan.speed,
                plan.silence_s,
            )
        # The record, which holds the reservation for every process, exists before any file
        # or worker can refer to it.
        job = job.evolve(reserved_bytes=estimate)
        async with self.quota.admitting(estimate):
            await self.lifecycle.add(job)
        try:
            if book is None:
                await self.queue.enqueue(job, plan)
            else:
                folder = BookFolder(self.files.book_dir(job.id))
                await asyncio.to_thread(folder.create, book, cover)
                await self.queue.enqueue_book(job, self.settings.book_turns)
        except BaseException:
            await self.lifecycle.delete(job.id)
            if book is not None:
                await asyncio.to_thread(self.files.remove_book, job.id)
            raise
        return job

    async def _reuse(self, job: Job) -> Job | None:
        """A done, unexpired job with the same text, voice, format and speed gives its file
        (a hard link, so each job still owns its file)."""
        previous = await self.store.find_done(job.key, self._clock())
        if previous is None:
            return None
        done = job.evolve(
            status=JobStatus.done,
            progress=1.0,
            bytes=previous.bytes,
            duration_s=previous.duration_s,
        )
        # Record first, then the file: a sweep in between must not see a file without a job.
        await self.lifecycle.add(done)
        ext = job.extension
        if self.files.link(self.files.path(previous.id, ext), self.files.path(job.id, ext)):
            self.files.link(self.files.timings_path(previous.id), self.files.timings_path(job.id))
            return done
        await self.lifecycle.delete(job.id)
        return None

    async def _check_client(self, client: str) -> None:
        active = await self.store.active_count(client) + self.admission.under_way(client)
        if active >= self.settings.max_active_per_client:
            raise TooManyActive(self.settings.max_active_per_client)

    # -- jobs -----------------------------------------------------------------------------

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
        progress so far (`pace.PaceBook`); None once it has finished or when nothing tells.
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
        left = self.lifecycle.pace.seconds_left(voice, JobPace(job.chars, job.progress, elapsed))
        return None if left is None else float(round(left))

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

    async def open_audio(self, job_id: str, download: bool = False) -> tuple[Job, BinaryIO]:
        """The finished file of a done job, opened for reading (the caller closes it); once
        open it can be read whole even if the link ends meanwhile. With `download` (a GET,
        not a HEAD) a one-time link is held until `delivered` is called: one download at a
        time, so two at once cannot both get the file. Raises JobNotFound, JobExpired,
        JobFailed, JobNotReady (while queued or running) or JobBusy."""
        job = await self._done(job_id)
        if not (download and job.one_time):
            return job, await self._open(job)
        # The claim is taken in the store before the record is read again, and given back
        # only after the link is used up (`delivered`): whoever claims next, in this process
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

    async def _open(self, job: Job) -> BinaryIO:
        try:
            return await asyncio.to_thread(self.files.path(job.id, job.extension).open, "rb")
        except FileNotFoundError:
            raise JobExpired() from None

    async def _done(self, job_id: str) -> Job:
        """The job, if it is done. Raises JobNotFound, JobExpired, JobFailed or JobNotReady."""
        job = await self.get(job_id)
        if job.status == JobStatus.expired:
            raise JobExpired()
        if job.status == JobStatus.failed:
            raise JobFailed(job.error or "unknown error")
        if job.status != JobStatus.done:
            raise JobNotReady(job.status.value)
        return job

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

    async def open_chapter(self, job_id: str, number: int) -> tuple[AudioFormat, Path]:
        """The audio of chapter `number` (from 1) of a book still being made, once that
        chapter is done (a done book's chapters are marked in its file). Raises JobNotFound,
        JobNotReady (the chapter, or the book, is not there)."""
        job = await self.get(job_id)
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

    async def delivered(self, job: Job, count: int) -> None:
        """A download of the file has ended, `count` bytes sent (any range). A one-time link
        ends once as many bytes as the file has went out, in one GET or in ranges:
        `Range: bytes=0-` or a download manager's pieces use it up like a plain download."""
        if not job.one_time:
            return
        token = self._claims.pop(job.id, None)
        try:
            total = self._delivered.get(job.id, 0) + count
            if total < (job.bytes or 0):
                self._delivered[job.id] = total
                return
            self._delivered.pop(job.id, None)
            await self.lifecycle.expire(job.id, self._clock())
            self.files.remove(job.id, job.extension)
        finally:
            if token is not None:
                await self.store.unlock(_download_claim(job.id), token)

    async def cancel(self, job_id: str) -> None:
        """Stop a queued or running job (wherever it runs), or delete a finished one; its
        record and file go too. Raises JobNotFound."""
        job = await self.get(job_id)
        await self.lifecycle.delete(job.id)
        self.queue.cancel(job.id)
        self.files.remove(job.id, job.extension)
        if job.book:
            await asyncio.to_thread(self.files.remove_book, job.id)

    # -- lifetime -------------------------------------------------------------------------

    async def start(self, interrupted: bool) -> None:
        """Prepare the data folder. With `interrupted` (this process alone runs its store's
        jobs, as the embedded server does), every job left queued or running by an earlier
        life of the process failed: it is marked so at once."""
        self.files.ensure()
        try:
            if interrupted:
                for job in await self.store.unfinished():
                    if job.book and self.files.book_dir(job.id).is_dir():
                        await self._resume(job)  # from its finished parts
                        continue
                    # Files go only once the failure is recorded: a job that ended meanwhile
                    # (done, with its file) keeps what it has.
                    if await self.lifecycle.fail(job.id, FailureReason.interrupted, _RESTARTED):
                        self.files.remove(job.id, job.extension)
            await self.sweep()  # files and records as a crash may have left them
        except StoreUnavailable:
            # Serve anyway: /readyz says the store is away, and the sweeper tries again.
            log.warning("the job store is unreachable at start-up; sweeping once it is back")

    async def sweep(self) -> int:
        """Fail jobs whose process died, expire what is due, forget old records, and remove
        files nobody owns. One process sweeps at a time. Returns the files deleted."""
        # The lock outlives a sweep that hangs, but not the next round by much.
        seconds = self.settings.sweep_interval_seconds + 60
        token = self._sweeper_token
        # Ours already (taken or kept by a call whose answer was lost: every process would
        # otherwise wait the lock's minute for a sweep), or free: this process sweeps.
        ours = await self.store.extend_lock(_SWEEPER, token, seconds)
        if not ours and await self.store.try_lock(_SWEEPER, seconds, token) is None:
            return 0
        try:
            return await self._sweep()
        finally:
            await self.store.unlock(_SWEEPER, token)

    async def _sweep(self) -> int:
        now = self._clock()
        deleted = 0
        for job in await self.store.unfinished():
            await self._sweep_unfinished(job, now)
        for job in await self.store.due(now):
            # Recorded expired first: a store that fails here leaves a done job with its
            # file, which the next round expires, never a done job whose file is gone.
            await self.lifecycle.expire(job.id)
            self.files.remove(job.id, job.extension)
            deleted += 1
        for job in await self.store.stale_records(now - self.settings.record_ttl_seconds):
            await self.store.delete(job.id)
        for path in await asyncio.to_thread(self.files.listing):
            if await self._orphan(path):
                path.unlink(missing_ok=True)
                deleted += 1
        for path in await asyncio.to_thread(self.files.book_listing):
            if not is_job_id(path.name):
                continue  # not sayfile's
            owner = await self.store.get(path.name)
            if owner is None or owner.status.finished:
                await asyncio.to_thread(self.files.remove_book, path.name)
                deleted += 1
        return deleted

    async def _sweep_unfinished(self, job: Job, now: float) -> None:
        """A queued or running job nobody works at: a book gets new turns (its finished parts
        stay); a job whose file was made whole is recorded done (its runner could not); the
        rest fail, and their files go once that is recorded."""
        if job.book and job.resumes < _MAX_RESUMES and self._turns_lost(job, now):
            # The processes that worked at it are gone, or its turns were lost with them. A
            # queued book may only be waiting in a long queue: one more turn (which starts
            # it) is enough to find out, and jumps the queue by one part at most.
            await self._resume(job, None if job.status == JobStatus.running else 1)
            return
        failure = self._stale(job, now)
        if failure is None:
            return
        if job.status == JobStatus.running and not job.book and await self._finish_made(job):
            return
        if await self.lifecycle.fail(job.id, *failure) is None:
            return  # it ended meanwhile (perhaps done): its files are its own
        log.info("the sweeper failed a job: %s", failure[0].value)
        self.files.remove(job.id, job.extension)
        if job.book:
            await asyncio.to_thread(self.files.remove_book, job.id)

    def _turns_lost(self, job: Job, now: float) -> bool:
        """A running book whose heartbeat is older than the worker timeout, or a queued one
        that no turn has started for a worker timeout since it was made (or last resumed):
        found by the sweep within a worker timeout and a sweep interval."""
        timeout = self.settings.worker_timeout_seconds
        if job.status == JobStatus.running:
            return job.heartbeat_at is not None and job.heartbeat_at < now - timeout
        return job.created_at < now - timeout * (job.resumes + 1)

    async def _finish_made(self, job: Job) -> bool:
        """Record `job` done when its file and timings are there whole (its runner made them
        but could not record it: the store was away); True when it is done now."""
        try:
            made = await asyncio.to_thread(self._made, job)
        except (OSError, ValueError):
            return False
        if made is None:
            return False
        size, duration = made
        done = await self.lifecycle.finish(job.id, size, duration)
        if done is not None:
            log.info("the sweeper recorded a job done whose runner could not")
        return done is not None

    def _made(self, job: Job) -> tuple[int, float] | None:
        """The size and duration of a job's file when it and its timings are whole."""
        path = self.files.path(job.id, job.extension)
        if not path.is_file() or not self.files.timings_path(job.id).is_file():
            return None
        duration = self.files.read_timings(job.id).get("duration")
        if not isinstance(duration, int | float):
            return None
        return path.stat().st_size, float(duration)

    async def _resume(self, job: Job, turns: int | None = None) -> None:
        """Give a book whose turns were lost new ones; its heartbeat starts again now, so the
        next sweep waits a worker timeout before it looks again. A full queue or one that is
        away skips the book this round (the next sweep tries again), never the sweep."""
        resumed = await self.store.change(
            job.id,
            {job.status},
            heartbeat_at=self._clock() if job.status == JobStatus.running else None,
            resumes=job.resumes + 1,
        )
        if resumed is None:
            return
        try:
            await self.queue.enqueue_book(resumed, turns or self.settings.book_turns)
        except (Busy, StoreUnavailable) as exc:
            log.warning("a book could not be given new turns (%s); the next sweep tries", exc)
            return
        log.info("the sweeper gave a book new turns (%d so far)", resumed.resumes)

    def _stale(self, job: Job, now: float) -> tuple[FailureReason, str] | None:
        """Why an unfinished job is considered dead, or None while it is alive."""
        if job.heartbeat_at is not None:
            if job.heartbeat_at < now - self.settings.worker_timeout_seconds:
                return FailureReason.worker_lost, _LOST
        elif job.created_at < now - self.settings.queued_timeout_seconds:
            return FailureReason.not_picked_up, _NOT_PICKED_UP
        return None

    async def _orphan(self, path: Path) -> bool:
        owner = self.files.job_id_of(path)
        if owner is None:
            return True
        job = await self.store.get(owner)
        if job is None:
            return True
        if is_unfinished(path.name):
            # Live jobs keep their unfinished file; dead ones were failed above.
            return job.status.finished
        # A final file whose job is still running is being recorded as done right now.
        return job.status in (JobStatus.failed, JobStatus.expired)


@dataclass(frozen=True, slots=True)
class BookPreview:
    """A book before it is made: its title, what it says about itself, its chapters as chosen,
    each one's spoken length in seconds (an upper estimate), and the format it would be in."""

    title: str
    book: Book
    chapters: list[Chapter]
    seconds: list[float]
    format: AudioFormat

    @property
    def expected_bytes(self) -> int:
        """About how big the file of the chapters not skipped would be (an upper estimate;
        formats without a bit rate are counted as 16-bit samples at 24 kHz)."""
        per_second = self.format.bit_rate // 8 if self.format.bit_rate else 48_000
        spoken = sum(s for s, c in zip(self.seconds, self.chapters, strict=True) if not c.skipped)
        return int(spoken * per_second)


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


def _download_claim(job_id: str) -> str:
    return f"download:{job_id}"


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
