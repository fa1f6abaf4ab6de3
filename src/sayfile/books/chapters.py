"""A book's chapters as its reader finds them: `Chapter`, the draft the three readers (EPUB,
Markdown, text) write paragraphs and chapter starts into, and front matter told from what a
short page says (a table of contents, a copyright notice, a title page)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sayfile.books.epub_package import BookInfo
from sayfile.books.read_along import Layout
from sayfile.text.markup import as_sentence
from sayfile.text.sentences import normalize, sentences

# Front matter found from what a page says: a table of contents (its title, or its first
# paragraph) of a chapter this short at most, and a copyright page shorter still.
_FRONT_MATTER_CHARS = 5000
_COPYRIGHT_CHARS = 1500
_TITLE_PAGE_CHARS = 300
_FRONT_TITLE = re.compile(
    r"(?:目\s*[录錄]|table\s+of\s+contents|contents|版\s*[权權](?:信息|页|頁|所有)?|copyright"
    r"(?:\s+page)?|cover|封\s*面|title\s+page|扉\s*[页頁])[.。]?",
    re.IGNORECASE,
)
_CONTENTS = re.compile(r"(?:目\s*[录錄]|table\s+of\s+contents|contents)\s*[.。:：]+", re.IGNORECASE)
_COPYRIGHT = re.compile(
    r"copyright\s*(?:©|\(c\)|\d{4})|©\s*\d{4}|版[权權]所有|版[权權]信息|ISBN[\s:：-]*\d",
    re.IGNORECASE,
)
# The front-matter kind of a book's first page, which is a title page if it is short.
TITLE_PAGE = "title page"


@dataclass(frozen=True, slots=True)
class Chapter:
    """One chapter of a book: its title and its normalised text, which starts with the heading
    when the book has one and ends every paragraph as a sentence; `skipped` when it is not
    spoken (front matter by default, or left out by the user's choice)."""

    title: str
    text: str
    skipped: bool = False
    paragraphs: tuple[int, ...] = field(default=(), compare=False)
    """Where each paragraph begins in `text` (character offsets, the first 0); empty where
    not known. Layout, not content: chapters with the same text are equal."""
    endings: tuple[tuple[int, str], ...] = field(default=(), compare=False)
    """Where the reader ended a paragraph as a sentence so that it is said as one (a heading,
    a list item): the offset in `text` of the full stop it added, and what was written in its
    place (nothing, or the comma or colon it replaced)."""

    def paragraph_places(self) -> tuple[int, ...]:
        """Where each paragraph begins, counted in the text's characters other than white
        space: what survives its cutting into sentences and pieces, which join Chinese
        sentences with a space that the text does not have."""
        return self._places(self.paragraphs)

    def layout(self, max_chars: int = 400) -> Layout:
        """How the chapter's text is shown beside what is said (`read_along.Layout`): its
        paragraphs, the sentences that follow the one before with no space between (as
        Chinese and Japanese ones do; a sentence over `max_chars`, the longest piece an
        engine is given, is cut as the pieces are), and the stops the reader added, each
        counted in the text's characters other than white space."""
        joined: list[int] = []
        at = 0
        for sentence in sentences(self.text, max_chars):
            start = self.text.find(sentence, at)
            if start > 0 and not self.text[start - 1].isspace():
                joined.append(start)
            at = start + len(sentence)
        stops = self._places(offset for offset, _ in self.endings)
        endings = tuple(zip(stops, (written for _, written in self.endings), strict=True))
        return Layout(self.paragraph_places(), self._places(joined), endings)

    def _places(self, offsets: Iterable[int]) -> tuple[int, ...]:
        """`offsets` in the text (in order) counted in its characters other than white space."""
        places: list[int] = []
        at = spaces = 0
        for offset in offsets:
            spaces += sum(c.isspace() for c in self.text[at:offset])
            at = offset
            places.append(offset - spaces)
        return tuple(places)


class ChapterDraft:
    """Chapters as they are read: their titles (None for "Chapter N") and finished paragraphs."""

    def __init__(self, info: BookInfo | None = None) -> None:
        self.info = info or BookInfo()
        self._chapters: list[tuple[str | None, list[str], str | None]] = []
        # Each chapter's paragraphs' ends as the reader changed them: (paragraph, offset in
        # it of the stop added, what was written in its place).
        self._endings: list[list[tuple[int, int, str]]] = []
        self._pieces: list[str] = []

    @property
    def started(self) -> bool:
        return bool(self._chapters)

    @property
    def has_text(self) -> bool:
        """Whether a paragraph has been written in any chapter yet."""
        return any(paragraphs for _, paragraphs, _ in self._chapters)

    @property
    def in_paragraph(self) -> bool:
        return bool(self._pieces)

    def start(self, title: str | None, front: str | None = None) -> None:
        """Begin a chapter, of front matter of kind `front` if given (an EPUB guide or
        landmark type, or `TITLE_PAGE` for a page that is one if it is short); text written
        before it stays in the chapter before."""
        self.end_paragraph()
        self._chapters.append((title, [], front))
        self._endings.append([])

    def write(self, text: str) -> None:
        self._pieces.append(text)

    def end_paragraph(self) -> None:
        paragraph = normalize("".join(self._pieces))
        self._pieces.clear()
        if not paragraph:
            return
        if not self._chapters:
            self.start(None)
        paragraphs = self._chapters[-1][1]
        said = as_sentence(paragraph)
        if said != paragraph:
            # A stop goes in after what the two share, in place of what the paragraph had
            # there before its closing quotes or brackets.
            stop = next(
                (n for n, (a, b) in enumerate(zip(said, paragraph, strict=False)) if a != b),
                len(paragraph),
            )
            closers = len(said) - stop - 1
            written = paragraph[stop : len(paragraph) - closers]
            self._endings[-1].append((len(paragraphs), stop, written))
        paragraphs.append(said)

    def paragraph(self, text: str) -> None:
        self.end_paragraph()
        self.write(text)
        self.end_paragraph()

    def chapters(self) -> list[Chapter]:
        """The chapters with text, an untitled one named by its place among them."""
        self.end_paragraph()
        chapters: list[Chapter] = []
        for (title, paragraphs, front), ends in zip(self._chapters, self._endings, strict=True):
            if paragraphs:
                title = title or f"Chapter {len(chapters) + 1}"
                text = " ".join(paragraphs)
                lengths = (len(p) + 1 for p in paragraphs[:-1])
                starts = list(itertools.accumulate(lengths, initial=0))
                endings = tuple((starts[n] + stop, written) for n, stop, written in ends)
                front_matter = _is_front_matter(title, text, front)
                chapters.append(Chapter(title, text, front_matter, tuple(starts), endings))
        return chapters


def _is_front_matter(title: str, text: str, front: str | None) -> bool:
    """Whether a chapter is front matter: marked so by the book, a short page before the first
    chapter the table of contents lists, or a short page whose title or first words say it is
    a table of contents or whose text holds a copyright notice."""
    if front == TITLE_PAGE:
        return len(text) <= _TITLE_PAGE_CHARS
    if front:
        return True
    if len(text) > _FRONT_MATTER_CHARS:
        return False
    if _FRONT_TITLE.fullmatch(title) or _CONTENTS.match(text):
        return True
    return len(text) <= _COPYRIGHT_CHARS and _COPYRIGHT.search(text) is not None


def opens_as_contents(texts: list[str]) -> bool:
    """Whether a page whose text pieces are `texts` is a table of contents by its looks: short,
    and beginning with "Contents" or "目录"."""
    short = sum(map(len, texts)) <= _FRONT_MATTER_CHARS
    return bool(texts) and short and _CONTENTS.fullmatch(texts[0] + ".") is not None
