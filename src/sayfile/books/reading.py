"""Uploaded books read into chapters for an audiobook: EPUB (chapters from its table of contents),
Markdown (chapters at its top headings) and plain text (chapters at "Chapter 1" or "第一章" lines).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from html.entities import html5 as html_entities
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]

from sayfile.audio.chapter_marks import CHAPTER_MARK, MAX_CHAPTERS
from sayfile.books.deep_markup import parse_flattened
from sayfile.books.epub_package import FRONT_MATTER, BookInfo, Package, read_member, read_package
from sayfile.errors import BookTooLong, InvalidBook, InvalidInput, UnreadableText
from sayfile.text.encodings import Decoded, decode_text
from sayfile.text.markup import as_sentence, markdown_blocks, say_addresses
from sayfile.text.sentences import normalize

# The whole archive is bounded before it is opened: a ZIP bomb is refused from its directory
# alone, though only the text documents are ever unpacked.
MAX_EPUB_UNPACKED_BYTES = 200 * 1024 * 1024
# A text file is read whole, so one with more bytes than its character limit can take (four
# bytes a character, UTF-8's most) is refused from its size.
_MAX_BYTES_PER_CHAR = 4
# Files that are plainly something else, by their first bytes: refused by name rather than
# read as text that no encoding explains.
_NOT_BOOKS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
_READS = "sayfile reads books as EPUB, Markdown (.md) or plain text (.txt)."
# The XHTML documents actually read, which is what parsing time grows with.
MAX_XHTML_BYTES = 50 * 1024 * 1024
# The elements one XHTML document may have (a novel's chapter has a few thousand; parsed, each
# takes memory, so this keeps a book's reading under a few hundred MB).
MAX_XHTML_ELEMENTS = 300_000
# The pause after a chapter.
CHAPTER_PAUSE_MS = 1500
# A line longer than this is a paragraph, whatever it starts with.
MAX_HEADING_CHARS = 100

_DRM_MESSAGE = "This EPUB is encrypted (DRM); sayfile can only read EPUBs without DRM."
# Files that only DRM schemes put in an EPUB: Adobe ADEPT, Readium LCP, Apple FairPlay.
_DRM_FILES = frozenset({"META-INF/rights.xml", "META-INF/license.lcpl", "META-INF/sinf.xml"})
_XMLENC = "{http://www.w3.org/2001/04/xmlenc#}"
# Font obfuscation (IDPF, Adobe) is listed in encryption.xml too, but leaves the text readable.
_FONT_OBFUSCATION = frozenset(
    {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
)
_XHTML_MEDIA_TYPES = frozenset({"application/xhtml+xml", "text/html"})

# Elements whose content is not read: metadata, code, ruby annotations (the reading of the base
# text beside it), drawings, and fallback content of media.
_SILENT = frozenset(
    {"head", "script", "style", "template", "rt", "rp", "svg", "math", "audio", "video", "object"}
)
# Elements that end the sentence before them and the one inside them.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd"),
        *("details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li"),
        *("main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td"),
        *("tfoot", "th", "thead", "tr", "ul"),
    }
)
_OPS_TYPE = "{http://www.idpf.org/2007/ops}type"
_NOTE_TYPES = frozenset(
    {
        *("noteref", "annoref", "note", "footnote", "footnotes", "endnote", "endnotes"),
        *("rearnote", "rearnotes", "pagebreak"),
    }
)
_NOTE_ROLES = frozenset(
    {"doc-noteref", "doc-footnote", "doc-endnote", "doc-endnotes", "doc-pagebreak", "doc-backlink"}
)
# Class names that books converted from other formats (Project Gutenberg's among them) give their
# notes and page numbers.
_NOTE_CLASS = re.compile(r"footnote|endnote|noteref|pagenum", re.IGNORECASE)
# What a note reference shows (stripped, and tried only on short text): 1, [12], 3,4, *, †.
_NOTE_MARK = re.compile(r"[\[(]?\s?(?:\d{1,4}(?:\s?[,–-]\s?\d{1,4})*|[*†‡§¶]{1,3})\s?[\])]?")
_NOTE_MARK_CHARS = 20

# Chinese and Japanese characters, between which wrapped lines join without a space.
_CJK = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_CARDINAL = (
    rf"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:{_UNITS}))?"
    rf"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|{_UNITS}"
)
_ORDINAL_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_ORDINAL = (
    r"(?:the\s+)?(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    rf"[- ](?:{_ORDINAL_UNITS})"
    r"|twentieth|thirtieth|fortieth|fiftieth|sixtieth|seventieth|eightieth|ninetieth|tenth"
    r"|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
    rf"|nineteenth|{_ORDINAL_UNITS})"
)
_ROMAN = r"(?=[mdclxvi])m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
# Chapter heading lines, each with whether its title may follow without a space or mark
# ("第一章风暴"); the `mark` and `title` groups are judged by `_is_heading`.
_HEADINGS = (
    (
        re.compile(
            rf"(?:(?:chapter|part|book)\s+(?:\d{{1,4}}|{_ROMAN}|{_CARDINAL}|{_ORDINAL})"
            r"|prologue|epilogue|preface|foreword|afterword)"
            r"(?P<mark>[\s:.\-–—]*)(?P<title>.*)",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        re.compile(
            r"第[\d零〇一二三四五六七八九十百千万两]{1,9}[章回卷部篇集]"
            r"(?P<mark>[\s：:、.．·\-—]*)(?P<title>.*)"
        ),
        True,
    ),
    (
        re.compile(
            r"(?:序章|序言|序|前言|楔子|引子|尾声|尾聲|后记|後記|终章|終章|番外)"
            r"(?P<mark>[\s：:、.．·\-—]*)(?P<title>.*)"
        ),
        False,
    ),
)
# A title after only a space, like "Chapter 1 The Storm", must not end like a sentence or a
# clause does, which tells it from a paragraph such as "Part 2 of the plan was to wait."
_CLAUSE_END = re.compile(r"[.,;!?。，；！？、]$")
_BLANK_LINE = re.compile(r"\n\s*\n")
# Front matter found from what a page says: a table of contents (its title, or its first
# paragraph) of a chapter this short at most, and a copyright page shorter still.
_FRONT_MATTER_CHARS = 5000
_COPYRIGHT_CHARS = 1500
_TITLE_PAGE_CHARS = 300
_TITLE_PAGE = "title page"
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
# A chapter selection's piece: a number or a range of them.
_RANGE = re.compile(r"\s*(?P<first>\d{1,6})\s*(?:[-–]\s*(?P<last>\d{1,6})\s*)?")
# YAML front matter of static-site generators and note apps: metadata, not text.
_FRONT_MATTER = re.compile(r"---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Chapter:
    """One chapter of a book: its title and its normalised text, which starts with the heading
    when the book has one and ends every paragraph as a sentence; `skipped` when it is not
    spoken (front matter by default, or left out by the user's choice)."""

    title: str
    text: str
    skipped: bool = False


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
    max_chapters: int = MAX_CHAPTERS,
    max_chars: int | None = 4_000_000,
) -> list[Chapter]:
    """The chapters of `open_book`, front matter included and marked `skipped`, for callers
    that need nothing else."""
    return list(open_book(source, filename, media_type, max_chapters, max_chars).chapters)


