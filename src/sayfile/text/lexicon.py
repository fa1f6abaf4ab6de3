"""Pronunciation lexicons: W3C PLS 1.0 and TSV files from a folder and a request's own entries,
and finding their terms in text (whole words in spaced scripts, anywhere in Chinese, Japanese,
Thai...) in one pass, to speak them as an alias, IPA or pinyin.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sayfile.errors import InvalidInput, InvalidLexicon
from sayfile.text.pronunciations import pronunciation_problem
from sayfile.text.sentences import normalize
from sayfile.text.ssml import Position, Span, read_markup

# Bounds on the entries one request may bring along.
MAX_REQUEST_ENTRIES = 1000
MAX_TERM_CHARS = 100
MAX_REPLACEMENT_CHARS = 500
# A replacement written with one of these prefixes is a pronunciation, not words.
PRONUNCIATION_PREFIXES: dict[str, str] = {"ipa:": "phonemes", "pinyin:": "pinyin"}
# PLS alphabets sayfile can pass on to voices, and the Entry field each fills.
PLS_ALPHABETS: dict[str, str] = {"ipa": "phonemes", "x-pinyin": "pinyin"}
REQUEST_SOURCE = "request"
# The longest value of each key of a request's entry (a language tag is at most 35 characters).
_REQUEST_BOUNDS = {"language": 35, "term": MAX_TERM_CHARS, "replacement": MAX_REPLACEMENT_CHARS}
# The deepest a PLS document may nest (lexicon > lexeme > grapheme is 3).
PLS_MAX_DEPTH = 8

_LANGUAGE = re.compile(r"\*|[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")
# Scripts written without spaces between words: their terms match anywhere, not as words.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)
# Primary language subtags that name the same language.
_SAME_LANGUAGE = {"cmn": "zh"}


@dataclass(frozen=True, slots=True)
class Entry:
    """How to say one term: as other words (`alias`), as IPA (`phonemes`) or as pinyin with tone
    numbers (`pinyin`). `language` is a BCP-47 tag or "*" for every language; `source` is the
    file it came from, or "request"."""

    language: str
    term: str
    alias: str | None
    phonemes: str | None
    pinyin: str | None
    source: str


class Lexicon:
    """Entries in order of precedence: where two say how to read the same term in the same
    language, the later one wins (files are read in name order; `merged` puts the other
    lexicon's entries last). Matchers are built on first use for each language."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries = tuple(entries)
        self._matchers: dict[str, _Matcher] = {}

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> Lexicon:
        """A lexicon of `entries`, later ones winning over earlier ones."""
        return cls(entries)

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """Read every `*.pls` and `*.tsv` file of `folder`, in name order.

        A TSV line is `language<TAB>term<TAB>replacement`; blank lines and lines starting with
        `#` are skipped; a replacement `ipa:...` or `pinyin:...` is a pronunciation.
        Raises InvalidLexicon naming the file (and line) if the folder or a file cannot be read
        or a file is malformed.
        """
        if not folder.is_dir():
            raise InvalidLexicon(f"The lexicon folder {folder} does not exist or is not a folder.")
        entries: list[Entry] = []
        for path in sorted(folder.iterdir()):
            reader = _READERS.get(path.suffix.lower())
            if reader is None or path.name.startswith(".") or not path.is_file():
                continue
            try:
                content = path.read_bytes()
            except OSError as problem:
                raise InvalidLexicon(
                    f"Lexicon {path.name} cannot be read: {problem.strerror}.", source=path.name
                ) from None
            entries.extend(reader(content, path.name))
        return cls(entries)

    @classmethod
    def from_request(cls, items: Sequence[Mapping[str, object]]) -> Lexicon:
        """The entries a request brings along: `{"language", "term", "replacement"}` each
        (language defaults to "*"; a replacement `ipa:...` or `pinyin:...` is a pronunciation).

        Raises InvalidLexicon, naming the entry's index, for more than MAX_REQUEST_ENTRIES
        entries, unknown keys, missing or non-string values, a bad language tag, or a term or
        replacement that is empty or longer than its bound.
        """
        if len(items) > MAX_REQUEST_ENTRIES:
            raise InvalidLexicon(
                f"A request may bring at most {MAX_REQUEST_ENTRIES} lexicon entries, "
                f"not {len(items)}."
            )
        entries = []
        for index, item in enumerate(items):
            try:
                entries.append(_request_entry(item))
            except ValueError as problem:
                raise InvalidLexicon(f"Lexicon entry {index}: {problem}") from None
        return cls(entries)

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
        text = normalize(text)
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
                words.append(_spaced(entry.alias or "", text, start, end))
                continue
            _add_words(spans, words)
            spans.append(Span(text[start:end], phonemes=entry.phonemes, pinyin=entry.pinyin))
        words.append(text[done:])
        _add_words(spans, words)
        return spans

    def apply_spans(self, spans: Iterable[Span], default_language: str) -> list[Span]:
        """`apply` to each span that has no pronunciation yet (as from `parse_ssml`), in the
        span's own language or else `default_language`. The pieces keep the span's voice,
        language and rate; the first keeps its pause, the last its sentence end."""
        if not self._entries:
            return list(spans)
        result: list[Span] = []
        for span in spans:
            pieces = []
            if span.text and span.phonemes is None and span.pinyin is None:
                pieces = self.apply(span.text, span.language or default_language)
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
                    )
                )
        return result

    def _matcher(self, language: str) -> _Matcher | None:
        primary = _primary(language)
        if primary not in self._matchers:
            chosen: dict[str, Entry] = {}
            for entry in self._entries:
                if entry.language == "*" or _primary(entry.language) == primary:
                    chosen[_fold(entry.term)] = entry
            self._matchers[primary] = _Matcher(chosen)
        matcher = self._matchers[primary]
        return matcher if matcher else None


