"""Range requests on a file of known size (RFC 9110, section 14): the byte spans a `Range`
header asks for, and the multipart/byteranges framing that carries several of them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

# More ranges than this in one header get the whole file instead (a client asking for
# thousands of tiny spans makes the server do a lot for little).
MAX_RANGES = 100
# One range of bytes, its positions ASCII digits only (RFC 9110, 14.1.1: `1*DIGIT`): int()
# alone would also take "+5", " 5", "5_000" and other scripts' digits such as "５".
_SPAN = re.compile(r"(?P<first>[0-9]*)-(?P<last>[0-9]*)")


class RangeNotSatisfiable(Exception):
    """A `Range` of bytes this file cannot answer (416, RFC 9110 15.5.17): one that starts at
    or past the end of a file of `size` bytes, or one that is not a valid byte range at all,
    which RFC 9110 (14.2) lets a server refuse. `message` names the problem."""

    def __init__(self, size: int, message: str) -> None:
        super().__init__(message)
        self.size = size
        self.message = message


def requested_spans(header: str, size: int) -> list[tuple[int, int]]:
    """The spans `[start, end)` a `Range` header asks for in a file of `size` bytes, in order,
    overlapping ones merged. An empty list means: send the whole file (also for a range unit
    other than bytes, which RFC 9110 says to ignore). Raises RangeNotSatisfiable."""
    unit, sep, wanted = header.partition("=")
    if unit.strip().lower() != "bytes":
        return []
    if wanted.count(",") >= MAX_RANGES:
        return []
    spans = [span for item in wanted.split(",") if (span := _span(item.strip(), size))]
    if not sep or not spans:
        raise RangeNotSatisfiable(
            size,
            "The Range header names no range of bytes; write it as bytes=FIRST-LAST, "
            "bytes=FIRST- or bytes=-SUFFIX (from 0).",
        )
    if any(not 0 <= start < size for start, _ in spans):
        raise RangeNotSatisfiable(
            size, f"The Range header asks for bytes past the end of the file ({size} bytes)."
        )
    if any(start >= end for start, end in spans):
        raise RangeNotSatisfiable(size, "A range of the Range header ends before it starts.")
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged if len(spans) > 1 else spans


def _span(item: str, size: int) -> tuple[int, int] | None:
    """One `first-last`, `first-` or `-suffix` item as `[start, end)`; None for an item that
    is not one of these (ignored, as RFC 9110 lets a server do)."""
    found = _SPAN.fullmatch(item)
    if found is None or not (found["first"] or found["last"]):
        return None
    first, last = found["first"], found["last"]
    try:
        if not first:
            return max(size - int(last), 0), size
        start = int(first)
        end = int(last) + 1 if last and int(last) < size else size
    except ValueError:
        return None  # more digits than Python reads as a number (4,300)
    return start, end


@dataclass(frozen=True, slots=True)
class Multipart:
    """The framing of a multipart/byteranges body: each span's own head before its bytes,
    CRLF after them, and the closing delimiter."""

    content_type: str
    size: int
    boundary: str

    @classmethod
    def new(cls, content_type: str, size: int) -> Multipart:
        # A random boundary that cannot turn up inside audio by chance.
        return cls(content_type, size, secrets.token_hex(13))

    @property
    def media_type(self) -> str:
        return f"multipart/byteranges; boundary={self.boundary}"

    def head(self, start: int, end: int) -> bytes:
        return (
            f"--{self.boundary}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{self.size}\r\n\r\n"
        ).encode("latin-1")

    @property
    def tail(self) -> bytes:
        return f"--{self.boundary}--".encode("latin-1")

    def length(self, spans: list[tuple[int, int]]) -> int:
        """The body's bytes in all, for Content-Length."""
        parts = sum(len(self.head(start, end)) + end - start + 2 for start, end in spans)
        return parts + len(self.tail)
