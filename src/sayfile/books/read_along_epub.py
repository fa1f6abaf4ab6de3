"""A read-along EPUB 3 written from a book's chapters (their audio files, already encoded,
and their timings): the content documents and Media Overlays of `read_along` (one or more
a chapter), the package document with each overlay's and the book's `media:duration`, the
nav document, the cover.

Written with `zipfile` rather than ebooklib: ebooklib holds every item's bytes in memory
(a long book's audio is hundreds of megabytes) and writes no Media Overlay metadata; here
the audio is copied from disk in blocks."""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sayfile.audio.timings import Timings
from sayfile.books.read_along import (
    ACTIVE_CLASS,
    DOCUMENT_CHARS,
    OPS_NS,
    STYLE,
    STYLE_SHEET,
    XHTML_NS,
    Layout,
    chapter_name,
    clock,
    read_along_chapter,
)
from sayfile.text.language_detection import language_by_script
from sayfile.whole_files import written_whole

MEDIA_TYPE = "application/epub+zip"
_ROOT = "OEBPS"
_PACKAGE = f"{_ROOT}/content.opf"
_CONTAINER = f"""<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="{_PACKAGE}" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""
_COVER_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
# Characters XML 1.0 does not allow anywhere (a book's text may still hold a stray one).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class ChapterAudio:
    """One chapter of a read-along book: its title, audio file and timings, how long a
    player plays the file, and how much later than its timings a sound is heard in it."""

    title: str
    audio: Path
    timings: Timings
    played_s: float
    lead_s: float
    layout: Layout = field(default_factory=Layout)
    """How the chapter's text is laid out and shown (`Chapter.layout`)."""


@dataclass(frozen=True, slots=True)
class BookAudio:
    """What a read-along book is made of: its title, author and language (None: told from
    its text's script, else undetermined), the narrator (the voice), an identifier that stays
    the same for the same job, its chapters, their audio's media type, and its cover."""

    title: str
    author: str | None
    language: str | None
    narrator: str
    identifier: str
    chapters: Sequence[ChapterAudio]
    audio_media_type: str
    cover: Path | None = None


def write_read_along(book: BookAudio, target: Path, document_chars: int = DOCUMENT_CHARS) -> float:
    """The EPUB of `book` at `target` (written as an unfinished file and renamed when whole,
    one content document and its overlay in memory at a time; a chapter is cut into
    documents of about `document_chars` characters); returns how long its audio lasts in
    all, in seconds."""
    language = book.language or _language_of(book) or "und"
    documents: list[list[tuple[str, float]]] = []
    with written_whole(target) as unfinished, zipfile.ZipFile(unfinished, "w") as archive:
        # The mimetype first and stored, so a reader knows the file by its first bytes.
        archive.writestr("mimetype", MEDIA_TYPE, compress_type=zipfile.ZIP_STORED)
        text = zipfile.ZIP_DEFLATED
        archive.writestr("META-INF/container.xml", _CONTAINER, compress_type=text)
        archive.writestr(f"{_ROOT}/nav.xhtml", _NOT_XML.sub("", _nav(book, language)), text)
        archive.writestr(f"{_ROOT}/{STYLE_SHEET}", STYLE, compress_type=text)
        for number, each in enumerate(book.chapters, 1):
            audio_name = _audio_name(number, each)
            made = read_along_chapter(
                each.title,
                number,
                each.timings,
                audio_name,
                language,
                each.played_s,
                each.lead_s,
                each.layout,
                document_chars,
            )
            documents.append([])
            for document in made:
                xhtml = _NOT_XML.sub("", document.xhtml)
                archive.writestr(f"{_ROOT}/{document.stem}.xhtml", xhtml, text)
                archive.writestr(f"{_ROOT}/{document.stem}.smil", document.smil, text)
                documents[-1].append((document.stem, document.duration))
            archive.write(each.audio, f"{_ROOT}/{audio_name}", compress_type=zipfile.ZIP_STORED)
        if book.cover is not None:
            archive.write(book.cover, f"{_ROOT}/cover{book.cover.suffix}", zipfile.ZIP_STORED)
        # The package last: it lists every document, known once each chapter is written.
        package = _NOT_XML.sub("", _package(book, language, documents))
        archive.writestr(_PACKAGE, package, text)
    return sum(each.played_s for each in book.chapters)


