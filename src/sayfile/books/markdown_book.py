"""Markdown books read into chapters: a chapter at each top heading, text from paragraphs,
lists, quotes, tables and HTML blocks, code left unread; the title, author, language and year
from YAML front matter, which is not read either."""

from __future__ import annotations

from collections import Counter
from typing import Any

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]

from sayfile.books.book_file import BookFile, title_from_name
from sayfile.books.chapters import ChapterDraft
from sayfile.books.deep_markup import parse_flattened
from sayfile.books.epub_package import BookInfo
from sayfile.books.xhtml_text import make_html_parser, read_element
from sayfile.text.front_matter import front_matter
from sayfile.text.markup import markdown_blocks, say_addresses
from sayfile.text.sentences import normalize


def read_markdown(source: BookFile) -> ChapterDraft:
    """Chapters at the top headings, text from paragraphs, lists, quotes, tables (a sentence a
    row) and HTML, addresses said briefly (`markup.markdown_blocks`, as pasted Markdown is);
    what the front matter says about the book (`front_matter.front_matter`) as its info."""
    text = source.text()
    info = BookInfo()
    if found := front_matter(text):
        text = text[found.end :]
        info = BookInfo(found.title, found.author, found.language, found.year)
    blocks = list(markdown_blocks(text))
    level = _chapter_level([block.level for block in blocks if block.level])
    draft = ChapterDraft(info)
    draft.start(info.title or title_from_name(source.name))
    html_parser = make_html_parser()
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


def _read_html(source: str, draft: ChapterDraft, parser: Any) -> None:
    # Well-formed markup is read as XML first: libxml2's HTML parser drops what lies deeper
    # than 256 elements.
    root = parse_flattened(f"<div>{source}</div>".encode())
    if root is None:
        try:
            root = lxml.html.fragment_fromstring(source, create_parent="div", parser=parser)
        except (lxml.etree.ParserError, ValueError):
            return
    read_element(root, draft, {})
