"""Requests for a download link (POST /jobs, POST /books/chapters): a text made as one job or,
when long or sent with a choice of chapters, as a book; an uploaded book read into chapters,
its manifest written, and its preview before anything is made."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, replace

from sayfile.audio.formats import BOOK_FORMATS, AudioFormat, with_bitrate
from sayfile.books.parts import BookManifest, split_book
from sayfile.books.reading import (
    Book,
    Chapter,
    book_ssml,
    choose_chapters,
    made_chapters,
    open_book,
    title_of,
)
from sayfile.errors import InvalidBook, InvalidInput
from sayfile.jobs.download_names import title_stem
from sayfile.jobs.quota import speech_seconds
from sayfile.models import BookChoice, BookUpload, SpeechRequest
from sayfile.services.limits import ActiveLimit, Purpose, PurposePlanner
from sayfile.services.reading import ChapterState, JobReader
from sayfile.services.submitting import Submissions
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane, SentenceExecutor
from sayfile.store.records import Job
from sayfile.text.markup import TextFormat, spoken, text_format

# The cover picture's file in a book's folder, by its media type.
_COVER_FILES = {"image/jpeg": "cover.jpg", "image/png": "cover.png"}


@dataclass(frozen=True, slots=True)
class BookPreview:
    """A book before it is made: its title, what it says about itself, its chapters as chosen,
    each one's spoken length in seconds (an upper estimate), and the format it would be in."""

    title: str
    book: Book
    chapters: list[Chapter]
    seconds: list[float]
    format: AudioFormat
    asked_format: str
    """The format as asked for: `epub` for a read-along book of `format`'s audio."""

    @property
    def expected_bytes(self) -> int:
        """About how big the file of the chapters not skipped would be (an upper estimate;
        formats without a bit rate are counted as 16-bit samples at 24 kHz)."""
        per_second = self.format.bit_rate // 8 if self.format.bit_rate else 48_000
        spoken = sum(s for s, c in zip(self.seconds, self.chapters, strict=True) if not c.skipped)
        return int(spoken * per_second)