def _audio_name(number: int, chapter: ChapterAudio) -> str:
    return f"audio/{chapter_name(number, chapter.audio.suffix.lstrip('.'))}"


def job_identifier(job_id: str) -> str:
    """The EPUB's unique identifier for a job: a UUID named after it, so it never reveals the
    job's id (a capability) yet stays the same when the book is joined again."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'sayfile:book:' + job_id)}"


def _language_of(book: BookAudio) -> str | None:
    text = " ".join(p.text for each in book.chapters for p in each.timings.pieces[:20])
    return language_by_script(text)


def _package(book: BookAudio, language: str, documents: list[list[tuple[str, float]]]) -> str:
    """The package document: metadata (with each overlay's duration, the total, the active
    class), the manifest (each content document, `documents` by chapter as (name, duration),
    pointing at its overlay) and the spine."""
    modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    every = [each for chapter in documents for each in chapter]
    # The total is the sum of the overlays' durations as written, as checkers require.
    total = sum(round(duration, 3) for _, duration in every)
    meta = [
        f'<dc:identifier id="book-id">{escape(book.identifier)}</dc:identifier>',
        f"<dc:title>{escape(book.title)}</dc:title>",
        f"<dc:language>{escape(language)}</dc:language>",
        *([f"<dc:creator>{escape(book.author)}</dc:creator>"] if book.author else []),
        f'<meta property="dcterms:modified">{modified}</meta>',
        f'<meta property="media:narrator">{escape(book.narrator)}</meta>',
        f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>',
        f'<meta property="media:duration">{clock(total)}</meta>',
        *(
            f'<meta property="media:duration" refines="#mo-{stem}">{clock(duration)}</meta>'
            for stem, duration in every
        ),
        *(['<meta name="cover" content="cover"/>'] if book.cover else []),
    ]
    items = [
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        f'<item id="style" href="{STYLE_SHEET}" media-type="text/css"/>',
    ]
    for number, (chapter, made) in enumerate(zip(book.chapters, documents, strict=True), 1):
        for stem, _ in made:
            items += [
                f'<item id="{stem}" href="{stem}.xhtml" media-type="application/xhtml+xml" '
                f'media-overlay="mo-{stem}"/>',
                f'<item id="mo-{stem}" href="{stem}.smil" media-type="application/smil+xml"/>',
            ]
        audio_name = _audio_name(number, chapter)
        items.append(
            f'<item id="audio-{number}" href="{audio_name}" media-type="{book.audio_media_type}"/>'
        )
    if book.cover is not None:
        cover_type = _COVER_TYPES.get(book.cover.suffix.lower(), "image/jpeg")
        items.append(
            f'<item id="cover" href="cover{book.cover.suffix}" media-type="{cover_type}" '
            'properties="cover-image"/>'
        )
    spine = [f'<itemref idref="{stem}"/>' for stem, _ in every]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        f'unique-identifier="book-id" xml:lang={quoteattr(language)}>',
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">',
        *meta,
        "</metadata>",
        "<manifest>",
        *items,
        "</manifest>",
        "<spine>",
        *spine,
        "</spine>",
        "</package>",
    ]
    return "\n".join(lines) + "\n"


def _nav(book: BookAudio, language: str) -> str:
    lang = quoteattr(language)
    title = book.title
    entries = [
        f'<li><a href="{chapter_name(n, "xhtml")}">{escape(chapter.title)}</a></li>'
        for n, chapter in enumerate(book.chapters, 1)
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE html>",
        f'<html xmlns="{XHTML_NS}" xmlns:epub="{OPS_NS}" xml:lang={lang} lang={lang}>',
        f'<head><meta charset="UTF-8"/><title>{escape(title)}</title></head>',
        "<body>",
        '<nav epub:type="toc" id="toc">',
        f"<h1>{escape(title)}</h1>",
        "<ol>",
        *entries,
        "</ol>",
        "</nav>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"