def open_book(
    source: bytes | Path | BinaryIO,
    filename: str,
    media_type: str | None = None,
    max_chapters: int = MAX_CHAPTERS,
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
    name = _base_name(filename)
    if isinstance(source, Path):
        with source.open("rb") as file:
            return open_book(file, filename, media_type, max_chapters, max_chars)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    max_bytes = None if max_chars is None else _MAX_BYTES_PER_CHAR * max_chars + 4
    book = _Source(source, name, max_bytes, max_chars)
    draft = _kind(book.head, name, media_type).read(book, name)
    chapters = draft.chapters()
    if not chapters:
        raise InvalidBook(f"{name!r} has no text to read.")
    if len(chapters) > max_chapters:
        raise InvalidBook(
            f"This book has {len(chapters)} chapters; the limit is {max_chapters} chapters."
        )
    chars = sum(len(chapter.text) for chapter in chapters)
    if max_chars is not None and chars > max_chars:
        raise BookTooLong(chars, max_chars)
    return Book(tuple(chapters), draft.info, book.encoding)


class _Source:
    """A book's file, read once: as an archive (the open file itself), or as text (all its
    bytes, decoded), whose encoding is then kept."""

    def __init__(
        self, file: BinaryIO, name: str, max_bytes: int | None, max_chars: int | None
    ) -> None:
        self.file = file
        self.name = name
        self.encoding: str | None = None
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        file.seek(0)
        self.head = file.read(16)
        for magic, what in _NOT_BOOKS:
            if self.head.startswith(magic):
                raise InvalidBook(f"{name!r} is {what}, not a book. {_READS}")

    def text(self) -> str:
        """The file's text, in the encoding it was written in."""
        size = self.file.seek(0, io.SEEK_END)
        if self._max_bytes is not None and self._max_chars is not None and size > self._max_bytes:
            raise BookTooLong(None, self._max_chars, size)
        self.file.seek(0)
        decoded = _decode(self.file.read(), self.name)
        self.encoding = decoded.encoding
        return decoded.text


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
    return _title_from_name(_base_name(filename)) or (chapters[0].title if chapters else "Book")


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


class _Draft:
    """Chapters as they are read: their titles (None for "Chapter N") and finished paragraphs."""

    def __init__(self, info: BookInfo | None = None) -> None:
        self.info = info or BookInfo()
        self._chapters: list[tuple[str | None, list[str], str | None]] = []
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
        landmark type, or `_TITLE_PAGE` for a page that is one if it is short); text written
        before it stays in the chapter before."""
        self.end_paragraph()
        self._chapters.append((title, [], front))

    def write(self, text: str) -> None:
        self._pieces.append(text)

    def end_paragraph(self) -> None:
        paragraph = normalize("".join(self._pieces))
        self._pieces.clear()
        if not paragraph:
            return
        if not self._chapters:
            self.start(None)
        self._chapters[-1][1].append(as_sentence(paragraph))

    def paragraph(self, text: str) -> None:
        self.end_paragraph()
        self.write(text)
        self.end_paragraph()

    def chapters(self) -> list[Chapter]:
        """The chapters with text, an untitled one named by its place among them."""
        self.end_paragraph()
        chapters: list[Chapter] = []
        for title, paragraphs, front in self._chapters:
            if paragraphs:
                title = title or f"Chapter {len(chapters) + 1}"
                text = " ".join(paragraphs)
                chapters.append(Chapter(title, text, _is_front_matter(title, text, front)))
        return chapters


def _is_front_matter(title: str, text: str, front: str | None) -> bool:
    """Whether a chapter is front matter: marked so by the book, a short page before the first
    chapter the table of contents lists, or a short page whose title or first words say it is
    a table of contents or whose text holds a copyright notice."""
    if front == _TITLE_PAGE:
        return len(text) <= _TITLE_PAGE_CHARS
    if front:
        return True
    if len(text) > _FRONT_MATTER_CHARS:
        return False
    if _FRONT_TITLE.fullmatch(title) or _CONTENTS.match(text):
        return True
    return len(text) <= _COPYRIGHT_CHARS and _COPYRIGHT.search(text) is not None


def _base_name(filename: str) -> str:
    """The file's own name, without the folders a browser or client may send (C:\\fakepath\\)."""
    return re.split(r"[\\/]", filename)[-1]


