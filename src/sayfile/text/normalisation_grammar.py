"""wetext's text-normalisation grammars (WeTextProcessing's), loaded once per process, the
guard that keeps text as written where a grammar fails on it, and the English way of sending
the grammar only the words it changes; shared by the languages that have a grammar (Mandarin,
English)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from typing import Any

# A language's normaliser: text in, text as it is said out.
Normaliser = Callable[[str], str]
# How wetext escapes a character in what it hands back: a backslash before a " or a backslash.
_ESCAPED = re.compile(r'\\(["\\])')
# A word wetext's grammar hands back as written: letters with at most a first capital, an
# apostrophe's ending (don't, I'm), quotes and brackets around, a clause mark after. It does
# not get runs of them (its tagger costs 0.04-0.07 ms a character), only the rest with
# _CONTEXT such words each side. On its own it also misreads some of them (Sun as Sunday, Sat
# as Saturday), which it then no longer sees.
_PLAIN_WORD = re.compile(
    r"[\"'“‘(\[]*[A-Za-z][a-z]*(?:['’][a-z]+)?[\"'”’)\]]*[,;:!?]?[\"'”’)\]]*(?P<end>\.?)"
)
_CONTEXT = 2
_TOKEN = re.compile(r"\S+")


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


def through_grammar_where_needed(wetext: Any, text: str) -> str:
    """`text` with every word that is not plain (`_PLAIN_WORD`; the last may end with its full
    stop), and _CONTEXT words each side of it, through the grammar; the other runs of plain
    words kept as written."""
    tokens = [(t.start(), t.end()) for t in _TOKEN.finditer(text)]
    needed = [
        not (
            (plain := _PLAIN_WORD.fullmatch(text, start, end))
            and (not plain["end"] or end == tokens[-1][1])
        )
        for start, end in tokens
    ]
    if not any(needed):
        return text
    given = [any(needed[max(0, i - _CONTEXT) : i + _CONTEXT + 1]) for i in range(len(tokens))]
    said, done = [], 0
    for is_given, run in itertools.groupby(zip(given, tokens, strict=True), key=lambda t: t[0]):
        if is_given:
            spans = [span for _, span in run]
            start, end = spans[0][0], spans[-1][1]
            said += [text[done:start], through_grammar(wetext, text[start:end])]
            done = end
    said.append(text[done:])
    return "".join(said)
