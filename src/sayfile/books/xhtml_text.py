"""The spoken text of (X)HTML, for an EPUB's documents and a Markdown book's HTML blocks:
what is read aloud (not scripts, ruby readings, notes or page numbers), where sentences end
(at block elements), and where a chapter starts (at an element a table of contents points at).
"""

from __future__ import annotations

import re
from html.entities import html5 as html_entities
from typing import Any

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]

from sayfile.books.chapters import ChapterDraft

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
OPS_TYPE = "{http://www.idpf.org/2007/ops}type"
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


def make_html_parser() -> Any:
    """lxml's HTML parser for what is not well-formed XML: UTF-8, fetching nothing."""
    return lxml.html.HTMLParser(encoding="utf-8", no_network=True, huge_tree=False)


def read_element(element: Any, draft: ChapterDraft, anchors: dict[str, str | None]) -> None:
    """Write the spoken text of `element` (not its tail) into `draft`, starting a chapter at
    each element whose id is one of `anchors` (taken from it)."""
    tag = element.tag
    if not isinstance(tag, str):
        # Named entities the parser left unexpanded are read as HTML defines them; comments,
        # processing instructions and other entities are not read.
        if tag is lxml.etree.Entity:
            draft.write(html_entities.get(str(element.text)[1:], ""))
        return
    name = local_name(tag)
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
        read_element(child, draft, anchors)
        if child.tail:
            draft.write(child.tail)
    if block:
        draft.end_paragraph()


def local_name(tag: str) -> str:
    """An element's name without its namespace: "p" for "{http://www.w3.org/1999/xhtml}p"."""
    return tag.rpartition("}")[2].lower()


def _is_note(element: Any, name: str) -> bool:
    """Whether `element` is a note, a reference to one, or a page number."""
    types = element.get(OPS_TYPE) or element.get("epub:type") or ""
    if not _NOTE_TYPES.isdisjoint(types.split()):
        return True
    if not _NOTE_ROLES.isdisjoint((element.get("role") or "").split()):
        return True
    if _NOTE_CLASS.search(element.get("class") or ""):
        return True
    if name == "sup":
        return _is_note_mark(element) or any(
            isinstance(inner.tag, str) and local_name(inner.tag) == "a" and inner.get("href")
            for inner in element.iterdescendants()
        )
    return name == "a" and "#" in (element.get("href") or "") and _is_note_mark(element)


def _is_note_mark(element: Any) -> bool:
    """Whether all the text of `element` is a note mark such as 1, [12] or *."""
    text = "".join(element.itertext()).strip()
    return len(text) <= _NOTE_MARK_CHARS and _NOTE_MARK.fullmatch(text) is not None
