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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from html.entities import html5 as html_entities
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape, quoteattr

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from ebooklib import epub

from sayfile.errors import InvalidBook
from sayfile.markup import markdown_blocks, say_addresses
from sayfile.text import normalize

# ebooklib loads every file an EPUB's manifest lists (images too) into memory, so the whole
# archive is bounded before it is opened: a ZIP bomb is refused from its directory alone.
MAX_EPUB_UNPACKED_BYTES = 200 * 1024 * 1024
# The XHTML documents actually read, which is what parsing time grows with.
MAX_XHTML_BYTES = 50 * 1024 * 1024
# The SSML mark that starts a chapter, followed by its title; and the pause after a chapter.
CHAPTER_MARK = "chapter:"
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

# A paragraph that does not end in one of these marks (before closing quotes or brackets) gets a
# full stop, so that `sentences` ends a sentence there and the voice pauses.
_SENTENCE_MARKS = ".!?;…。！？；"
_CLOSERS = "\"'”’)]」』）"
_SOFT_MARKS = ",，、:："
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
# YAML front matter of static-site generators and note apps: metadata, not text.
_FRONT_MATTER = re.compile(r"---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Chapter:
    """One chapter of a book: its title and its normalised text, which starts with the heading
    when the book has one and ends every paragraph as a sentence."""

    title: str
    text: str


def read_book(
    data: bytes,
    filename: str,
    media_type: str | None = None,
    max_chapters: int = 500,
    max_chars: int = 2_000_000,
) -> list[Chapter]:
    """Return the chapters of the book uploaded as `filename`, in reading order, none empty.

    The kind of book comes from the extension of `filename` (.epub, .md/.markdown, .txt), else
    from `media_type`, else from the content: a ZIP archive is read as an EPUB, anything else as
    plain text. Text is normalised; every paragraph and heading ends as a sentence, with "." (or
    "。" after Chinese or Japanese) added where it has no final mark of its own.

    Raises InvalidBook if the file is not a readable book of its kind (a damaged or
    DRM-protected EPUB, text that is not UTF-8), has no text, or has more than `max_chapters`
    chapters or `max_chars` characters of chapter text.
    """
    name = _base_name(filename)
    chapters = _kind(data, name, media_type).read(data, name).chapters()
    if not chapters:
        raise InvalidBook(f"{name!r} has no text to read.")
    if len(chapters) > max_chapters:
        raise InvalidBook(
            f"This book has {len(chapters)} chapters; the limit is {max_chapters} chapters."
        )
    chars = sum(len(chapter.text) for chapter in chapters)
    if chars > max_chars:
        raise InvalidBook(f"This book has {chars} characters of text; the limit is {max_chars}.")
    return chapters


def title_of(filename: str, chapters: Sequence[Chapter]) -> str:
    """The title a book's file is given: its file's name (without folders and extension),
    else its first chapter's title."""
    return _title_from_name(_base_name(filename)) or (chapters[0].title if chapters else "Book")


def book_ssml(chapters: Sequence[Chapter]) -> str:
    """The chapters as one SSML document for the speech pipeline: each chapter starts with a
    mark named `CHAPTER_MARK` + its title (its time becomes the chapter's start in the audio),
    its text escaped, never taken as markup; a pause separates chapters."""
    parts = ["<speak>"]
    for chapter in chapters:
        parts.append(f"<mark name={quoteattr(CHAPTER_MARK + chapter.title)}/>")
        parts.append(f"<p>{escape(chapter.text)}</p>")
        parts.append(f'<break time="{CHAPTER_PAUSE_MS}ms"/>')
    parts.append("</speak>")
    return "".join(parts)


class _Draft:
    """Chapters as they are read: their titles (None for "Chapter N") and finished paragraphs."""

    def __init__(self) -> None:
        self._chapters: list[tuple[str | None, list[str]]] = []
        self._pieces: list[str] = []

    @property
    def started(self) -> bool:
        return bool(self._chapters)

    @property
    def in_paragraph(self) -> bool:
        return bool(self._pieces)

    def start(self, title: str | None) -> None:
        """Begin a chapter; text written before it stays in the chapter before."""
        self.end_paragraph()
        self._chapters.append((title, []))

    def write(self, text: str) -> None:
        self._pieces.append(text)

    def end_paragraph(self) -> None:
        paragraph = normalize("".join(self._pieces))
        self._pieces.clear()
        if not paragraph:
            return
        if not self._chapters:
            self.start(None)
        self._chapters[-1][1].append(_as_sentence(paragraph))

    def paragraph(self, text: str) -> None:
        self.end_paragraph()
        self.write(text)
        self.end_paragraph()

    def chapters(self) -> list[Chapter]:
        """The chapters with text, an untitled one named by its place among them."""
        self.end_paragraph()
        chapters: list[Chapter] = []
        for title, paragraphs in self._chapters:
            if paragraphs:
                title = title or f"Chapter {len(chapters) + 1}"
                chapters.append(Chapter(title, " ".join(paragraphs)))
        return chapters


def _as_sentence(paragraph: str) -> str:
    """`paragraph` ending as a sentence: a full stop goes before its closing quotes or brackets,
    in place of a comma or colon the layout left at its end."""
    core = paragraph.rstrip(_CLOSERS)
    if core and core[-1] in _SENTENCE_MARKS:
        return paragraph
    closers = paragraph[len(core) :]
    core = core.rstrip(_SOFT_MARKS)
    stop = "。" if core and _CJK.match(core[-1]) else "."
    return f"{core}{stop}{closers}"


def _base_name(filename: str) -> str:
    """The file's own name, without the folders a browser or client may send (C:\\fakepath\\)."""
    return re.split(r"[\\/]", filename)[-1]


def _title_from_name(name: str) -> str | None:
    return normalize(posixpath.splitext(name)[0].replace("_", " ")) or None


def _decode(data: bytes, name: str) -> str:
    """The text of a UTF-8 file (with or without a byte order mark) or a UTF-16 one with a byte
    order mark; raises InvalidBook naming the problem otherwise."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InvalidBook(f"{name!r} is UTF-32 text; save it as UTF-8 and upload it again.")
    if data.startswith(b"\xef\xbb\xbf"):
        skip, encoding = 3, "utf-8"
    elif data.startswith(b"\xff\xfe"):
        skip, encoding = 2, "utf-16-le"
    elif data.startswith(b"\xfe\xff"):
        skip, encoding = 2, "utf-16-be"
    else:
        skip, encoding = 0, "utf-8"
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError as error:
        where = skip + error.start
        label = "UTF-16" if skip == 2 else "UTF-8"
        raise InvalidBook(
            f"{name!r} is not {label} text: the bytes at offset {where} "
            f"({data[where : where + 4].hex(' ')}) are not valid {label}. sayfile reads books as "
            "EPUB, Markdown or plain text in UTF-8 (or UTF-16 with a byte order mark)."
        ) from None
    if "\x00" in text:
        raise InvalidBook(
            f"{name!r} contains NUL characters, so it is not plain text: it is a binary file, or "
            "UTF-16 without a byte order mark. Save it as UTF-8 and upload it again."
        )
    return text


# EPUB


def _read_epub(data: bytes, name: str) -> _Draft:
    """Chapters from the table of contents, text from the spine's documents in order."""
    _check_archive(data, name)
    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as error:
        # ebooklib raises whatever its code runs into on a malformed book: KeyError, IndexError,
        # AttributeError, lxml's errors, its own EpubException.
        raise InvalidBook(f"{name!r} is a damaged EPUB and cannot be read.") from error
    items = {item.get_id(): item for item in book.get_items()}
    spine = [
        (items[idref], linear)
        for idref, linear in book.spine
        if idref in items and items[idref].media_type in _XHTML_MEDIA_TYPES
    ]
    in_spine = {str(item.file_name) for item, _ in spine}
    targets = {path: at for path, at in _toc_targets(book).items() if path in in_spine}
    draft = _Draft()
    xhtml_bytes = 0
    parser = _xml_parser()
    html_parser = _html_parser()
    for item, linear in spine:
        path = str(item.file_name)
        # Documents outside the reading order (notes, the navigation document) are read only
        # when the table of contents points at them.
        if path not in targets and (linear == "no" or isinstance(item, epub.EpubNav)):
            continue
        content: bytes = item.content or b""
        xhtml_bytes += len(content)
        if xhtml_bytes > MAX_XHTML_BYTES:
            raise InvalidBook(
                f"{name!r} has more than {MAX_XHTML_BYTES} bytes of XHTML text; that is the limit."
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
        if at_start or not targets or not draft.started:
            # What comes before the first listed chapter (a title page) is named after the
            # book rather than "Chapter 1".
            draft.start(_joined(at_start) or (None if draft.started else _epub_title(book)))
        if root is not None:
            _read_element(root, draft, anchors)
        draft.end_paragraph()
    return draft


def _epub_title(book: Any) -> str | None:
    """The book's title from its metadata (`dc:title`), if it has one."""
    for value, _ in book.get_metadata("DC", "title") or ():
        title = normalize(str(value))[:MAX_HEADING_CHARS]
        if title:
            return title
    return None


def _check_archive(data: bytes, name: str) -> None:
    """Raise InvalidBook unless `data` is a ZIP with an EPUB container, unpacking to no more than
    MAX_EPUB_UNPACKED_BYTES, and without DRM."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidBook(f"{name!r} is not an EPUB: it is not a ZIP archive.") from None
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        if "META-INF/container.xml" not in names:
            raise InvalidBook(f"{name!r} is not an EPUB: it has no META-INF/container.xml.")
        # Reading a member stops at the size its directory entry gives (or fails its checksum),
        # so these sizes bound what ebooklib can unpack.
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


def _toc_targets(book: Any) -> dict[str, dict[str, list[str]]]:
    """Where the table of contents points: document path -> fragment ("" for the document's
    start) -> the titles of the entries pointing there, in the table's order."""
    # ebooklib resolves the EPUB 3 navigation document's links against its folder, but leaves an
    # NCX's links as written, relative to the NCX file.
    base = ""
    if not any(isinstance(item, epub.EpubNav) for item in book.get_items()):
        ncx = next((item for item in book.get_items() if isinstance(item, epub.EpubNcx)), None)
        base = posixpath.dirname(str(ncx.file_name)) if ncx is not None else ""
    targets: dict[str, dict[str, list[str]]] = {}
    for href, title in _flatten(book.toc):
        path, _, fragment = href.partition("#")
        path = posixpath.normpath(posixpath.join(base, unquote(path)))
        targets.setdefault(path, {}).setdefault(unquote(fragment), []).append(title)
    return targets


def _flatten(entries: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """The (href, title) of every entry of an ebooklib table of contents, parents first; nested
    entries are chapters too."""
    for entry in entries:
        children: Iterable[Any] = ()
        if isinstance(entry, tuple):
            entry, children = entry
        href = getattr(entry, "href", "")
        if href:
            yield str(href), normalize(str(entry.title or ""))
        yield from _flatten(children)


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


def _read_markdown(data: bytes, name: str) -> _Draft:
    """Chapters at the top headings, text from paragraphs, lists, quotes, tables (a sentence a
    row) and HTML, addresses said briefly (`markup.markdown_blocks`, as pasted Markdown is)."""
    text = _decode(data, name)
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
    try:
        root = lxml.html.fragment_fromstring(source, create_parent="div", parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return
    _read_element(root, draft, {})


# Plain text


def _read_text(data: bytes, name: str) -> _Draft:
    """Chapters at heading lines; paragraphs between blank lines, or one a line in files that
    have no blank lines; an indented line starts a paragraph too."""
    text = _decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
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
    read: Callable[[bytes, str], _Draft]


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


def _kind(data: bytes, name: str, media_type: str | None) -> _Kind:
    extension = posixpath.splitext(name)[1].lower()
    essence = (media_type or "").partition(";")[0].strip().lower()
    for kind in _KINDS:
        if extension in kind.extensions:
            return kind
    for kind in _KINDS:
        if essence in kind.media_types:
            return kind
    return _KINDS[0] if data.startswith(b"PK\x03\x04") else _KINDS[-1]
