"""EPUB books read into chapters: the archive checked before anything is unpacked (a ZIP bomb,
DRM), then the spine's documents read in order, chapters started where the table of contents
points, front matter found from the guide, the landmarks and what a page says about itself."""

from __future__ import annotations

import re
import zipfile
import zlib
from typing import Any, BinaryIO

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]

from sayfile.books.book_file import BookFile
from sayfile.books.chapters import TITLE_PAGE, ChapterDraft, opens_as_contents
from sayfile.books.deep_markup import parse_flattened
from sayfile.books.epub_package import (
    FRONT_MATTER,
    BookInfo,
    Package,
    read_member,
    read_package,
)
from sayfile.books.xhtml_text import OPS_TYPE, local_name, make_html_parser, read_element
from sayfile.errors import InvalidBook
from sayfile.text.sentences import normalize

# The whole archive is bounded before it is opened: a ZIP bomb is refused from its directory
# alone, though only the text documents are ever unpacked.
MAX_EPUB_UNPACKED_BYTES = 200 * 1024 * 1024
# The XHTML documents actually read, which is what parsing time grows with.
MAX_XHTML_BYTES = 50 * 1024 * 1024
# The elements one XHTML document may have (a novel's chapter has a few thousand; parsed, each
# takes memory, so this keeps a book's reading under a few hundred MB).
MAX_XHTML_ELEMENTS = 300_000

# The longest heading taken as a chapter's title (a longer one is a paragraph set large).
_HEADING_CHARS = 120
_DRM_MESSAGE = "This EPUB is encrypted (DRM); sayfile can only read EPUBs without DRM."
# Files that only DRM schemes put in an EPUB: Adobe ADEPT, Readium LCP, Apple FairPlay.
_DRM_FILES = frozenset({"META-INF/rights.xml", "META-INF/license.lcpl", "META-INF/sinf.xml"})
_XMLENC = "{http://www.w3.org/2001/04/xmlenc#}"
# Font obfuscation (IDPF, Adobe) is listed in encryption.xml too, but leaves the text readable.
_FONT_OBFUSCATION = frozenset(
    {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
)


def read_epub(source: BookFile) -> ChapterDraft:
    """Chapters from the table of contents, text from the spine's documents in order. Only the
    package, navigation and spine documents (and the cover) are read from the archive; the
    pictures and fonts that are most of a book's size stay packed."""
    name = source.name
    _check_archive(source.file, name)
    source.file.seek(0)
    with zipfile.ZipFile(source.file) as archive:
        package = read_package(archive, name)
        return _read_spine(archive, package, name)


def _read_spine(archive: zipfile.ZipFile, package: Package, name: str) -> ChapterDraft:
    in_spine = {document.path for document in package.spine}
    targets: dict[str, dict[str, list[str]]] = {}
    for target, title in package.toc:
        path, _, fragment = target.partition("#")
        if path in in_spine:
            targets.setdefault(path, {}).setdefault(fragment, []).append(title)
    draft = ChapterDraft(package.info)
    budget = MAX_XHTML_BYTES
    parser = _xml_parser()
    html_parser = make_html_parser()
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
            # A chapter the table of contents does not name (a book without one, or a page
            # it leaves out) is named by its own heading, as a reader sees it.
            heading = None if at_start or front else _heading(root)
            named = _joined(at_start) or heading or (None if draft.started else package.info.title)
            # The first page, named after the book or before the first listed chapter, is a
            # title page if it is short. Without a table of contents to say where the
            # chapters begin, it must also say the book's title or author, as a title page
            # does and a short first chapter seldom does.
            title_page = not draft.has_text and (named == package.info.title or not at_start)
            if not targets:
                title_page = title_page and _names_the_book(root, package.info)
            draft.start(
                named or (FRONT_MATTER[front] if front else None),
                front or (TITLE_PAGE if title_page else None),
            )
        after_front = bool(front)
        if root is not None:
            read_element(root, draft, anchors)
        draft.end_paragraph()
    return draft


def _heading(root: Any) -> str | None:
    """The first heading (h1 to h3) of a document, if it has a short one."""
    if root is None:
        return None
    for element in root.xpath("(//*[local-name()='h1' or local-name()='h2' or local-name()='h3'])"):
        text = normalize(" ".join(str(t) for t in element.xpath(".//text()")))
        return text if 0 < len(text) <= _HEADING_CHARS else None
    return None


def _names_the_book(root: Any, info: BookInfo) -> bool:
    """Whether a document's text says the book's title (or its part before a colon) or its
    author, as words of its own, case and punctuation aside."""
    if root is None:
        return False
    said = _folded(" ".join(str(t) for t in root.xpath("//*[local-name()='body']//text()")))
    title = info.title or ""
    names = (title, re.split(r"[:;]", title)[0], info.author or "")
    for name in filter(None, map(_folded, names)):
        if re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", said):
            return True
    return False


def _folded(text: str) -> str:
    """`text` in lower case, its words joined by single spaces."""
    return " ".join(re.findall(r"\w+", text.casefold()))


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
    if opens_as_contents(texts):
        return "toc"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = local_name(element.tag)
        if name in ("html", "head", "title", "meta", "link", "style"):
            continue
        types = str(element.get(OPS_TYPE) or element.get("epub:type") or "").lower().split()
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
