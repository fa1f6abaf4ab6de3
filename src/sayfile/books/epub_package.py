"""What an EPUB says about itself, read from its ZIP one member at a time: the package (OPF)
metadata, cover picture, spine and guide, and its navigation (EPUB 3 nav document with its
landmarks, or EPUB 2 NCX). Pictures and other members are never read, only the cover."""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# lxml ships no type information; mypy sees it as Any.
import lxml.etree  # type: ignore[import-untyped]

from sayfile.errors import InvalidBook
from sayfile.text.sentences import normalize

# The package and navigation files are small; a bigger one is not a book's.
MAX_PACKAGE_BYTES = 8 * 1024 * 1024
# A cover bigger than this is left out of the audio files rather than copied into them.
MAX_COVER_BYTES = 10 * 1024 * 1024
# Cover pictures that audiobook players show.
COVER_TYPES = frozenset({"image/jpeg", "image/png"})
# Guide reference types (EPUB 2) and landmark types (EPUB 3) of pages that are not read
# aloud by default, each with the title such a page gets when the table of contents has none.
FRONT_MATTER = {
    "cover": "Cover",
    "titlepage": "Title page",
    "title-page": "Title page",
    "halftitlepage": "Title page",
    "copyright-page": "Copyright",
    "copyright": "Copyright",
    "imprint": "Copyright",
    "toc": "Contents",
    "contents": "Contents",
    "loi": "List of illustrations",
    "lot": "List of tables",
}
_OPS_TYPE = "{http://www.idpf.org/2007/ops}type"
_MAX_TEXT = 100


@dataclass(frozen=True, slots=True)
class Cover:
    """A book's cover picture, as stored in the EPUB."""

    data: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class BookInfo:
    """What a book says about itself (all optional): dc:title, dc:creator, dc:language, the
    year of dc:date, and its cover picture."""

    title: str | None = None
    author: str | None = None
    language: str | None = None
    year: str | None = None
    cover: Cover | None = None


@dataclass(frozen=True, slots=True)
class SpineDocument:
    """One document of the reading order: its path in the ZIP, whether it is in the linear
    reading order, and whether it is the navigation document."""

    path: str
    linear: bool
    nav: bool


@dataclass(slots=True)
class Package:
    """An EPUB's reading order, table of contents (`path#fragment`, title; parents first),
    front matter pages (path -> guide or landmark type) and metadata."""

    info: BookInfo
    spine: list[SpineDocument] = field(default_factory=list)
    toc: list[tuple[str, str]] = field(default_factory=list)
    front: dict[str, str] = field(default_factory=dict)


def read_member(archive: zipfile.ZipFile, path: str, limit: int, name: str) -> bytes | None:
    """The bytes of member `path`, None when the archive has no such member; raises InvalidBook
    when it is damaged or holds more than `limit` bytes (the caller's message then)."""
    try:
        with archive.open(path) as member:
            data = member.read(limit + 1)
    except KeyError:
        return None
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        raise InvalidBook(f"{name!r} is a damaged EPUB: {path} cannot be read.") from None
    if len(data) > limit:
        raise _TooBig(path)
    return data


class _TooBig(InvalidBook):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is too big")
        self.path = path


def read_package(archive: zipfile.ZipFile, name: str) -> Package:
    """The package of the EPUB in `archive`. Raises InvalidBook when its container or package
    file is missing or cannot be parsed."""
    damaged = f"{name!r} is a damaged EPUB and cannot be read."
    container = _xml(archive, "META-INF/container.xml", name)
    rootfile = next(
        (
            element.get("full-path")
            for element in container.iter()
            if _local(element) == "rootfile" and element.get("full-path")
        ),
        None,
    )
    if rootfile is None:
        raise InvalidBook(damaged)
    opf_path = posixpath.normpath(unquote(str(rootfile)))
    opf = _xml(archive, opf_path, name)
    base = posixpath.dirname(opf_path)
    manifest: dict[str, tuple[str, str, set[str]]] = {}
    for item in _children(opf, "manifest", "item"):
        href = item.get("href")
        if item.get("id") and href:
            properties = set((item.get("properties") or "").split())
            manifest[item.get("id")] = (
                _resolve(base, href),
                (item.get("media-type") or "").strip().lower(),
                properties,
            )
    package = Package(_info(opf, manifest, archive))
    spine = next((e for e in opf if _local(e) == "spine"), None)
    if spine is None:
        raise InvalidBook(damaged)
    for itemref in spine:
        found = manifest.get(itemref.get("idref") or "")
        if _local(itemref) == "itemref" and found is not None:
            path, media_type, properties = found
            if media_type in ("application/xhtml+xml", "text/html"):
                linear = (itemref.get("linear") or "yes").strip() != "no"
                package.spine.append(SpineDocument(path, linear, "nav" in properties))
    for reference in _children(opf, "guide", "reference"):
        kind = (reference.get("type") or "").strip().lower()
        if kind in FRONT_MATTER and reference.get("href"):
            path = _resolve(base, reference.get("href")).partition("#")[0]
            package.front.setdefault(path, kind)
    nav = next((path for path, _, props in manifest.values() if "nav" in props), None)
    ncx = manifest.get(spine.get("toc") or "") or next(
        (entry for entry in manifest.values() if entry[1] == "application/x-dtbncx+xml"), None
    )
    if nav is not None:
        _read_nav(archive, nav, name, package)
    elif ncx is not None:
        _read_ncx(archive, ncx[0], name, package)
    return package


