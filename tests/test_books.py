"""Books read into chapters: EPUBs by their table of contents (notes and page numbers left out,
DRM and ZIP bombs refused), Markdown by its headings, plain text in English and Chinese by its
chapter lines, and the limits on chapters and characters."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from ebooklib import epub

from sayfile.books.epub import MAX_EPUB_UNPACKED_BYTES, MAX_XHTML_BYTES
from sayfile.books.reading import (
    Chapter,
    book_ssml,
    choose_chapters,
    open_book,
    read_book,
)
from sayfile.errors import InvalidBook, InvalidInput

TITLE_PAGE = "<h1>The Test Book</h1><p>by A. Writer</p>"
STORM = (
    "<h1>Chapter One</h1>"
    '<p>The wind rose<sup><a epub:type="noteref" href="#n1">1</a></sup> over the hills'
    '<span epub:type="pagebreak" id="page12" title="12">12</span> and the rain fell</p>'
    "<p>Nobody slept</p>"
    '<aside epub:type="footnote" id="n1"><p>Storms were common then.</p></aside>'
)
WIND = (
    "<h1>第二章 风暴</h1>"
    '<p>风越来越大<span role="doc-pagebreak" aria-label="13">13</span>，雨也下起来了</p>'
    "<p>他们一夜没睡</p>"
)
INTERLUDE = "<p>An interlude in the rain.</p>"
MORNING = (
    "<h1>Chapter Three</h1><p>Morning came<br/>The sky was clear</p>"
    "<script>var secret = 1;</script><p>On the 3<sup>rd</sup> day<sup>2</sup> it began"
    "<a href='#x2'>[2]</a></p>"
)


def _epub(*, nav: bool = True, toc: bool = True) -> bytes:
    """A small EPUB made the way authoring tools make them: a title page and an interlude that the
    table of contents leaves out, and three chapters in it."""
    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("The Test Book")
    book.set_language("en")
    documents = {}
    for name, body in [
        ("title", TITLE_PAGE),
        ("storm", STORM),
        ("wind", WIND),
        ("interlude", INTERLUDE),
        ("morning", MORNING),
    ]:
        document = epub.EpubHtml(title=name, file_name=f"text/{name}.xhtml", lang="en")
        document.content = f"<html><body>{body}</body></html>"
        book.add_item(document)
        documents[name] = document
    book.toc = [
        epub.Link("text/storm.xhtml", "Chapter One: The Storm", "storm"),
        epub.Link("text/wind.xhtml", "第二章 风暴", "wind"),
        epub.Link("text/morning.xhtml", "Chapter Three", "morning"),
    ]
    if not toc:
        book.toc = []
    book.add_item(epub.EpubNcx())
    spine: list[object] = list(documents.values())
    if nav:
        book.add_item(epub.EpubNav())
        spine.insert(1, "nav")
    book.spine = spine
    return _written(book)


def _written(book: epub.EpubBook) -> bytes:
    buffer = io.BytesIO()
    epub.write_epub(buffer, book)
    return buffer.getvalue()


def _with_files(data: bytes, files: dict[str, bytes]) -> bytes:
    """`data` (a ZIP) with `files` added."""
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _refusal(
    data: bytes, filename: str, max_chapters: int = 500, max_chars: int = 2_000_000
) -> str:
    with pytest.raises(InvalidBook) as refused:
        read_book(data, filename, max_chapters=max_chapters, max_chars=max_chars)
    assert refused.value.field == "file"
    assert isinstance(refused.value, InvalidInput)
    return refused.value.message


@pytest.mark.parametrize("nav", [True, False], ids=["epub3-nav", "epub2-ncx"])
def test_epub_chapters_follow_the_toc_and_spine(nav: bool) -> None:
    chapters = read_book(_epub(nav=nav), "book.epub")
    assert [chapter.title for chapter in chapters] == [
        "The Test Book",  # the title page, named after the book
        "Chapter One: The Storm",
        "第二章 风暴",
        "Chapter Three",
    ]
    assert chapters[0].text == "The Test Book. by A. Writer."
    # A short page before the first chapter listed is a title page: listed, not spoken.
    assert [chapter.skipped for chapter in chapters] == [True, False, False, False]
    # The head's <title> is not read; a paragraph without a final mark ends with one.
    assert (
        chapters[1].text
        == "Chapter One. The wind rose over the hills and the rain fell. Nobody slept."
    )
    # The interlude, not in the table of contents, joins the chapter before it.
    assert (
        chapters[2].text
        == "第二章 风暴。 风越来越大，雨也下起来了。 他们一夜没睡。 An interlude in the rain."
    )
    assert (
        chapters[3].text
        == "Chapter Three. Morning came. The sky was clear. On the 3rd day it began."
    )


def test_epub_notes_page_numbers_and_scripts_are_not_read() -> None:
    spoken = " ".join(chapter.text for chapter in read_book(_epub(), "book.epub"))
    for unspoken in [
        "Storms were common",
        "12",
        "13",
        "1",
        "[2]",
        "secret",
        "<",
        "Chapter One: The Storm",
    ]:
        assert unspoken not in spoken


def test_epub_entries_pointing_into_a_document_split_it() -> None:
    """A document holding several chapters, under a part whose entry has children: each entry
    starts where its anchor is; entries pointing at the same place share one chapter."""
    book = epub.EpubBook()
    book.set_identifier("parts")
    book.set_title("Parts")
    document = epub.EpubHtml(title="Part One", file_name="part.xhtml", lang="en")
    document.content = (
        "<html><body><h1>Part One</h1><p>Where it begins.</p>"
        '<h2 id="c1">Chapter 1</h2><p>First.</p><h2 id="c2">Chapter 2</h2><p>Second.</p>'
        "</body></html>"
    )
    notes = epub.EpubHtml(title="Notes", file_name="notes.xhtml", lang="en")
    notes.content = (
        '<html><body><section epub:type="endnotes"><p>A note.</p></section></body></html>'
    )
    book.add_item(document)
    book.add_item(notes)
    book.toc = [
        (
            epub.Section("Part One", "part.xhtml"),
            [
                epub.Link("part.xhtml#c1", "Chapter 1", "c1"),
                epub.Link("part.xhtml#c2", "Chapter 2", "c2"),
            ],
        ),
        epub.Link("part.xhtml", "The Beginning", "beginning"),
        epub.Link("notes.xhtml", "Notes", "notes"),
    ]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = [document, notes]
    chapters = read_book(_written(book), "parts.epub")
    # The notes chapter has nothing to read, so it is dropped.
    assert chapters == [
        Chapter("Part One: The Beginning", "Part One. Where it begins."),
        Chapter("Chapter 1", "Chapter 1. First."),
        Chapter("Chapter 2", "Chapter 2. Second."),
    ]


XHTML_11 = (
    b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
    b'"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd"><html xmlns="http://www.w3.org/1999/xhtml">'
    b"<head><title>Three</title></head><body><h1>Chapter Three</h1>"
    b"<p>Caf&eacute;&nbsp;au lait</p><p>Done</p></body></html>"
)
NOT_WELL_FORMED = b"<html><body><h1>Chapter Three</h1><p>Caf&eacute;&nbsp;au lait<p>Done"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;">]><html xmlns="http://www.w3.org/1999/xhtml"><body>'
    b"<h1>Chapter Three</h1><p>Caf&#233; au lait &c;</p><p>Done</p></body></html>"
)


@pytest.mark.parametrize(
    "document",
    [XHTML_11, NOT_WELL_FORMED, LAUGHS],
    ids=["xhtml-1.1-entities", "not-well-formed", "entity-expansion"],
)
def test_epub_documents_as_found_in_the_wild(document: bytes) -> None:
    """HTML entities under the XHTML 1.1 DTD (never fetched) are read; HTML that is not XML is
    read as HTML; entities a document declares itself are not expanded."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_epub())) as source, zipfile.ZipFile(buffer, "w") as copy:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.endswith("morning.xhtml"):
                content = document
            copy.writestr(member, content)
    assert (
        read_book(buffer.getvalue(), "book.epub")[-1].text == "Chapter Three. Café au lait. Done."
    )


