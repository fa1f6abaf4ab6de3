"""Text clean-up and sentence splitting (Latin and CJK punctuation) ahead of synthesis."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# Zero-width joiners shape scripts such as Devanagari and emoji sequences; keep them.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_SPACE = re.compile(r"\s+")
# A Latin sentence ends in . ! ? ; or … (plus closing quotes or brackets) before a space or the
# end; a CJK one ends in 。！？；… or their full-width forms, spaces or not.
_BOUNDARY = re.compile(
    r"[.!?;…]+[\"'”’)\]]*(?=\s|$)"
    r"|[。！？；…！？]+[”’」』）]*"
)
# Where a run without sentence punctuation may be cut, best first.
_SOFT_BREAKS = (re.compile(r"[,，、:：]\s*"), re.compile(r"\s+"))


def normalize(text: str) -> str:
    """Return `text` in NFC with control characters turned into spaces, invisible format
    characters removed, and every run of white space folded to one space."""
    text = unicodedata.normalize("NFC", text)
    cleaned = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Zl", "Zp"):
            cleaned.append(" ")
        elif category == "Cf" and char not in _KEEP_FORMAT:
            continue
        else:
            cleaned.append(char)
    return _SPACE.sub(" ", "".join(cleaned)).strip()


def sentences(text: str, max_chars: int = 400) -> Iterator[str]:
    """Yield the sentences of normalised `text` in order, none longer than `max_chars`.

    Every non-space character of `text` appears in exactly one piece, so nothing is dropped.
    """
    start = 0
    for match in _BOUNDARY.finditer(text):
        yield from _bounded(text[start : match.end()].strip(), max_chars)
        start = match.end()
    yield from _bounded(text[start:].strip(), max_chars)


def _bounded(piece: str, max_chars: int) -> Iterator[str]:
    while len(piece) > max_chars:
        cut = _cut_point(piece, max_chars)
        head, piece = piece[:cut].strip(), piece[cut:].strip()
        if head:
            yield head
    if piece:
        yield piece


def _cut_point(piece: str, max_chars: int) -> int:
    window = piece[: max_chars + 1]
    for pattern in _SOFT_BREAKS:
        ends = [m.end() for m in pattern.finditer(window) if m.end() > max_chars // 4]
        if ends:
            return min(ends[-1], max_chars)
    return max_chars