def _add_words(spans: list[Span], words: list[str]) -> None:
    """Append the gathered plain words (if any) to `spans` as one span, and clear them."""
    text = normalize("".join(words))
    words.clear()
    if text:
        spans.append(Span(text))


def _spaced(alias: str, text: str, start: int, end: int) -> str:
    """`alias` with a space on each side where it would otherwise run into the text around it
    (a Latin alias of a Chinese term, next to other letters or characters)."""

    def runs_into(outside: int, edge: str) -> bool:
        if not 0 <= outside < len(text) or not _wordy(edge):
            return False
        return _wordy(text[outside]) or _UNSPACED.match(text[outside]) is not None

    before = " " if alias and runs_into(start - 1, alias[0]) else ""
    after = " " if alias and runs_into(end, alias[-1]) else ""
    return f"{before}{alias}{after}"


def _primary(language: str) -> str:
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    return _SAME_LANGUAGE.get(primary, primary)


def _fold(text: str) -> str:
    """`text` in lower case, character for character (so positions stay the same)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # Only İ lower-cases to two characters; keep it as it is.
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # lower() writes a final sigma at the end of a word, which a term may not have.
    return lowered.replace("ς", "σ")


def _wordy(char: str) -> bool:
    """True for a character that continues a word of a spaced script."""
    is_word = char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")
    return is_word and not _UNSPACED.match(char)


class _Matcher:
    """The terms of one language in an Aho-Corasick automaton of the terms written backwards.

    Run from the end of the text to its start, the automaton lists at each position the terms
    that start there, longest first, so the longest one at word boundaries is found without
    looking at the others; the leftmost-longest ones are then kept in one more pass. Both passes
    take time linear in the text, however many terms there are and however they overlap.
    """

    def __init__(self, entries: dict[str, Entry]) -> None:
        self._entries = entries
        self._goto: list[dict[str, int]] = [{}]
        # For states that end a term: its length, and whether it needs a word boundary after it
        # (its last character is one of a spaced script's words); 0 and False elsewhere.
        self._length = [0]
        self._bounded_after = [False]
        # States ending a term that needs a word boundary before it / that does not.
        ends_word: set[int] = set()
        ends_free: set[int] = set()
        for term in entries:
            state = self._insert(term[::-1])
            self._length[state] = len(term)
            self._bounded_after[state] = _wordy(term[-1])
            (ends_word if _wordy(term[0]) else ends_free).add(state)
        self._fail = [0] * len(self._goto)
        # The first state at or after each state on its failure chain that ends a term of each
        # kind (0 for none): the terms starting at a position, longest first.
        self._word = [0] * len(self._goto)
        self._free = [0] * len(self._goto)
        self._link(ends_word, ends_free)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def _insert(self, chars: str) -> int:
        state = 0
        for char in chars:
            following = self._goto[state].get(char)
            if following is None:
                following = len(self._goto)
                self._goto[state][char] = following
                self._goto.append({})
                self._length.append(0)
                self._bounded_after.append(False)
            state = following
        return state

    def _link(self, ends_word: set[int], ends_free: set[int]) -> None:
        goto, fail, word, free = self._goto, self._fail, self._word, self._free
        # Breadth first, so that a state's failure state (shallower) is linked before it.
        queue = deque(goto[0].values())
        while queue:
            state = queue.popleft()
            word[state] = state if state in ends_word else word[fail[state]]
            free[state] = state if state in ends_free else free[fail[state]]
            for char, child in goto[state].items():
                queue.append(child)
                back = fail[state]
                while back and char not in goto[back]:
                    back = fail[back]
                fallback = goto[back].get(char, 0)
                fail[child] = fallback if fallback != child else 0

    def find(self, text: str) -> Iterator[tuple[int, int, Entry]]:
        """Yield (start, end, entry) for the leftmost-longest occurrences of terms in `text`
        at word boundaries, without overlaps, in order."""
        folded = _fold(text)
        goto, fail, word, free = self._goto, self._fail, self._word, self._free
        starts: list[tuple[int, int]] = []
        state = 0
        for index in range(len(folded) - 1, -1, -1):
            char = folded[index]
            while state and char not in goto[state]:
                state = fail[state]
            state = goto[state].get(char, 0)
            if word[state] or free[state]:
                length = self._longest(text, index, state)
                if length:
                    starts.append((index, index + length))
        done = 0
        for start, end in reversed(starts):
            if start >= done:
                done = end
                yield start, end, self._entries[folded[start:end]]

    def _longest(self, text: str, start: int, state: int) -> int:
        """The length of the longest term starting at `start` that ends at a word boundary
        if it needs one (0 if none does); `state` lists the terms starting there."""
        length = self._first_bounded(text, start, self._free[state], self._free)
        hit = self._word[state]
        if hit and self._length[hit] > length and (start == 0 or not _wordy(text[start - 1])):
            length = max(length, self._first_bounded(text, start, hit, self._word))
        return length

    def _first_bounded(self, text: str, start: int, hit: int, chain: list[int]) -> int:
        """The length of the first term along `chain` from `hit` that ends at a word boundary
        if it needs one (0 if none does)."""
        while hit:
            end = start + self._length[hit]
            if not self._bounded_after[hit] or end == len(text) or not _wordy(text[end]):
                return self._length[hit]
            hit = chain[self._fail[hit]]
        return 0


def _entry(language: str, term: str, replacement: str, source: str) -> Entry:
    """An entry from its written parts. Raises ValueError saying what is wrong."""
    language = language.strip()
    if not _LANGUAGE.fullmatch(language):
        raise ValueError(f"language {language!r} is not a language tag such as en-US, or *.")
    term = normalize(term)
    if not term:
        raise ValueError("the term is empty.")
    replacement = normalize(replacement)
    kind = next((p for p in PRONUNCIATION_PREFIXES if replacement.lower().startswith(p)), None)
    if kind is not None:
        replacement = replacement[len(kind) :].strip()
    if not replacement:
        raise ValueError(f"the replacement of {term!r} is empty.")
    if kind is None:
        return Entry(language, term, replacement, None, None, source)
    alphabet = "ipa" if kind == "ipa:" else "x-pinyin"
    if problem := pronunciation_problem(alphabet, replacement):
        raise ValueError(f"the replacement of {term!r}: {problem}")
    pronunciation = {PRONUNCIATION_PREFIXES[kind]: replacement}
    return Entry(
        language,
        term,
        None,
        pronunciation.get("phonemes"),
        pronunciation.get("pinyin"),
        source,
    )


def _request_entry(item: Mapping[str, object]) -> Entry:
    """An entry from one item of a request. Raises ValueError saying what is wrong."""
    if not isinstance(item, Mapping):
        raise ValueError("it must be an object with a term and a replacement.")
    unknown = sorted(set(item) - set(_REQUEST_BOUNDS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; use language, term and replacement.")
    values: dict[str, str] = {}
    for key, bound in _REQUEST_BOUNDS.items():
        value = item.get(key, "*" if key == "language" else None)
        if value is None:
            raise ValueError(f"{key} is missing.")
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string.")
        if len(value) > bound:
            raise ValueError(f"{key} is {len(value)} characters long; the limit is {bound}.")
        values[key] = value
    return _entry(values["language"], values["term"], values["replacement"], REQUEST_SOURCE)


def _read_tsv(content: bytes, name: str) -> list[Entry]:
    """The entries of a TSV lexicon file. Raises InvalidLexicon naming the file and line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise InvalidLexicon(
            f"Lexicon {name} is not UTF-8 text (byte {problem.start}).", source=name
        ) from None
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\r").split("\t")
        try:
            if len(fields) != 3:
                raise ValueError(
                    "expected a language, a term and a replacement separated by tabs; found "
                    f"{len(fields)} field{'s' if len(fields) > 1 else ''}."
                )
            language, term, replacement = fields
            entries.append(_entry(language, term, replacement, name))
        except ValueError as problem:
            raise InvalidLexicon(
                f"Lexicon {name}, line {number}: {problem}", source=name, line=number
            ) from None
    return entries


