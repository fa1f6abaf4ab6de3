"""YAML front matter at the top of a Markdown file (Hugo, Jekyll, Pandoc, note apps): where it
ends, and the title, author, language and year it gives. It is metadata, never said or shown."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import yaml

# `---` on the first line, `---` (or Pandoc's `...`) on a line of its own to end it. Looked
# for in the first characters only: metadata is short, and a text that opens with a rule
# and has none below it is not scanned whole.
_BLOCK = re.compile(r"---[ \t]*\r?\n(.*?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MAX_CHARS = 65_536
# The first line of front matter names a field (`title: ...`) or is a YAML comment; a text
# whose first rule is followed by prose ("---\nIntroduction\n---", a setext heading under a
# rule) is Markdown, not front matter.
_FIELD_LINE = re.compile(r"[ \t]*(?:#|[\"']?[\w][\w .-]*[\"']?[ \t]*:(?:[ \t]|$))")
# A language tag as BCP 47 writes one (zh, en-US, zh-Hant-TW).
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}")
_MAX_TEXT = 100


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """A text's front matter: `end`, where the text after it begins, and what it says about
    the text (each None where it does not say, or says it in a way not understood)."""

    end: int
    title: str | None = None
    author: str | None = None
    language: str | None = None
    year: str | None = None


def front_matter(text: str) -> FrontMatter | None:
    """The front matter `text` opens with (after a byte order mark), or None. A block whose
    fields are not YAML a mapping can be read from (a typo in it) is still front matter, left
    unread, its fields unused: its author meant it as metadata."""
    found = _block(text)
    if found is None:
        return None
    body = found.group(1) or ""
    try:
        fields = yaml.safe_load(body)
    except (yaml.YAMLError, ValueError, RecursionError):
        # Not YAML; a date no calendar has; lists nested deeper than Python recurses.
        fields = None
    if not isinstance(fields, dict):
        return FrontMatter(found.end())
    date = fields.get("date")
    year = re.match(r"\d{4}", str(date)) if isinstance(date, str | int | datetime.date) else None
    language = _text(fields.get("lang", fields.get("language")))
    return FrontMatter(
        found.end(),
        title=_text(fields.get("title")),
        author=_text(fields.get("author", fields.get("authors"))),
        language=language if language and _LANGUAGE.fullmatch(language) else None,
        year=year[0] if year else None,
    )


def opens_with_front_matter(text: str) -> bool:
    """Whether `text` opens with front matter (its fields are not read)."""
    return _block(text) is not None


def without_front_matter(text: str) -> str:
    """`text` without the front matter it opens with (its fields are not read)."""
    found = _block(text)
    return text if found is None else text[found.end() :]


def _block(text: str) -> re.Match[str] | None:
    """The front matter block `text` opens with (after a byte order mark): `---` lines around
    lines whose first names a field."""
    start = 1 if text.startswith("\ufeff") else 0
    found = _BLOCK.match(text, start, start + _MAX_CHARS)
    if found is None:
        return None
    first = next((line for line in (found.group(1) or "").splitlines() if line.strip()), None)
    return None if first is not None and not _FIELD_LINE.match(first) else found


def _text(value: Any) -> str | None:
    """A field's value as one line of text (a list's items between commas; a mapping, as
    Pandoc writes an author with `name:`, by its name), or None."""
    if isinstance(value, list):
        names = [_scalar(item) for item in value[:20]]
        return _scalar(", ".join(name for name in names if name))
    return _scalar(value)


def _scalar(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    return " ".join(str(value).split())[:_MAX_TEXT] or None
