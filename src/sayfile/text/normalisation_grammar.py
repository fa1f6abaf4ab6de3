"""wetext's text-normalisation grammars (WeTextProcessing's), loaded once per process, and the
guard that keeps text as written where a grammar fails on it; shared by the languages that
have a grammar (Mandarin, English)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

# A language's normaliser: text in, text as it is said out.
Normaliser = Callable[[str], str]
# How wetext escapes a character in what it hands back: a backslash before a " or a backslash.
_ESCAPED = re.compile(r'\\(["\\])')


def through_grammar(wetext: Any, text: str) -> str:
    """`text` through wetext's grammars, or as it is where they fail on it (wetext's English
    asserts on some mixes of scripts and symbols)."""
    try:
        said = str(wetext.normalize(text))
    except Exception:
        return text
    # Its grammars hand a double quote back escaped as \" and a backslash as \\ (English always,
    # Chinese around numbers), which every voice then says: "he said backslash hello".
    if said.count("\\") > text.count("\\"):
        said = _ESCAPED.sub(r"\1", said)
    # Its English grammar can also drop a whole sentence ("Fixes from bugs.example.org." comes
    # back empty): words said are never fewer than half of those written.
    if _alnum(said) < _alnum(text) / 2:
        return text
    return said


def _alnum(text: str) -> int:
    return sum(char.isalnum() for char in text)


@functools.cache
def wetext_grammar(language: str) -> Any:
    """wetext's text normaliser for `language`: its grammars are loaded once per process
    (about 0.7 s for Chinese), however many synthesizers the process builds."""
    from wetext import Normalizer

    return Normalizer(lang=language, operator="tn")