def _title_from_name(name: str) -> str | None:
    return normalize(posixpath.splitext(name)[0].replace("_", " ")) or None


def _decode(data: bytes, name: str) -> Decoded:
    """The text of a text file in whatever encoding it was written in; raises InvalidBook
    naming the bytes no encoding explains."""
    try:
        return decode_text(data, what=repr(name), field="file")
    except UnreadableText as error:
        raise InvalidBook(f"{error.message} {_READS}") from None


# EPUB


def _read_epub(source: _Source, name: str) -> _Draft:
    """Chapters from the table of contents, text from the spine's documents in order. Only the
    package, navigation and spine documents (and the cover) are read from the archive; the
    pictures and fonts that are most of a book's size stay packed."""
    _check_archive(source.file, name)
    source.file.seek(0)
    with zipfile.ZipFile(source.file) as archive:
        package = read_package(archive, name)
        return _read_spine(archive, package, name)


def _read_spine(archive: zipfile.ZipFile, package: Package, name: str) -> _Draft:
    in_spine = {document.path for document in package.spine}
    targets: dict[str, dict[str, list[str]]] = {}
    for target, title in package.toc:
        path, _, fragment = target.partition("#")
        if path in in_spine:
            targets.setdefault(path, {}).setdefault(fragment, []).append(title)
    draft = _Draft(package.info)
    budget = MAX_XHTML_BYTES
    parser = _xml_parser()
    html_parser = _html_parser()
    after_front = False
    read: set[str] = set()
    for document in package.spine:
        path = document.path
        if path in read:
            # A document the spine lists again (under another id, or the same one) is read
            # once: read again it would only repeat itself, up to the whole XHTML budget.
            continue
        read.add(path)
        # Documents outside the reading order (notes, the navigation document) are read only
        # when the table of contents points at them.
        if path not in targets and (not document.linear or document.nav):
            continue
        try:
            content = read_member(archive, path, budget, name)
        except InvalidBook as error:
            if error.message.endswith("too big"):
                raise InvalidBook(
                    f"{name!r} has more than {MAX_XHTML_BYTES} bytes of XHTML text; that is "
                    "the limit."
                ) from None
            raise
        if content is None:
            raise InvalidBook(f"{name!r} is a damaged EPUB: it has no {path}.")
        budget -= len(content)
        # A parsed element costs some hundred bytes whatever it holds: counted before any tree
        # is made, a document of millions of empty elements is refused, not parsed.
        if (elements := content.count(b"<") - content.count(b"</")) > MAX_XHTML_ELEMENTS:
            raise InvalidBook(
                f"{name!r} has a document ({path}) of about {elements} elements; the limit is "
                f"{MAX_XHTML_ELEMENTS} elements a document."
            )
        root = _parse_xhtml(content, path, name, parser, html_parser)
        entries = targets.get(path, {})
        ids = set(root.xpath("//@id")) if root is not None else set()
        # An entry whose fragment is missing from its document still marks where it starts.
        at_start = [
            title for fragment, titles in entries.items() if fragment not in ids for title in titles
        ]
        anchors = {
            fragment: _joined(titles) for fragment, titles in entries.items() if fragment in ids
        }
        front = package.front.get(path) or _front_type(root)
        if at_start or not targets or not draft.started or front or after_front:
            # What comes before the first listed chapter (a title page) is named after the
            # book rather than "Chapter 1"; so is a page of front matter the table of contents
            # leaves out, after its kind.
            named = _joined(at_start) or (None if draft.started else package.info.title)
            # The first page, named after the book or before the first listed chapter, is a
            # title page if it is short.
            title_page = not draft.has_text and (named == package.info.title or not at_start)
            draft.start(
                named or (FRONT_MATTER[front] if front else None),
                front or (_TITLE_PAGE if title_page and targets else None),
            )
        after_front = bool(front)
        if root is not None:
            _read_element(root, draft, anchors)
        draft.end_paragraph()
    return draft