def _read_pls(content: bytes, name: str) -> list[Entry]:
    """The entries of a W3C PLS 1.0 file. Raises InvalidLexicon naming the file and line."""
    reader = _PlsReader(name)

    def error(message: str, line: int, column: int) -> InvalidInput:
        return InvalidLexicon(message, source=name, line=line)

    read_markup(content, reader, what=f"Lexicon {name}", error=error, max_depth=PLS_MAX_DEPTH)
    return reader.entries


@dataclass(slots=True)
class _Lexeme:
    where: Position
    graphemes: list[str]
    aliases: list[str]
    phonemes: list[tuple[str | None, str]]


class _PlsReader:
    """Collects the lexemes of a PLS document as entries; text outside them is ignored."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: list[Entry] = []
        self._root_seen = False
        self._language = ""
        self._alphabet: str | None = None
        self._lexeme: _Lexeme | None = None
        self._text: list[str] | None = None
        self._text_alphabet: str | None = None

    def start(self, tag: str, attrs: dict[str, str], where: Position) -> None:
        if not self._root_seen:
            self._root_seen = True
            self._open_lexicon(tag, attrs, where)
        elif tag == "lexeme":
            self._lexeme = _Lexeme(where, [], [], [])
        elif tag in ("grapheme", "alias", "phoneme") and self._lexeme is not None:
            self._text = []
            self._text_alphabet = attrs.get("alphabet")

    def end(self, tag: str) -> None:
        lexeme = self._lexeme
        if lexeme is None:
            return
        if tag == "lexeme":
            self._lexeme = None
            self._add(lexeme)
        elif self._text is not None:
            value = normalize("".join(self._text))
            self._text = None
            if tag == "grapheme":
                lexeme.graphemes.append(value)
            elif tag == "alias":
                lexeme.aliases.append(value)
            elif tag == "phoneme":
                lexeme.phonemes.append((self._text_alphabet, value))

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)

    def _fail(self, where: Position, problem: str) -> InvalidLexicon:
        line, column = where
        return InvalidLexicon(
            f"Lexicon {self.name}, line {line}, column {column}: {problem}",
            source=self.name,
            line=line,
        )

    def _open_lexicon(self, tag: str, attrs: dict[str, str], where: Position) -> None:
        if tag != "lexicon":
            raise self._fail(where, f"a PLS document is a <lexicon> element, not <{tag}>.")
        self._language = attrs.get("lang", "").strip()
        if not _LANGUAGE.fullmatch(self._language) or self._language == "*":
            raise self._fail(where, "<lexicon> needs an xml:lang such as en-US.")
        self._alphabet = attrs.get("alphabet")

    def _add(self, lexeme: _Lexeme) -> None:
        if not lexeme.graphemes or not all(lexeme.graphemes):
            raise self._fail(lexeme.where, "a <lexeme> needs one or more non-empty <grapheme>s.")
        alias = next((alias for alias in lexeme.aliases if alias), None)
        pronunciation: dict[str, str | None] = {"phonemes": None, "pinyin": None}
        if lexeme.phonemes:
            # The first <phoneme> is the preferred one (PLS 1.0, 4.6).
            alphabet, value = lexeme.phonemes[0]
            alphabet = (alphabet or self._alphabet or "").strip().lower()
            kind = PLS_ALPHABETS.get(alphabet)
            if kind is None and alias is None:
                raise self._fail(
                    lexeme.where,
                    f"alphabet {alphabet!r} is not supported; use "
                    f"{' or '.join(PLS_ALPHABETS)}, or give an <alias>.",
                )
            if kind is not None and value:
                pronunciation[kind] = value
        if alias is None and not any(pronunciation.values()):
            raise self._fail(lexeme.where, "a <lexeme> needs an <alias> or a <phoneme>.")
        phonemes, pinyin = pronunciation["phonemes"], pronunciation["pinyin"]
        for grapheme in lexeme.graphemes:
            self.entries.append(Entry(self._language, grapheme, alias, phonemes, pinyin, self.name))


_READERS: dict[str, Callable[[bytes, str], list[Entry]]] = {".pls": _read_pls, ".tsv": _read_tsv}