class JobRequests:
    """Turns a request for a download link (text or book) into a submitted job."""

    def __init__(
        self,
        settings: Settings,
        planner: PurposePlanner,
        limit: ActiveLimit,
        executor: SentenceExecutor,
        submissions: Submissions,
        reader: JobReader,
    ) -> None:
        self.settings = settings
        self.planner = planner
        self.limit = limit
        self.executor = executor
        self.submissions = submissions
        self.reader = reader

    async def create_job(
        self,
        request: SpeechRequest,
        client: str | None,
        one_time: bool = False,
        choice: BookChoice | None = None,
    ) -> Job:
        """Create a job for a download link; synthesis is queued (or a finished identical
        file reused at once). A plain or Markdown text longer than `book_above_chars`, or one
        sent with a choice of chapters or bit rate or in a book format (`epub`), is made as
        a book (`create_book_job`), in
        parts that every process can take, with chapters where it has "Chapter 1" or "第一章"
        lines (Markdown: at its headings); SSML never is. Raises InvalidInput, Busy,
        TooManyActive, StorageFull, StoreUnavailable."""
        reading = text_format(request.text_format, request.text)
        chosen = choice is not None and (choice.chapters or choice.bitrate)
        chosen = chosen or _book_format(request) is not None
        if reading is not TextFormat.ssml and (self._made_as_book(request.text) or chosen):
            # Markdown is read as a Markdown book (chapters at its headings); plain text has
            # its addresses said briefly first, as a short text would.
            media_type = "text/markdown" if reading is TextFormat.markdown else "text/plain"
            said = request.text
            if reading is not TextFormat.markdown:
                read = functools.partial(spoken, request.text, reading)
                said = await self.executor.run(read, Lane.background)
            data = said.encode("utf-8")
            text = BookUpload(io.BytesIO(data), len(data), "", media_type)
            try:
                return await self.create_book_job(text, request, client, one_time, choice=choice)
            except InvalidBook as exc:
                exc.field = "text"  # the book came from the text field, not a file
                raise
        plan = await self.planner.plan_on_executor(request, Purpose.job)
        job = self.submissions.new_job(plan, client, one_time, interactive=False)
        return await self.submissions.submit(job, plan)

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
        names, else all but the front matter) are made in parts (`books.parts.split_book`) by
        whichever processes take turns at it, then joined into one file with chapter marks
        and the book's title, author, language, year and cover (mp3, Opus, m4b), a ZIP of
        chapter files (`package="zip"`), or a read-along EPUB (`format="epub"`). The
        client's limit is checked before the book is read; reading and validating run on
        the executor. Raises InvalidBook (BookTooLong over `max_chars_book`), InvalidInput
        (a choice of chapters or bit rate that does not fit), and what `create_job` raises
        (StorageFull when the book's expected size does not fit the quota)."""
        choice = choice or BookChoice()
        request, package = _packaged(request, package)
        if client is not None:
            await self.limit.check(client)
        read, chapters, made, plan = await self.executor.run(
            functools.partial(self._read_book, book, request, choice), Lane.background
        )
        fmt = with_bitrate(plan.format, choice.bitrate)
        plan = replace(plan, format=fmt)
        info = read.info
        cover = info.cover
        # Each chapter's sentences are found again: time in the book's length.
        layouts = await self.executor.run(
            lambda: [chapter.layout(self.settings.max_sentence_chars) for chapter in made],
            Lane.background,
        )
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
            paragraphs=tuple(layout.paragraphs for layout in layouts),
            joined=tuple(layout.joined for layout in layouts),
            endings=tuple(layout.endings for layout in layouts),
        )
        job = self.submissions.new_job(plan, client, one_time, interactive=False)
        job = job.evolve(
            book=True,
            package=package,
            key=f"{job.key}:{package}:{choice.bitrate or ''}",
            stem=title_stem(manifest.title),
            encoding=read.encoding,
        )
        return await self.submissions.submit(job, plan, manifest, cover.data if cover else None)

    async def preview_book(
        self, book: BookUpload, request: SpeechRequest, choice: BookChoice
    ) -> BookPreview:
        """A book's chapters (as `choice` chooses them; front matter skipped by default),
        what it says about itself, and how long each chapter and how big the file would be in
        the requested format and bit rate, before anything is made. Raises InvalidBook, and
        InvalidInput as `create_book_job` would (an unknown format or voice, a speed out of
        range, too many characters, a choice that does not fit)."""
        # Checked as the job would be: the same refusals now rather than after a click.
        request, package = _packaged(request, "file")
        read, chapters, _, plan = await self.executor.run(
            functools.partial(self._read_book, book, request, choice, listing=True),
            Lane.background,
        )
        fmt = with_bitrate(plan.format, choice.bitrate)
        seconds = [speech_seconds(chapter.text, plan.speed) for chapter in chapters]
        return BookPreview(
            title=read.info.title or title_of(book.filename, chapters),
            book=read,
            chapters=chapters,
            seconds=seconds,
            format=fmt,
            asked_format=package if package != "file" else fmt.name,
        )

    async def chapters(self, job: Job) -> list[ChapterState] | None:
        """The new job's chapters as they stand (`JobReader.chapters`)."""
        return await self.reader.chapters(job)

    def eta(self, job: Job) -> float | None:
        """The new job's time left (`JobReader.eta`)."""
        return self.reader.eta(job)

    def _read_book(
        self, book: BookUpload, request: SpeechRequest, choice: BookChoice, listing: bool = False
    ) -> tuple[Book, list[Chapter], list[Chapter], SpeechPlan]:
        """The book, its chapters as `choice` chooses them, those made, and the plan for
        speaking them (on the executor: each takes time in the book's length). A book `listing` its
        chapters may choose more than one file holds (a web novel), so that they can be chosen
        from; its plan then speaks the first that fit."""
        read = open_book(
            book.file, book.filename, book.media_type, max_chars=self.settings.max_chars_book
        )
        chapters = choose_chapters(read.chapters, choice.chapters)
        made = made_chapters(chapters, listing=listing)
        ssml = replace(request, text=book_ssml(made), text_format=TextFormat.ssml)
        return read, chapters, made, self.planner.plan(ssml, Purpose.book)

    def _made_as_book(self, text: str) -> bool:
        """Whether a job's plain or Markdown `text` is long enough to be made as a book (over
        `book_above_chars`; up to the book limit, `max_chars_book`, whose error names it)."""
        above = self.settings.book_above_chars
        return 0 < above < len(text)


def _book_format(request: SpeechRequest) -> str | None:
    """The book format `request` asks for (`epub`), or None."""
    name = (request.format or "").strip().lower()
    return name if name in BOOK_FORMATS else None


def _packaged(request: SpeechRequest, package: str) -> tuple[SpeechRequest, str]:
    """A book asked for in a book format (`format=epub`) as the request for its audio (the
    format inside) and the package it is delivered in. Raises InvalidInput when `package`
    asks for another."""
    name = _book_format(request)
    if name is None:
        return request, package
    if package not in ("file", name):
        raise InvalidInput(
            f"format {name} is a package of its own; send package=file (or leave it out) "
            f"with it, or another format with package={package}.",
            field="package",
        )
    return replace(request, format=BOOK_FORMATS[name]), name
