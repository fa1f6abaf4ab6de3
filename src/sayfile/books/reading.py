"""Uploaded books read into chapters for an audiobook: the one path every kind of book takes
(the kind chosen from the content, the name or the media type; the limits on chapters and
characters; the title) and what is made of the chapters (the user's choice of them, the SSML of
a book). The readers of each kind are `epub`, `markdown_book` and `text_book`."""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from sayfile.audio.chapter_marks import CHAPTER_MARK, MAX_CHAPTERS
from sayfile.books.book_file import BookFile, base_name, title_from_name

# Callers take a book's chapters from here, where they are read.
from sayfile.books.chapters import Chapter as Chapter
from sayfile.books.chapters import ChapterDraft
from sayfile.books.epub import read_epub
from sayfile.books.epub_package import BookInfo
from sayfile.books.markdown_book import read_markdown
from sayfile.books.text_book import read_text
from sayfile.errors import BookTooLong, InvalidBook, InvalidInput

# The pause after a chapter.
CHAPTER_PAUSE_MS = 1500
# The most chapters a book read may have (a web novel has a thousand or two): listed and
# chosen from, though one file holds MAX_CHAPTERS of them (`made_chapters`).
MAX_BOOK_CHAPTERS = 10_000
# A chapter selection's piece: a number or a range of them, in ASCII digits (without
# re.ASCII, \d also takes other scripts' digits such as "５", which int() reads).
_RANGE = re.compile(r"\s*(?P<first>\d{1,6})\s*(?:[-–]\s*(?P<last>\d{1,6})\s*)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Book:
    """A book as read: every chapter, front matter included (marked skipped), what the book
    says about itself, and the encoding its text file was written in (a label such as
    `gb18030`; None for an EPUB, whose documents say their own)."""

    chapters: tuple[Chapter, ...]
    info: BookInfo
    encoding: str | None = None

    @property
    def spoken(self) -> list[Chapter]:
        return [chapter for chapter in self.chapters if not chapter.skipped]


def read_book(
    source: bytes | Path | BinaryIO,
    filename: str,
    media_type: str | None = None,
    max_chapters: int = MAX_BOOK_CHAPTERS,
    max_chars: int | None = 4_000_000,
) -> list[Chapter]:
    """The chapters of `open_book`, front matter included and marked `skipped`, for callers
    that need nothing else."""
    return list(open_book(source, filename, media_type, max_chapters, max_chars).chapters)


def open_book(
    source: bytes | Path | BinaryIO,
    filename: str,
    media_type: str | None = None,
    max_chapters: int = MAX_BOOK_CHAPTERS,
    max_chars: int | None = 4_000_000,
) -> Book:
    """Read the book uploaded as `filename` (its bytes, a path, or an open binary file, read
    from its start and left open): its chapters in reading order, none empty, and what it says
    about itself (an EPUB's title, author, language, year and cover; for other kinds,
    nothing). Front matter (cover, title page, copyright page, table of contents) is found from
    an EPUB's guide and landmarks, and from what short chapters say, in every kind of book.

    The kind of book comes from the content where it is an archive (a ZIP is read as an EPUB),
    else from the extension of `filename` (.epub, .md/.markdown, .txt), else from
    `media_type`, else plain text. Text files are read in the encoding they were written in
    (`encodings.decode_text`). Text is normalised; every paragraph and heading ends as a
    sentence, with "." (or "。" after Chinese or Japanese) added where it has no final mark.

    Raises InvalidBook if the file is not a readable book of its kind (an image, a PDF, a
    damaged or DRM-protected EPUB, bytes no encoding explains), has no text, or has more than
    `max_chapters` chapters; BookTooLong if it has more than `max_chars` characters of
    chapter text (None: no limit).
    """
    name = base_name(filename)
    if isinstance(source, Path):
        with source.open("rb") as file:
            return open_book(file, filename, media_type, max_chapters, max_chars)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    book = BookFile(source, name, max_chars)
    draft = _kind(book.head, name, media_type).read(book)
    chapters = draft.chapters()
    if not chapters:
        raise InvalidBook(f"{name!r} has no text to read.")
    if len(chapters) > max_chapters:
        raise InvalidBook(
            f"This book has {len(chapters):,} chapters; the limit is {max_chapters:,} chapters."
        )
    chars = sum(len(chapter.text) for chapter in chapters)
    if max_chars is not None and chars > max_chars:
        raise BookTooLong(chars, max_chars)
    return Book(tuple(chapters), draft.info, book.encoding)


def choose_chapters(chapters: Sequence[Chapter], selection: str | None) -> list[Chapter]:
    """`chapters` with `skipped` set as `selection` says: chapter numbers and ranges from 1,
    as the chapters are listed with front matter ("1-3,7"), are made and the others skipped;
    "all" makes every one; None or "" keeps the choice the reader made (front matter
    skipped). Raises InvalidInput (field `chapters`) for a selection that is not numbers and
    ranges within the book, or that leaves nothing to make."""
    if selection is None or not selection.strip():
        if all(chapter.skipped for chapter in chapters):
            # A book that is all front matter by its looks is read whole rather than refused.
            return [replace(chapter, skipped=False) for chapter in chapters]
        return list(chapters)
    # Full-width digits, commas and dashes, as a Chinese input method types them (２－３，７),
    # are the ASCII ones; so is the enumeration comma (2、3).
    selection = unicodedata.normalize("NFKC", selection).replace("、", ",")
    count = len(chapters)
    allowed = f"numbers and ranges from 1 to {count} such as 1-3,7, or all"
    wanted: set[int] = set()
    if selection.strip().lower() == "all":
        wanted = set(range(1, count + 1))
    for piece in [] if wanted else selection.split(","):
        found = _RANGE.fullmatch(piece)
        if found is None:
            raise InvalidInput(
                f"chapters {piece.strip()!r} is not a chapter number or range; allowed: {allowed}.",
                field="chapters",
            )
        first = int(found["first"])
        last = int(found["last"] or first)
        if not 1 <= first <= last <= count:
            raise InvalidInput(
                f"chapters {piece.strip()!r} is not in this book, which has {count} chapters; "
                f"allowed: {allowed}.",
                field="chapters",
            )
        wanted.update(range(first, last + 1))
    return [
        replace(chapter, skipped=number not in wanted) for number, chapter in enumerate(chapters, 1)
    ]


def title_of(filename: str, chapters: Sequence[Chapter]) -> str:
    """The title a book's file is given: its file's name (without folders and extension),
    else its first chapter's title."""
    return title_from_name(base_name(filename)) or (chapters[0].title if chapters else "Book")


def made_chapters(
    chapters: Sequence[Chapter], option: str = "chapters", listing: bool = False
) -> list[Chapter]:
    """The chapters of `chapters` to make (those not skipped). Raises InvalidInput (naming
    `option`, as the caller spells it) when there are more than one file holds, with the way
    to make them: in parts of MAX_CHAPTERS; a book `listing` its chapters to choose from
    gets the first MAX_CHAPTERS instead."""
    made = [chapter for chapter in chapters if not chapter.skipped]
    if listing:
        return made[:MAX_CHAPTERS]
    if len(made) > MAX_CHAPTERS:
        first = next(n for n, chapter in enumerate(chapters, 1) if not chapter.skipped)
        raise InvalidInput(
            f"{len(made):,} chapters would be made, and one file holds at most {MAX_CHAPTERS}: "
            f"make them in parts, {option} {first}-{first + MAX_CHAPTERS - 1} first, then the "
            "next ones.",
            field="chapters",
        )
    return made


def book_ssml(chapters: Sequence[Chapter]) -> str:
    """The chapters as one SSML document for the speech pipeline: each chapter starts with a
    mark named `CHAPTER_MARK` + its title (its time becomes the chapter's start in the audio),
    its text escaped, never taken as markup; a pause separates chapters. Skipped chapters are
    left out."""
    parts = ["<speak>"]
    for chapter in chapters:
        if chapter.skipped:
            continue
        parts.append(f"<mark name={quoteattr(CHAPTER_MARK + chapter.title)}/>")
        parts.append(f"<p>{escape(chapter.text)}</p>")
        parts.append(f'<break time="{CHAPTER_PAUSE_MS}ms"/>')
    parts.append("</speak>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Kind:
    extensions: frozenset[str]
    media_types: frozenset[str]
    read: Callable[[BookFile], ChapterDraft]


# The kinds of book, EPUB first and plain text (the fallback) last.
_KINDS = (
    _Kind(frozenset({".epub"}), frozenset({"application/epub+zip"}), read_epub),
    _Kind(
        frozenset({".md", ".markdown"}),
        frozenset({"text/markdown", "text/x-markdown"}),
        read_markdown,
    ),
    _Kind(frozenset({".txt", ".text"}), frozenset({"text/plain"}), read_text),
)


def _kind(head: bytes, name: str, media_type: str | None) -> _Kind:
    if head.startswith(b"PK\x03\x04"):
        # An archive is never text, whatever its name says: it is read (and refused) as EPUB.
        return _KINDS[0]
    extension = posixpath.splitext(name)[1].lower()
    essence = (media_type or "").partition(";")[0].strip().lower()
    for kind in _KINDS:
        if extension in kind.extensions:
            return kind
    for kind in _KINDS:
        if essence in kind.media_types:
            return kind
    return _KINDS[-1]