ENCRYPTION = b"""<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
    xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData>
    <enc:EncryptionMethod Algorithm="%s"/>
    <enc:CipherData><enc:CipherReference URI="EPUB/text/storm.xhtml"/></enc:CipherData>
  </enc:EncryptedData>
</encryption>
"""


@pytest.mark.parametrize(
    "files",
    [
        {"META-INF/encryption.xml": ENCRYPTION % b"http://www.w3.org/2001/04/xmlenc#aes128-cbc"},
        {"META-INF/rights.xml": b"<rights/>"},
    ],
    ids=["encryption.xml", "rights.xml"],
)
def test_epub_with_drm_is_refused(files: dict[str, bytes]) -> None:
    message = _refusal(_with_files(_epub(), files), "book.epub")
    assert message == "This EPUB is encrypted (DRM); sayfile can only read EPUBs without DRM."


def test_epub_with_obfuscated_fonts_only_is_read() -> None:
    fonts = ENCRYPTION % b"http://www.idpf.org/2008/embedding"
    data = _with_files(_epub(), {"META-INF/encryption.xml": fonts})
    assert len(read_book(data, "book.epub")) == 4


def test_files_that_are_not_epubs_are_refused() -> None:
    not_epub = io.BytesIO()
    with zipfile.ZipFile(not_epub, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "no META-INF/container.xml" in _refusal(not_epub.getvalue(), "book.epub")
    assert "not a ZIP archive" in _refusal(b"<html>not a zip</html>", "book.epub")
    assert "is a PDF document, not a book" in _refusal(b"%PDF-1.7 not a zip", "book.epub")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
    assert "damaged EPUB" in _refusal(broken.getvalue(), "book.epub")


def test_zip_bombs_are_refused_before_unpacking() -> None:
    buffer = io.BytesIO(_epub())
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("EPUB/images/bomb.png", "w", force_zip64=True) as bomb,
    ):
        zeros = bytes(1 << 20)
        for _ in range(MAX_EPUB_UNPACKED_BYTES // len(zeros) + 1):
            bomb.write(zeros)
    assert len(buffer.getvalue()) < 1_000_000
    message = _refusal(buffer.getvalue(), "book.epub")
    assert f"the limit is {MAX_EPUB_UNPACKED_BYTES}" in message


def test_too_much_xhtml_is_refused() -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_epub())) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy,
    ):
        for member in source.infolist():
            if member.filename.endswith("storm.xhtml"):
                with copy.open(member.filename, "w") as big:
                    big.write(b"<html><body><p>")
                    for _ in range(MAX_XHTML_BYTES // (1 << 20) + 1):
                        big.write(b" " * (1 << 20))
                    big.write(b"</p></body></html>")
            else:
                copy.writestr(member, source.read(member))
    assert f"more than {MAX_XHTML_BYTES} bytes of XHTML" in _refusal(buffer.getvalue(), "b.epub")


MARKDOWN = """\
---
title: My Story
---
Some words before any heading.

# Chapter One

It was *dark* and **stormy**, said [the book](https://example.com/book).
![a map](map.png)
<span class="x">Inline HTML</span> and `code`

```python
print("never read")
```

## A scene

Text of the scene:

<div>A <b>block</b> of HTML<script>alert(1)</script></div>

# Chapter Two

| Name | Age |
|------|-----|
| Ann  | 30  |

- one
- two

<https://example.com/autolink>
"""


def test_markdown_chapters_at_top_headings_without_syntax() -> None:
    assert read_book(MARKDOWN.encode(), "my_story.md") == [
        # Named by the front matter's title, which is not read.
        Chapter("My Story", "Some words before any heading."),
        Chapter(
            "Chapter One",
            "Chapter One. It was dark and stormy, said the book. Inline HTML and code. A scene. "
            "Text of the scene. A block of HTML.",
        ),
        # A table is read row by row; an autolink as its site's name.
        Chapter("Chapter Two", "Chapter Two. Name, Age. Ann, 30. one. two. example.com."),
    ]


def test_markdown_second_level_headings_make_chapters() -> None:
    """Without `#`, `##` starts chapters; a lone `#` title above `##` chapters is a chapter of
    its own rather than the whole book."""
    text = "## One\n\nFirst.\n\n### Detail\n\nMore.\n\n## Two\n\nSecond."
    assert [c.title for c in read_book(text.encode(), "book.markdown")] == ["One", "Two"]
    titled = "# The Book\n\nBy me.\n\n## One\n\nFirst.\n\n## Two\n\nSecond."
    assert [c.title for c in read_book(titled.encode(), "book.md")] == ["The Book", "One", "Two"]


ENGLISH = """\
The Voyage
by A. Writer

Contents
Chapter I: The Storm
Chapter II: Calm

Chapter I: The Storm

The wind rose over the
hills, and the rain fell.

Part 2 of the plan was to wait
Chapter 3 is where it ends.

PART TWO

CHAPTER II: Calm

Morning came.

Epilogue

All was well.
"""


def test_plain_text_chapters_in_english() -> None:
    assert read_book(ENGLISH.encode(), "the_voyage.txt") == [
        # A table of contents stays in the text before the chapters.
        Chapter(
            "the voyage",
            "The Voyage by A. Writer. Contents. Chapter I: The Storm. Chapter II: Calm.",
        ),
        Chapter(
            "Chapter I: The Storm",
            "Chapter I: The Storm. The wind rose over the hills, and the rain fell. "
            "Part 2 of the plan was to wait Chapter 3 is where it ends.",
        ),
        # A part heading right before a chapter heading is read with it.
        Chapter("CHAPTER II: Calm", "PART TWO. CHAPTER II: Calm. Morning came."),
        Chapter("Epilogue", "Epilogue. All was well."),
    ]


@pytest.mark.parametrize(
    "heading",
    [
        "Chapter 1",
        "CHAPTER ONE",
        "Chapter IV: The Storm",
        "Chapter 12 The Storm",
        "Part 2",
        "Book the Second",
        "Chapter Twenty-One",
        "Prologue",
        "第一章",
        "第12章 风暴",
        "第三回",
        "第一百二十章风暴",
        "序章",
        "楔子",
        "尾声",
    ],
)
def test_chapter_heading_lines(heading: str) -> None:
    text = f"Before.\n\n{heading}\n\nAfter."
    assert [c.title for c in read_book(text.encode(), "b.txt")] == ["b", heading]


@pytest.mark.parametrize(
    "line",
    [
        "Part 2 of the plan was to wait.",
        "Chapter 3 is where it ends",
        "Prologues are long.",
        "第一章写完了。",
        "序幕拉开了",
        "Chapter and verse",
        "Chapter 7 was the longest, so we cut it",
    ],
)
def test_lines_that_are_not_chapter_headings(line: str) -> None:
    text = f"Before.\n\n{line}\n\nAfter."
    assert [c.title for c in read_book(text.encode(), "b.txt")] == ["b"]


def test_plain_text_chapters_in_chinese() -> None:
    """One paragraph a line, indented with ideographic spaces, CRLF line ends, a UTF-8 BOM."""
    lines = ["序章", "　　很久以前。", "第一章 风暴", "　　风越来越大，雨也下起来了", "第二章"]
    text = "\r\n".join([*lines, "　　天亮了，", "尾声", "　　一切都好。", ""])
    assert read_book(b"\xef\xbb\xbf" + text.encode(), "故事.txt") == [
        Chapter("序章", "序章。 很久以前。"),
        Chapter("第一章 风暴", "第一章 风暴。 风越来越大，雨也下起来了。"),
        Chapter("第二章", "第二章。 天亮了。"),
        Chapter("尾声", "尾声。 一切都好。"),
    ]


def test_utf16_text_with_wrapped_chinese_lines() -> None:
    text = "第三回 风暴\n\n风越来越\n大了。\n\n第12章 回家\n\n他们回家了。\n"
    for encoding in ["utf-16-le", "utf-16-be"]:
        bom = "\ufeff".encode(encoding)
        assert read_book(bom + text.encode(encoding), "story.txt") == [
            Chapter("第三回 风暴", "第三回 风暴。 风越来越大了。"),
            Chapter("第12章 回家", "第12章 回家。 他们回家了。"),
        ]


def test_plain_text_without_chapter_lines_is_one_chapter() -> None:
    text = "A short note\nwith two lines"
    assert read_book(text.encode(), "C:\\fakepath\\note.txt", "text/plain") == [
        Chapter("note", "A short note. with two lines.")
    ]


def test_text_no_encoding_explains_is_refused_with_the_offset() -> None:
    message = _refusal(b"Hello \x00\x9d\xff\xfe\x81\x00\x90\x9d" * 40, "noise.txt")
    assert "'noise.txt'" in message
    assert "the bytes at offset 7 (9d ff fe 81) are not UTF-8" in message
    message = _refusal(b"Hello\n" + bytes(range(0x80, 0x100)) * 8, "noise.txt")
    assert "offset 6 (80 81 82 83)" in message
    assert "UTF-16 without a byte order mark" in _refusal("Hello".encode("utf-16-le"), "h.txt")
    assert read_book("Hello".encode("utf-32"), "h.md") == [Chapter("h", "Hello.")]


def test_the_kind_comes_from_name_then_media_type_then_content() -> None:
    markdown = b"# Title\n\nText *here*."
    assert (
        read_book(markdown, "upload", "text/markdown; charset=utf-8")[0].text == "Title. Text here."
    )
    assert read_book(markdown, "upload.txt", "text/markdown")[0].text == "# Title. Text *here*."
    assert len(read_book(_epub(), "upload.bin", "application/octet-stream")) == 4


def test_limits_on_chapters_and_characters() -> None:
    text = "Chapter 1\n\nOne.\n\nChapter 2\n\nTwo.\n\nChapter 3\n\nThree."
    assert len(read_book(text.encode(), "b.txt", max_chapters=3)) == 3
    assert _refusal(text.encode(), "b.txt", max_chapters=2) == (
        "This book has 3 chapters; the limit is 2 chapters."
    )
    chars = sum(len(c.text) for c in read_book(text.encode(), "b.txt"))
    assert _refusal(text.encode(), "b.txt", max_chars=chars - 1) == (
        f"This book has {chars} characters of text; the limit for books is {chars - 1} "
        "characters (SAYFILE_MAX_CHARS_BOOK)."
    )
    assert "no text to read" in _refusal(b" \n\n ", "empty.txt")


DATA = Path(__file__).parent / "data"


def test_a_calibre_epub2_lists_its_front_matter_as_skipped() -> None:
    """《呐喊》 as Calibre makes it: a cover page (guide `cover`), a title page, a copyright
    page and "目 录" (guide `toc`) before the preface; only the preface and the story are
    spoken by default, and the book tells its title, author, language, year and cover."""
    book = open_book((DATA / "nahan-calibre-epub2.epub").read_bytes(), "nahan.epub")
    assert [(c.title, c.skipped) for c in book.chapters] == [
        ("呐喊", True),
        ("版权信息", True),
        ("目 录", True),
        ("自序", False),
        ("狂人日记", False),
    ]
    assert book.spoken[0].text.startswith("自序。 我在年青时候也曾经做过许多梦")
    info = book.info
    assert (info.title, info.author, info.language, info.year) == ("呐喊", "鲁迅", "zh", "1923")
    assert info.cover is not None and info.cover.media_type == "image/jpeg"
    assert info.cover.data.startswith(b"\xff\xd8")  # a JPEG
    # The SSML spoken for the book has no front matter in it.
    ssml = book_ssml(book.chapters)
    assert "版权" not in ssml and "目 录" not in ssml and "狂人日记" in ssml


def test_an_epub3_lists_its_landmarks_as_skipped() -> None:
    """Moby-Dick in the shape of IDPF's sample: the cover is outside the reading order, the
    title page is the first entry of the contents, a brief contents page follows it, and the
    copyright page is a landmark at the end."""
    book = open_book((DATA / "moby-dick-epub3.epub").read_bytes(), "moby-dick.epub")
    assert [(c.title, c.skipped) for c in book.chapters] == [
        ("Moby-Dick", True),
        ("Contents", True),
        ("Chapter 1. Loomings.", False),
        ("Chapter 2. The Carpet-Bag.", False),
        ("Copyright Page", True),
    ]
    assert book.spoken[0].text.startswith("Chapter 1. Loomings. Call me Ishmael.")
    assert (book.info.author, book.info.year, book.info.language) == (
        "Herman Melville",
        "1851",
        "en-US",
    )
    assert book.info.cover is not None


def test_chosen_chapters_are_made_and_the_others_skipped() -> None:
    chapters = read_book((DATA / "moby-dick-epub3.epub").read_bytes(), "moby-dick.epub")
    chosen = choose_chapters(chapters, " 1, 3-4 ")
    assert [c.skipped for c in chosen] == [False, True, False, False, True]
    assert [c.skipped for c in choose_chapters(chapters, "all")] == [False] * 5
    assert choose_chapters(chapters, None) == chapters
    for bad, says in [
        ("0", "not in this book, which has 5 chapters"),
        ("2-9", "not in this book"),
        ("4-2", "not in this book"),
        ("one", "is not a chapter number or range"),
        ("1,,2", "is not a chapter number or range"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            choose_chapters(chapters, bad)
        assert refused.value.field == "chapters"
        assert says in refused.value.message
        assert "from 1 to 5 such as 1-3,7, or all" in refused.value.message


def test_text_front_matter_is_found_by_what_it_says() -> None:
    text = (
        "目录\n\n第一章 风起\n第二章 雨落\n第三章 天晴\n\n"
        "第一章 风起\n\n风越来越大。\n\n第二章 雨落\n\n雨也下起来了。\n\n第三章 天晴\n\n天晴了。\n"
    )
    chapters = read_book(text.encode(), "风雨.txt")
    assert [(c.title, c.skipped) for c in chapters] == [
        ("风雨", True),
        ("第一章 风起", False),
        ("第二章 雨落", False),
        ("第三章 天晴", False),
    ]
    copyright_page = "Copyright © 2024 A. Writer. All rights reserved.\n\nChapter 1\n\nIt began."
    assert [c.skipped for c in read_book(copyright_page.encode(), "b.txt")] == [True, False]
    # A book that is nothing but what looks like front matter is read whole.
    only = read_book(b"Contents: nothing else here.", "c.txt")
    assert [c.skipped for c in choose_chapters(only, None)] == [False]


def test_the_epub_reader_leaves_pictures_packed() -> None:
    """A book of 40 MiB of pictures (in its manifest, stored uncompressed as in real EPUBs)
    and a little text is read with memory that does not grow with the pictures."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO((DATA / "moby-dick-epub3.epub").read_bytes())) as source,
        zipfile.ZipFile(buffer, "w") as copy,
    ):
        plates = "".join(
            f'<item id="p{n}" href="images/plate-{n:02d}.jpg" media-type="image/jpeg"/>'
            for n in range(40)
        )
        for member in source.infolist():
            content = source.read(member)
            if member.filename.endswith(".opf"):
                content = content.replace(b"</manifest>", plates.encode() + b"</manifest>")
            copy.writestr(member, content)
        for number in range(40):
            copy.writestr(f"OPS/images/plate-{number:02d}.jpg", os.urandom(1 << 20))
    data = buffer.getvalue()
    tracemalloc.start()
    try:
        book = open_book(data, "moby-dick.epub")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(book.spoken) == 2
    assert peak < 8 * 1024 * 1024


def test_an_epub2_cover_named_by_its_file_name_is_found() -> None:
    """Some tools write the cover's file name in `<meta name="cover">` instead of its id."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(DATA / "nahan-calibre-epub2.epub") as source,
        zipfile.ZipFile(buffer, "w") as copy,
    ):
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "content.opf":
                content = content.replace(b'content="cover"', b'content="cover.jpeg"')
                content = content.replace(b'id="cover" href', b'id="img1" href')
            copy.writestr(member, content)
    cover = open_book(buffer.getvalue(), "nahan.epub").info.cover
    assert cover is not None and cover.data.startswith(b"\xff\xd8")


def _bare_epub(documents: dict[str, str], spine: list[str], more_items: str = "") -> bytes:
    """An EPUB 3 of XHTML `documents` (name -> body) read in `spine` order, with no table of
    contents: the least a reading system accepts."""
    items = "".join(
        f'<item id="{name}" href="{name}.xhtml" media-type="application/xhtml+xml"/>'
        for name in documents
    )
    refs = "".join(f'<itemref idref="{name}"/>' for name in spine)
    package = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="id">bare</dc:identifier><dc:title>Bare</dc:title>'
        f"<dc:language>en</dc:language></metadata><manifest>{items}{more_items}</manifest>"
        f"<spine>{refs}</spine></package>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        archive.writestr("OEBPS/content.opf", package)
        for name, body in documents.items():
            archive.writestr(
                f"OEBPS/{name}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html '
                f'xmlns="http://www.w3.org/1999/xhtml"><head><title>{name}</title></head>'
                f"<body>{body}</body></html>",
            )
    return buffer.getvalue()


def test_text_inside_thousands_of_nested_divs_is_read() -> None:
    """libxml2 reads 256 levels: the words inside 5,000 <div>s were dropped."""
    deep = "<div>" * 5000 + "The hidden words are here." + "</div>" * 5000
    data = _bare_epub({"one": f"<h1>Chapter One</h1>{deep}<p>And after them.</p>"}, ["one"])
    (chapter,) = read_book(data, "deep.epub")
    assert chapter.text == "Chapter One. The hidden words are here. And after them."


def test_a_document_the_spine_lists_many_times_is_read_once() -> None:
    """One entry listed thousands of times (and under thousands of ids) took gigabytes."""
    body = "<h1>One</h1>" + "<p>Some words of the book go here.</p>" * 2000
    aliases = "".join(
        f'<item id="again{n}" href="one.xhtml" media-type="application/xhtml+xml"/>'
        for n in range(3000)
    )
    spine = ["one"] * 2000 + [f"again{n}" for n in range(3000)]
    tracemalloc.start()
    try:
        (chapter,) = read_book(_bare_epub({"one": body}, spine, aliases), "again.epub")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert chapter.text.count("Some words of the book go here.") == 2000
    assert peak < 100 * 1024 * 1024


def test_a_document_of_millions_of_elements_is_refused_before_it_is_parsed() -> None:
    data = _bare_epub({"one": "<h1>One</h1><p>" + "<b>x</b>" * 1_000_000 + "</p>"}, ["one"])
    message = _refusal(data, "elements.epub")
    assert "300000 elements" in message and "OEBPS/one.xhtml" in message


def test_markdown_html_nested_thousands_deep_is_read() -> None:
    deep = "<div>" * 5000 + "The hidden words are here." + "</div>" * 5000
    (chapter,) = read_book(f"# Chapter One\n\n{deep}\n\nAfter them.\n".encode(), "deep.md")
    assert chapter.text == "Chapter One. The hidden words are here. After them."


def test_an_epub_without_a_table_of_contents_names_chapters_by_their_headings() -> None:
    # They had been named after the book and then "Chapter 2", "Chapter 3"... whatever their
    # <h1> said.
    chapters = read_book(_epub(nav=False, toc=False), "book.epub")
    assert [chapter.title for chapter in chapters] == [
        "The Test Book",
        "Chapter One",
        "第二章 风暴",
        "Chapter 4",
        "Chapter Three",
    ]


def test_an_epub_without_a_table_of_contents_lists_its_title_page_as_skipped() -> None:
    # Named by its heading, the title page had been made as the book's first chapter.
    chapters = read_book(_epub(nav=False, toc=False), "book.epub")
    assert [(chapter.title, chapter.skipped) for chapter in chapters] == [
        ("The Test Book", True),
        ("Chapter One", False),
        ("第二章 风暴", False),
        ("Chapter 4", False),
        ("Chapter Three", False),
    ]
    # A title page says the book's title whatever its case and punctuation...
    title_page = "<p>BARE.</p><p>A short novel</p>"
    rain = "<h1>Rain</h1><p>It rains on the roofs tonight.</p>"
    snow = "<h1>Snow</h1><p>Then it snows.</p>"
    chapters = read_book(_bare_epub({"t": title_page, "r": rain}, ["t", "r"]), "bare.epub")
    assert [(chapter.title, chapter.skipped) for chapter in chapters] == [
        ("Bare", True),
        ("Rain", False),
    ]
    # ...and a short first chapter that does not is spoken.
    chapters = read_book(_bare_epub({"r": rain, "s": snow}, ["r", "s"]), "bare.epub")
    assert [(chapter.title, chapter.skipped) for chapter in chapters] == [
        ("Rain", False),
        ("Snow", False),
    ]
