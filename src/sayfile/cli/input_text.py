"""What `sayfile say` speaks: the argument, standard input or a file in any encoding, or the
chosen chapters of a book file (read by the same reader as uploads over HTTP)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sayfile.books.book_file import kind_of_other_file
from sayfile.books.reading import (
    Book,
    Chapter,
    book_ssml,
    choose_chapters,
    made_chapters,
    open_book,
    title_of,
)
from sayfile.cli.terminal import err, error_exit
from sayfile.errors import InvalidInput
from sayfile.text.encodings import decode_text
from sayfile.text.ssml import looks_like_ssml

# Files read as books (chapters and all) rather than as plain text.
BOOK_SUFFIXES = frozenset({".epub", ".md", ".markdown", ".txt", ".text"})


@dataclass(frozen=True, slots=True)
class ChosenBook:
    """The book a text comes from, the title its audio is named and tagged with, and the
    chapters spoken."""

    title: str
    book: Book
    chapters: tuple[Chapter, ...] = ()


def read_input(
    text: str | None, file: Path | None, chapters: str | None = None
) -> tuple[str, ChosenBook | None]:
    """What to say, and the book it comes from (None for text that is not a book file).
    Raises the error exit for a missing or unreadable input."""
    if (text is None) == (file is None):
        raise error_exit("give the text as an argument, '-' for standard input, or --file PATH.")
    try:
        if file is not None and file.suffix.lower() in BOOK_SUFFIXES and not _is_ssml_file(file):
            return _read_book(file, chapters)
        if chapters is not None:
            raise error_exit("--chapters needs a book: --file with .epub, .md or .txt.")
        if file is not None:
            data = file.read_bytes()
            if what := kind_of_other_file(data[:16]):
                raise error_exit(f"{file.name!r} is {what}, not text; give a text or a book file.")
            return _decoded_noting_encoding(data, repr(file.name)), None
        if text == "-":
            return _decoded_noting_encoding(sys.stdin.buffer.read(), "Standard input"), None
    except InvalidInput as exc:
        raise error_exit(str(exc)) from None
    except OSError as exc:
        raise error_exit(f"cannot read {file}: {exc.strerror}.") from None
    assert text is not None
    return text, None


def _read_book(file: Path, chapters: str | None) -> tuple[str, ChosenBook]:
    # The command line has no character limit.
    book = open_book(file, file.name, max_chars=None)
    if book.encoding not in (None, "utf-8"):
        err.print(f"read {file.name!r} as {book.encoding}", highlight=False)
    chosen = choose_chapters(book.chapters, chapters)
    spoken = made_chapters(chosen, "--chapters")
    skipped = len(chosen) - len(spoken)
    if skipped:
        err.print(
            f"skipping {skipped} of {len(chosen)} chapters (see `sayfile chapters "
            f"{file}`; --chapters chooses)",
            highlight=False,
        )
    title = book.info.title or title_of(file.name, spoken)
    # A text of one chapter is said as it is, without a chapter mark.
    content = book_ssml(spoken) if len(spoken) > 1 else spoken[0].text
    return content, ChosenBook(title, book, tuple(spoken))


def _is_ssml_file(file: Path) -> bool:
    """Whether a text file holds an SSML document, which is said as SSML, not as a book."""
    if file.suffix.lower() not in (".txt", ".text"):
        return False
    with file.open("rb") as start:
        head = start.read(4096).decode("utf-8", "replace")
    return looks_like_ssml(head)


def _decoded_noting_encoding(data: bytes, what: str) -> str:
    """Text in the encoding it was written in (the decoder HTTP uses too); says which, when
    it is not UTF-8."""
    decoded = decode_text(data, what=what)
    if decoded.encoding != "utf-8":
        err.print(f"read {what} as {decoded.encoding}", highlight=False)
    return decoded.text
