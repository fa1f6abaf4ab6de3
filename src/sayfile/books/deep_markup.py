"""XML nested deeper than libxml2 reads (256 levels), read by expat into an lxml tree whose
elements below a depth are left out and their text kept, so text inside 5,000 nested
<div>s is read rather than dropped. Streaming: no depth costs more than its text."""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

# lxml ships no type information; mypy sees it as Any.
import lxml.etree  # type: ignore[import-untyped]

# Elements deeper than this are not made; their words join the element they are in.
MAX_KEPT_DEPTH = 200


class _Refused(Exception):
    """The document declares a DTD with content: nothing in it is read or expanded."""


def parse_flattened(content: bytes, max_depth: int = MAX_KEPT_DEPTH) -> Any | None:
    """The root element of the XML document `content` with the elements below `max_depth`
    left out (their text, with a space for each boundary, goes where they were); None when
    it is not well-formed XML or has a DTD with declarations (never expanded nor fetched)."""
    builder = lxml.etree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0

    def name(raw: str) -> str:
        # expat writes "uri}local"; lxml wants "{uri}local".
        return "{" + raw if "}" in raw else raw

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > max_depth:
            builder.data(" ")
            return
        builder.start(name(tag), {name(key): value for key, value in attrs.items()})

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        if depth >= max_depth:
            builder.data(" ")
            return
        builder.end(name(tag))

    def doctype(_name: str, _system: str | None, _public: str | None, internal: int) -> None:
        if internal:
            raise _Refused()

    def entity(*_args: object) -> None:
        raise _Refused()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.buffer_text = True
    try:
        parser.Parse(content, True)
        return builder.close()
    except (expat.ExpatError, _Refused, lxml.etree.LxmlError, ValueError, AssertionError):
        return None
