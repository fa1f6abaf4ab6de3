"""Japanese text as the phonemes Kokoro's Japanese voices were trained on.

Readings (kanji, numbers with their counters, Latin words) come from Open JTalk's dictionary,
which the PyPI package pyopenjtalk-plus ships inside its wheel; misaki's cutlet table (the one
Kokoro's Japanese training text went through) turns the kana into phonemes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sayfile.engines.japanese_words import ReadWord, japanese_words
from sayfile.engines.kokoro_words import PhonemeWords

# Thousands separators between digits (1,500円): Open JTalk would read the comma as a pause
# and the two halves as separate numbers.
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
# A minus sign before a number (not a hyphen inside a word or a range): Open JTalk drops it.
_MINUS = re.compile(r"(?<![0-9A-Za-z.])[-\u2212\uff0d](?=\d)")
# A range between numbers (3〜5日, 10~20人) is said with から.
_RANGE = re.compile(r"(?<=\d)\s*[~\u301c\uff5e\u2013]\s*(?=\d)")
# Degrees Celsius (℃, and °C as NFKC writes it), which Open JTalk drops.
_CELSIUS = re.compile(r"℃|°C")
# A date written with dashes or slashes (2026-12-04, 2026/12/4), said as 2026年12月4日.
_DATE = re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
# Open JTalk marks the accent nucleus inside a reading with an apostrophe.
_ACCENT_MARKS = str.maketrans("", "", "’'")


@dataclass(frozen=True, slots=True)
class _Feature:
    pron: str
    kana: str


@dataclass(frozen=True, slots=True)
class _Node:
    """One word as misaki's romaniser asks for it (the shape of a fugashi node)."""

    surface: str
    feature: _Feature
    char_type: int = 6  # a word with a reading
    is_unk: bool = False


class OpenJTalkReader:
    """Callable: Japanese text (kana, kanji, digits, Latin words) to Kokoro phonemes.

    Built once per process (about 0.25 s, 74 MiB with the dictionary); calls from several
    threads are safe because Open JTalk's frontend is guarded by a lock here."""

    def __init__(self) -> None:
        import threading

        import pyopenjtalk
        from misaki.cutlet import HEPBURN, Cutlet

        frontend = pyopenjtalk.run_frontend
        lock = threading.Lock()

        def words_of(text: str) -> list[Mapping[str, object]]:
            with lock:
                return list(frontend(text))

        def tagger(text: str) -> list[_Node]:
            return [_node(word, HEPBURN) for word in words_of(text)]

        class _Romaniser(Cutlet):  # type: ignore[misc]
            def __init__(self) -> None:
                # Not Cutlet's own __init__: that one opens fugashi's UniDic dictionary.
                self.tagger = tagger
                self.table = dict(HEPBURN)
                self.exceptions: dict[str, str] = {}

            def _normalize_text(self, text: str) -> str:
                # Cutlet's own spells digits out before tagging, which loses the counters'
                # sound changes (3人 san-nin, 30分 sanjuppun); Open JTalk reads them itself.
                return unicodedata.normalize("NFKC", text)

        self._romaniser: Any = _Romaniser()
        self._words_of = words_of

    def __call__(self, text: str) -> str:
        phonemes, _ = self._romaniser(_spelled(text))
        return str(phonemes)

    def words(self, text: str) -> PhonemeWords:
        """The phonemes a call gives for `text`, each with the word of `text` it says
        (engines/japanese_words.py)."""
        import jaconv
        from misaki.cutlet import HEPBURN, JA_WORDS

        read = []
        for word in self._words_of(_spelled(text)):
            node = _node(word, HEPBURN)
            kana = jaconv.kata2hira(node.feature.pron or node.feature.kana or node.surface)
            read.append(ReadWord(str(word["string"]), node.surface, kana, word["pos"] == "記号"))
        reading = self._romaniser._get_single_mapping
        said = self(text)
        return japanese_words(text, read, said, reading, frozenset(JA_WORDS), _dates(text))


def _spelled(text: str) -> str:
    """`text` with what Open JTalk would drop or misread written as it is said."""
    text = unicodedata.normalize("NFKC", text)
    text = _THOUSANDS.sub("", text)
    text = _DATE.sub(_date, text)
    text = _RANGE.sub("から", text)
    text = _MINUS.sub("マイナス", text)
    return _CELSIUS.sub("度", text)


def _dates(text: str) -> list[tuple[int, int]]:
    """(start, end) of each date in `text` that `_spelled` writes out (2026/4/1): one word,
    as a number is, not the year and the month and the day cut at odd places."""
    normal = []
    at = []  # the character of `text` each one of `normal` comes from
    for index, char in enumerate(text):
        normal.append(unicodedata.normalize("NFKC", char))
        at.extend([index] * len(normal[-1]))
    return [(at[m.start()], at[m.end() - 1] + 1) for m in _DATE.finditer("".join(normal))]


def _date(match: re.Match[str]) -> str:
    year, month, day = (int(part) for part in match.groups())
    return f"{year}年{month}月{day}日"


def _node(word: Mapping[str, object], marks: Mapping[str, str]) -> _Node:
    surface = str(word["string"])
    reading = str(word["pron"]).translate(_ACCENT_MARKS)
    if word["pos"] == "記号":
        # A mark the romaniser knows keeps its own sound (Open JTalk's reading of 。 is the
        # pause 、); any other (the dashes of 03-1234-5678) is the pause Open JTalk made of it.
        return (
            _Node(surface, _Feature(surface, surface))
            if surface in marks
            else _Node(reading, _Feature(reading, reading))
        )
    if surface.isdigit():
        # A digit Open JTalk reads alone (phone numbers): the romaniser takes words, not digits.
        surface = reading
    return _Node(surface, _Feature(reading, reading))