def _read_nav(archive: zipfile.ZipFile, path: str, name: str, package: Package) -> None:
    """The EPUB 3 navigation document's table of contents and landmarks."""
    root = _xml(archive, path, name, required=False)
    if root is None:
        return
    base = posixpath.dirname(path)
    navs = [element for element in root.iter() if _local(element) == "nav"]
    toc = next((nav for nav in navs if "toc" in _types(nav)), navs[0] if navs else None)
    for nav in navs:
        for link in nav.iter():
            if _local(link) != "a" or not link.get("href"):
                continue
            target = _resolve(base, link.get("href"))
            if nav is toc:
                package.toc.append((target, _text(link)))
            elif "landmarks" in _types(nav):
                kind = next((kind for kind in _types(link) if kind in FRONT_MATTER), None)
                if kind is not None:
                    package.front.setdefault(target.partition("#")[0], kind)


def _read_ncx(archive: zipfile.ZipFile, path: str, name: str, package: Package) -> None:
    """The EPUB 2 NCX's navigation points, parents first."""
    root = _xml(archive, path, name, required=False)
    if root is None:
        return
    base = posixpath.dirname(path)
    for point in root.iter():
        if _local(point) != "navPoint":
            continue
        label = next((e for e in point if _local(e) == "navLabel"), None)
        content = next((e for e in point if _local(e) == "content"), None)
        if content is not None and content.get("src"):
            title = _text(label) if label is not None else ""
            package.toc.append((_resolve(base, content.get("src")), title))


def _info(opf: Any, manifest: dict[str, tuple[str, str, set[str]]], archive: Any) -> BookInfo:
    metadata = next((e for e in opf if _local(e) == "metadata"), None)
    if metadata is None:
        return BookInfo()
    values: dict[str, list[str]] = {}
    cover_id = None
    for element in metadata.iter():
        local = _local(element)
        if local == "meta" and element.get("name") == "cover":
            cover_id = element.get("content")
        elif isinstance(element.tag, str) and element.tag.startswith("{http://purl.org/dc/"):
            text = _text(element)
            if text:
                values.setdefault(local, []).append(text)
    years = [m[0] for d in values.get("date", []) if (m := re.match(r"\d{4}", d))]
    cover_path = next(
        (
            (path, media_type)
            for path, media_type, properties in manifest.values()
            if "cover-image" in properties
        ),
        None,
    )
    if cover_path is None and cover_id:
        # The meta names the cover's manifest id; some tools write its file name instead.
        found = manifest.get(cover_id) or next(
            (entry for entry in manifest.values() if posixpath.basename(entry[0]) == cover_id),
            None,
        )
        cover_path = (found[0], found[1]) if found else None
    return BookInfo(
        title=next(iter(values.get("title", [])), None),
        author=", ".join(dict.fromkeys(values.get("creator", [])))[:_MAX_TEXT] or None,
        language=next(iter(values.get("language", [])), None),
        # Calibre writes 0101 for a date it does not know.
        year=next((year for year in years if year > "0999"), None),
        cover=_cover(archive, *cover_path) if cover_path else None,
    )


def _cover(archive: zipfile.ZipFile, path: str, media_type: str) -> Cover | None:
    if media_type not in COVER_TYPES:
        return None
    try:
        data = read_member(archive, path, MAX_COVER_BYTES, "cover")
    except InvalidBook:
        return None  # a damaged or huge cover leaves the book without one
    return Cover(data, media_type) if data else None


def _xml(archive: zipfile.ZipFile, path: str, name: str, required: bool = True) -> Any:
    try:
        data = read_member(archive, path, MAX_PACKAGE_BYTES, name)
    except _TooBig:
        raise InvalidBook(f"{name!r} is not an EPUB sayfile reads: {path} is too big.") from None
    if data is None:
        if not required:
            return None
        raise InvalidBook(f"{name!r} is a damaged EPUB: it has no {path}.")
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=not required
    )
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError:
        root = None
    if root is None and required:
        raise InvalidBook(f"{name!r} is a damaged EPUB: {path} cannot be read.")
    return root


def _children(root: Any, parent: str, child: str) -> list[Any]:
    return [e for p in root if _local(p) == parent for e in p if _local(e) == child]


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _types(element: Any) -> list[str]:
    return str(element.get(_OPS_TYPE) or element.get("epub:type") or "").lower().split()


def _text(element: Any) -> str:
    return normalize("".join(element.itertext()))[:_MAX_TEXT]


def _resolve(base: str, href: str) -> str:
    """A link's target as a member path (with its fragment, if any)."""
    path, hash_, fragment = str(href).strip().partition("#")
    resolved = posixpath.normpath(posixpath.join(base, unquote(path))) if path else ""
    return f"{resolved}{hash_}{unquote(fragment)}"
