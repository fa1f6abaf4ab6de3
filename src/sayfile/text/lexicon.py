"""Pronunciation lexicons: entries in order of precedence, and applying them to text (each
term found said as an alias, IPA or pinyin). Entries are read by `lexicon_entries`; terms are
found by `lexicon_matcher`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from sayfile.text import language_tags
from sayfile.text.lexicon_entries import Entry, read_folder, request_entries
from sayfile.text.lexicon_matcher import UNSPACED, TermMatcher, continues_word, fold
from sayfile.text.sentences import normalize
from sayfile.text.spans import Span

Alias = tuple[int, int, str]
"""A term replaced by its alias: (start, end) of the term in the written words, the alias."""


class Pronounced(NamedTuple):
    """Spans with a lexicon applied, and where it put aliases in (`Lexicon.apply_spans`)."""

    spans: list[Span]
    aliases: list[Alias]


class Lexicon:
    """Entries in order of precedence: where two say how to read the same term in the same
    language, the later one wins (files are read in name order; `merged` puts the other
    lexicon's entries last). Matchers are built on first use for each language."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries = tuple(entries)
        self._matchers: dict[str, TermMatcher[Entry]] = {}

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """The lexicon of every `*.pls` and `*.tsv` file of `folder`, in name order (see
        `lexicon_entries.read_folder`). Raises InvalidLexicon naming the file (and line)."""
        return cls(read_folder(folder))

    @classmethod
    def from_request(cls, items: Sequence[Mapping[str, object]]) -> Lexicon:
        """The lexicon of the entries a request brings along (see
        `lexicon_entries.request_entries`). Raises InvalidLexicon naming the entry's index."""
        return cls(request_entries(items))

    def merged(self, other: Lexicon) -> Lexicon:
        """This lexicon with `other`'s entries added, `other`'s winning where both say how to
        read a term (per-request entries over the files')."""
        if not other._entries:
            return self
        return Lexicon((*self._entries, *other._entries))

    def describe(self) -> list[dict[str, object]]:
        """One row per source and language, `{"source", "language", "entries"}`, for listings
        such as `GET /lexicons`."""
        counts = Counter((entry.source, entry.language) for entry in self._entries)
        return [
            {"source": source, "language": language, "entries": count}
            for (source, language), count in sorted(counts.items())
        ]

    def apply(self, text: str, language: str) -> list[Span]:
        """Split normalised `text` into spans where this lexicon's terms for `language` occur.

        Entries match by primary language subtag ("en" entries serve "en-US" and the other way
        round; "*" entries serve all), the longest term first, then the leftmost. Terms match
        regardless of case; in spaced scripts only as whole words. An alias becomes words of the
        plain span around it; an IPA or pinyin entry becomes its own span (text = the term as
        written). The spans carry no voice, language or pause. Returns [] for blank text.
        Runs in one pass over the text.
        """
        return self._apply(normalize(text), language, [], 0)

    def _apply(self, text: str, language: str, aliases: list[Alias], offset: int) -> list[Span]:
        """`apply` to normalised `text`, adding each alias put in, at `offset` + its place in
        `text`, to `aliases`."""
        if not text:
            return []
        matcher = self._matcher(language)
        if matcher is None:
            return [Span(text)]
        spans: list[Span] = []
        words: list[str] = []
        done = 0
        for start, end, entry in matcher.find(text):
            words.append(text[done:start])
            done = end
            if entry.phonemes is None and entry.pinyin is None:
                alias = _spaced(entry.alias or "", text, start, end)
                aliases.append((offset + start, offset + end, alias))
                words.append(alias)
                continue
            _add_words(spans, words)
            joined = start > 0 and not text[start - 1].isspace()
            spans.append(
                Span(text[start:end], phonemes=entry.phonemes, pinyin=entry.pinyin, joined=joined)
            )
        words.append(text[done:])
        _add_words(spans, words)
        return spans

    def apply_spans(self, spans: Iterable[Span], default_language: str) -> Pronounced:
        """`apply` to each span that has no pronunciation yet (as from `parse_ssml`), in the
        span's own language or else `default_language`, in one pass. The pieces keep the
        span's voice, language and rate; the first keeps its pause, the last its sentence end.
        With them, where an alias went in place of a term: (start, end) of the term in the
        spans' words joined by single spaces, and the alias as it goes in, in order (word
        timings place what is said back in what was written with these:
        speech/word_times.py)."""
        if not self._entries:
            return Pronounced(list(spans), [])
        result: list[Span] = []
        aliases: list[Alias] = []
        offset = 0
        for span in spans:
            pieces = []
            if span.text and span.phonemes is None and span.pinyin is None:
                text = normalize(span.text)
                pieces = self._apply(text, span.language or default_language, aliases, offset)
            if span.text:
                offset += len(span.text) + 1
            if not pieces:
                result.append(span)
                continue
            last = len(pieces) - 1
            for index, piece in enumerate(pieces):
                result.append(
                    replace(
                        piece,
                        pause_before_s=span.pause_before_s if index == 0 else 0.0,
                        mark=span.mark if index == 0 else None,
                        voice=span.voice,
                        language=span.language,
                        rate=span.rate,
                        sentence_end=span.sentence_end and index == last,
                        joined=span.joined if index == 0 else piece.joined,
                    )
                )
        return Pronounced(result, aliases)

    def _matcher(self, language: str) -> TermMatcher[Entry] | None:
        primary = _primary(language)
        if primary not in self._matchers:
            chosen: dict[str, Entry] = {}
            for entry in self._entries:
                if entry.language == "*" or _primary(entry.language) == primary:
                    chosen[fold(entry.term)] = entry
            self._matchers[primary] = TermMatcher(chosen)
        matcher = self._matchers[primary]
        return matcher if matcher else None


def _add_words(spans: list[Span], words: list[str]) -> None:
    """Append the gathered plain words (if any) to `spans` as one span, and clear them."""
    written = "".join(words)
    text = normalize(written)
    words.clear()
    if text:
        # Right after a term with no space between (`Nguyen's`): the words go on from it.
        spans.append(Span(text, joined=bool(spans) and not written[:1].isspace()))


def _spaced(alias: str, text: str, start: int, end: int) -> str:
    """`alias` with a space on each side where it would otherwise run into the text around it
    (a Latin alias of a Chinese term, next to other letters or characters)."""

    def runs_into(outside: int, edge: str) -> bool:
        if not 0 <= outside < len(text) or not continues_word(edge):
            return False
        return continues_word(text[outside]) or UNSPACED.match(text[outside]) is not None

    before = " " if alias and runs_into(start - 1, alias[0]) else ""
    after = " " if alias and runs_into(end, alias[-1]) else ""
    return f"{before}{alias}{after}"


def _primary(language: str) -> str:
    """The primary tag an entry and a text are matched by: zh for all of Mandarin."""
    return "zh" if language_tags.is_mandarin(language) else language_tags.primary(language)
