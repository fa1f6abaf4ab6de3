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

# Thousands separators between digits (1,500円): Open JTalk would read the comma as a pause
# and the two halves as separate numbers.
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
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

    Built once per process (loading the dictionary takes about a second); calls from several
    threads are safe because Open JTalk's frontend is guarded by a lock here."""

    def __init__(self) -> None:
        import threading

        import pyopenjtalk
        from misaki.cutlet import HEPBURN, Cutlet

        frontend = pyopenjtalk.run_frontend
        lock = threading.Lock()

        def tagger(text: str) -> list[_Node]:
            with lock:
                words = frontend(text)
            return [_node(word) for word in words]

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

    def __call__(self, text: str) -> str:
        phonemes, _ = self._romaniser(_THOUSANDS.sub("", text))
        return str(phonemes)


def _node(word: Mapping[str, object]) -> _Node:
    surface = str(word["string"])
    # Punctuation keeps its own mark (Open JTalk's reading of 。 is a pause written 、).
    reading = surface if word["pos"] == "記号" else str(word["pron"]).translate(_ACCENT_MARKS)
    return _Node(surface, _Feature(reading, reading))