def _front_type(root: Any) -> str | None:
    """The kind of front matter a document says it is: `epub:type` on its body or on a
    section at the top of it, or a short page that begins with "Contents" or "目录"."""
    if root is None:
        return None
    texts = [
        text
        for text in (normalize(str(t)) for t in root.xpath("//*[local-name()='body']//text()"))
        if text
    ]
    short = sum(map(len, texts)) <= _FRONT_MATTER_CHARS
    if texts and short and _CONTENTS.fullmatch(texts[0] + "."):
        return "toc"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local_name(element.tag)
        if name in ("html", "head", "title", "meta", "link", "style"):
            continue
        types = str(element.get(_OPS_TYPE) or element.get("epub:type") or "").lower().split()
        kind = next((kind for kind in types if kind in FRONT_MATTER), None)
        if kind is not None or name not in ("body", "section", "div"):
            return kind
    return None


def _check_archive(file: BinaryIO, name: str) -> None:
    """Raise InvalidBook unless `file` is a ZIP with an EPUB container, unpacking to no more than
    MAX_EPUB_UNPACKED_BYTES, and without DRM."""
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidBook(f"{name!r} is not an EPUB: it is not a ZIP archive.") from None
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "META-INF/container.xml" not in names:
            raise InvalidBook(f"{name!r} is not an EPUB: it has no META-INF/container.xml.")
        # Reading a member stops at the size its directory entry gives (or fails its checksum),
        # so these sizes bound what can be unpacked.
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_EPUB_UNPACKED_BYTES:
            raise InvalidBook(
                f"{name!r} unpacks to {unpacked} bytes; the limit is {MAX_EPUB_UNPACKED_BYTES}."
            )
        if names & _DRM_FILES or any(member.flag_bits & 0x1 for member in members):
            raise InvalidBook(_DRM_MESSAGE)
        if "META-INF/encryption.xml" in names and _lists_encrypted_content(archive, name):
            raise InvalidBook(_DRM_MESSAGE)


