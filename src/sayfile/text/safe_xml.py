"""The hardened XML reader that SSML and pronunciation lexicons share: no DTD, no entities,
nothing fetched, bounded depth, lone surrogates refused, errors located by line and column."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from sayfile.errors import InvalidInput

_SURROGATE = re.compile("[\ud800-\udfff]")

# Where an element starts: line and column, both counted from 1.
Position = tuple[int, int]


class XmlHandler(Protocol):
    """Receives a document's elements in order; names come without their namespace (so
    `xml:lang` is `lang`). A handler raises errors itself, located with `where`."""

    def start(self, tag: str, attrs: dict[str, str], where: Position) -> None: ...

    def end(self, tag: str) -> None: ...

    def data(self, text: str) -> None: ...


def read_xml(
    document: str | bytes,
    handler: XmlHandler,
    *,
    what: str,
    error: Callable[[str, int, int], InvalidInput],
    max_depth: int,
) -> None:
    """Parse `document` with defusedxml, passing its elements and text to `handler`.

    DTDs (so every entity declaration: billion laughs, external entities) are refused before
    anything is expanded or fetched. Raises what `error(message, line, column)` makes, the
    message starting with `what`, if the document is not well-formed, declares a DTD or is
    nested deeper than `max_depth` elements; errors the handler raises pass through.
    """
    if isinstance(document, str) and (lone := _SURROGATE.search(document)):
        # Expat takes UTF-8, which has no lone surrogates: a str holding one (JSON's "\ud800")
        # is refused here, located, rather than failing inside the parser.
        line = document.count("\n", 0, lone.start()) + 1
        column = lone.start() - (document.rfind("\n", 0, lone.start()) + 1) + 1
        raise error(
            f"{what} holds a lone surrogate (U+{ord(lone.group()):04X}) at line {line}, column "
            f"{column}; it is no character. Send the text as valid UTF-8.",
            line,
            column,
        )
    target = _ParserTarget(handler, what, error, max_depth)
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    target.expat = parser.parser
    try:
        parser.feed(document)
        parser.close()
    except ParseError as problem:
        line, column = problem.position
        reason = expat.ErrorString(problem.code)
        raise error(
            f"{what} is not well-formed at line {line}, column {column + 1}: {reason}.",
            line,
            column + 1,
        ) from None
    except DefusedXmlException:
        line, column = target.where()
        raise error(
            f"{what} declares a DTD or entities at line {line}, column {column}; they are "
            "refused so that nothing is expanded or fetched.",
            line,
            column,
        ) from None


class _ParserTarget:
    """The parser's target: strips namespaces, counts depth and locates elements."""

    def __init__(
        self,
        handler: XmlHandler,
        what: str,
        error: Callable[[str, int, int], InvalidInput],
        max_depth: int,
    ) -> None:
        self.handler = handler
        self.what = what
        self.error = error
        self.max_depth = max_depth
        self.depth = 0
        self.expat: expat.XMLParserType | None = None

    def where(self) -> Position:
        if self.expat is None:
            return (1, 1)
        return (self.expat.CurrentLineNumber, self.expat.CurrentColumnNumber + 1)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        where = self.where()
        if self.depth > self.max_depth:
            raise self.error(
                f"{self.what} is nested more than {self.max_depth} elements deep at line "
                f"{where[0]}, column {where[1]}.",
                *where,
            )
        attrs = {_local(name): value for name, value in attrib.items()}
        self.handler.start(_local(tag), attrs, where)

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.handler.end(_local(tag))

    def data(self, text: str) -> None:
        self.handler.data(text)

    def close(self) -> None:
        return None


def _local(name: str) -> str:
    """`name` without its `{namespace}` prefix."""
    return name.rpartition("}")[2]
