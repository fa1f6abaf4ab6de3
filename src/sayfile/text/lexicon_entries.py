"""Lexicon entries as people write them, each checked: the W3C PLS 1.0 and TSV files of a
folder, and the entries a request brings along (`{"language", "term", "replacement"}`, or
written as text in a form field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sayfile.errors import InvalidInput, InvalidLexicon
from sayfile.text.pronunciations import pronunciation_problem
from sayfile.text.safe_xml import Position, read_xml
from sayfile.text.sentences import normalize

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
# The forms a request's lexicon takes, for the message that refuses another.
REQUEST_FORMS = (
    'a list of {"language", "term", "replacement"} objects, or as text (a form field) that '
    "list in JSON or lines of language<TAB>term<TAB>replacement, as a .tsv lexicon has them"
)


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


def read_folder(folder: Path) -> list[Entry]:
    """The entries of every `*.pls` and `*.tsv` file of `folder`, in name order.

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
    return entries


def request_entries(items: Sequence[Mapping[str, object]]) -> list[Entry]:
    """The entries a request brings along: `{"language", "term", "replacement"}` each
    (language defaults to "*"; a replacement `ipa:...` or `pinyin:...` is a pronunciation).

    Raises InvalidLexicon, naming the entry's index, for more than MAX_REQUEST_ENTRIES
    entries, unknown keys, missing or non-string values, a bad language tag, or a term or
    replacement that is empty or longer than its bound.
    """
    if len(items) > MAX_REQUEST_ENTRIES:
        raise InvalidLexicon(
            f"A request may bring at most {MAX_REQUEST_ENTRIES} lexicon entries, not {len(items)}."
        )
    entries = []
    for index, item in enumerate(items):
        try:
            entries.append(_request_entry(item))
        except ValueError as problem:
            raise InvalidLexicon(f"Lexicon entry {index}: {problem}") from None
    return entries


def written_entries(text: str) -> list[object]:
    """A request's entries written as text, as a form field brings them: a JSON list (the
    `lexicon` a JSON body takes; its items are checked as a JSON body's are), or lines as a
    TSV lexicon file has them (blank lines and `#` comments skipped), each checked here so
    that its line is named. Raises ValueError saying what is wrong and what is taken."""
    if text.lstrip().startswith(("[", "{")):
        try:
            items = json.loads(text)
        except (ValueError, RecursionError) as problem:
            where = f" ({problem})" if isinstance(problem, json.JSONDecodeError) else ""
            raise ValueError(f"not valid JSON{where}; it takes {REQUEST_FORMS}.") from None
        if not isinstance(items, list):
            raise ValueError(f"the JSON is not a list; it takes {REQUEST_FORMS}.")
        return items
    entries: list[object] = []
    for number, line in _tsv_lines(text):
        try:
            language, term, replacement = _tsv_fields(line)
            item = {"language": language, "term": term, "replacement": replacement}
            _request_entry(item)
        except ValueError as problem:
            raise ValueError(f"line {number}: {problem}") from None
        entries.append(item)
    return entries


def _tsv_lines(text: str) -> Iterator[tuple[int, str]]:
    """The lines of TSV lexicon text that hold entries, numbered from 1 as written."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line.rstrip("\r")


def _tsv_fields(line: str) -> tuple[str, str, str]:
    """A TSV line's language, term and replacement. Raises ValueError saying what is wrong."""
    fields = line.split("\t")
    if len(fields) != 3:
        raise ValueError(
            "expected a language, a term and a replacement separated by tabs; found "
            f"{len(fields)} field{'s' if len(fields) > 1 else ''}."
        )
    return fields[0], fields[1], fields[2]


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
    for number, line in _tsv_lines(text):
        try:
            entries.append(_entry(*_tsv_fields(line), name))
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

    read_xml(content, reader, what=f"Lexicon {name}", error=error, max_depth=PLS_MAX_DEPTH)
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