def _lists_encrypted_content(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether META-INF/encryption.xml lists a file encrypted otherwise than fonts are."""
    try:
        root = lxml.etree.fromstring(archive.read("META-INF/encryption.xml"), _xml_parser())
    except (lxml.etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        raise InvalidBook(
            f"{name!r} is a damaged EPUB: its META-INF/encryption.xml cannot be read."
        ) from None
    for encrypted in root.iter(f"{_XMLENC}EncryptedData"):
        method = encrypted.find(f"{_XMLENC}EncryptionMethod")
        if method is None or method.get("Algorithm") not in _FONT_OBFUSCATION:
            return True
    return False


def _joined(titles: list[str]) -> str | None:
    """One title for the entries that point at the same place ("Part One: Chapter 1")."""
    return ": ".join(dict.fromkeys(title for title in titles if title)) or None


def _xml_parser() -> Any:
    """A parser that expands no entities and fetches nothing (no DTD, no XInclude)."""
    return lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _html_parser() -> Any:
    return lxml.html.HTMLParser(encoding="utf-8", no_network=True, huge_tree=False)


def _parse_xhtml(content: bytes, path: str, name: str, parser: Any, html_parser: Any) -> Any:
    """The root element of a spine document, or None if it is empty."""
    if not content.strip():
        return None
    try:
        return lxml.etree.fromstring(content, parser)
    except lxml.etree.XMLSyntaxError:
        pass
    # libxml2 stops at 256 levels, and its HTML parser then drops the rest: read as XML
    # without that bound, the deepest elements flattened, the text is all there.
    if (root := parse_flattened(content)) is not None:
        return root
    # Reading systems show documents that are not well-formed XML (HTML entities without a DTD,
    # unclosed tags) as HTML; so does sayfile.
    try:
        return lxml.html.document_fromstring(content, parser=html_parser)
    except (lxml.etree.ParserError, ValueError):
        raise InvalidBook(f"{name!r} is a damaged EPUB: {path} cannot be read.") from None


def _read_element(element: Any, draft: _Draft, anchors: dict[str, str | None]) -> None:
    """Write the spoken text of `element` (not its tail) into `draft`, starting a chapter at
    each element whose id is one of `anchors` (taken from it)."""
    tag = element.tag
    if not isinstance(tag, str):
        # Named entities the parser left unexpanded are read as HTML defines them; comments,
        # processing instructions and other entities are not read.
        if tag is lxml.etree.Entity:
            draft.write(html_entities.get(str(element.text)[1:], ""))
        return
    name = _local_name(tag)
    if name == "math" and element.get("alttext"):
        draft.write(f" {element.get('alttext')} ")
    if name in _SILENT or _is_note(element, name):
        return
    if anchors and (anchor := element.get("id")) in anchors:
        draft.start(anchors.pop(anchor))
    block = name in _BLOCKS
    if block:
        draft.end_paragraph()
    if element.text:
        draft.write(element.text)
    for child in element:
        _read_element(child, draft, anchors)
        if child.tail:
            draft.write(child.tail)
    if block:
        draft.end_paragraph()


def _local_name(tag: str) -> str:
    """An element's name without its namespace: "p" for "{http://www.w3.org/1999/xhtml}p"."""
    return tag.rpartition("}")[2].lower()


def _is_note(element: Any, name: str) -> bool:
    """Whether `element` is a note, a reference to one, or a page number."""
    types = element.get(_OPS_TYPE) or element.get("epub:type") or ""
    if not _NOTE_TYPES.isdisjoint(types.split()):
        return True
    if not _NOTE_ROLES.isdisjoint((element.get("role") or "").split()):
        return True
    if _NOTE_CLASS.search(element.get("class") or ""):
        return True
    if name == "sup":
        return _is_note_mark(element) or any(
            isinstance(inner.tag, str) and _local_name(inner.tag) == "a" and inner.get("href")
            for inner in element.iterdescendants()
        )
    return name == "a" and "#" in (element.get("href") or "") and _is_note_mark(element)


def _is_note_mark(element: Any) -> bool:
    """Whether all the text of `element` is a note mark such as 1, [12] or *."""
    text = "".join(element.itertext()).strip()
    return len(text) <= _NOTE_MARK_CHARS and _NOTE_MARK.fullmatch(text) is not None


# Markdown


def _read_markdown(source: _Source, name: str) -> _Draft:
    """Chapters at the top headings, text from paragraphs, lists, quotes, tables (a sentence a
    row) and HTML, addresses said briefly (`markup.markdown_blocks`, as pasted Markdown is)."""
    text = source.text()
    if front_matter := _FRONT_MATTER.match(text):
        text = text[front_matter.end() :]
    blocks = list(markdown_blocks(text))
    level = _chapter_level([block.level for block in blocks if block.level])
    draft = _Draft()
    draft.start(_title_from_name(name))
    html_parser = _html_parser()
    for block in blocks:
        if block.kind == "html":
            _read_html(block.text, draft, html_parser)
        elif block.kind == "text":
            words = say_addresses(block.text)
            if 0 < block.level <= level:
                draft.start(normalize(words) or None)
            draft.paragraph(words)
        # Code blocks are not read: code aloud is noise.
    return draft


def _chapter_level(levels: list[int]) -> int:
    """The heading level that starts chapters: the top level used more than once, so that a
    book's one "# Title" above its "## Chapter" headings does not make it one chapter; or the
    top level used if none is used twice; 0 (none) without headings. Headings above this level
    start chapters too."""
    counts = Counter(levels)
    return min(
        (level for level, count in counts.items() if count > 1), default=min(levels, default=0)
    )


def _read_html(source: str, draft: _Draft, parser: Any) -> None:
    # Well-formed markup is read as XML first: libxml2's HTML parser drops what lies deeper
    # than 256 elements.
    root = parse_flattened(f"<div>{source}</div>".encode())
    if root is None:
        try:
            root = lxml.html.fragment_fromstring(source, create_parent="div", parser=parser)
        except (lxml.etree.ParserError, ValueError):
            return
    _read_element(root, draft, {})


# Plain text


def _read_text(source: _Source, name: str) -> _Draft:
    """Chapters at heading lines; paragraphs between blank lines, or one a line in files that
    have no blank lines; an indented line starts a paragraph too."""
    text = source.text().replace("\r\n", "\n").replace("\r", "\n")
    one_per_line = not _BLANK_LINE.search(text.strip())
    draft = _Draft()
    draft.start(_title_from_name(name))
    headings: list[str] = []
    last = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            draft.end_paragraph()
        elif _is_heading(stripped):
            headings.append(stripped)
        else:
            if headings:
                _start_chapter(draft, headings)
                headings = []
            elif one_per_line or line[0].isspace():
                draft.end_paragraph()
            # Lines wrapped inside a paragraph join with a space, except between CJK characters.
            if draft.in_paragraph and not (_CJK.match(last) and _CJK.match(stripped[0])):
                draft.write(" ")
            draft.write(stripped)
            last = stripped[-1]
    if headings:
        _start_chapter(draft, headings)
    return draft


def _is_heading(line: str) -> bool:
    if len(line) > MAX_HEADING_CHARS:
        return False
    for pattern, title_may_touch in _HEADINGS:
        if found := pattern.fullmatch(line):
            mark, title = found["mark"], found["title"]
            if not title or mark.strip():
                return True
            return bool(mark or title_may_touch) and not (
                title[0].islower() or _CLAUSE_END.search(title)
            )
    return False


def _start_chapter(draft: _Draft, headings: list[str]) -> None:
    """Start the chapter of the last of `headings`, lines with nothing but blank lines between.

    Three or more in a row are a table of contents: all but the last are read as text of the
    chapter before. Two are a part's heading and its first chapter's: both are read at the start
    of the chapter, which the second names.
    """
    *before, last = headings
    if len(before) > 1:
        for line in before:
            draft.paragraph(line)
        before = []
    draft.start(normalize(last))
    for line in [*before, last]:
        draft.paragraph(line)


@dataclass(frozen=True, slots=True)
class _Kind:
    extensions: frozenset[str]
    media_types: frozenset[str]
    read: Callable[[_Source, str], _Draft]


# The kinds of book, EPUB first and plain text (the fallback) last.
_KINDS = (
    _Kind(frozenset({".epub"}), frozenset({"application/epub+zip"}), _read_epub),
    _Kind(
        frozenset({".md", ".markdown"}),
        frozenset({"text/markdown", "text/x-markdown"}),
        _read_markdown,
    ),
    _Kind(frozenset({".txt", ".text"}), frozenset({"text/plain"}), _read_text),
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
