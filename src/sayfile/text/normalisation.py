"""Text as it is said, per language, just before an engine turns it into phonemes: numbers,
money, dates, times, units, phone numbers and abbreviations written out in words, for every
engine that speaks the language (Kokoro, Piper, espeak-ng).

wetext (WeTextProcessing's grammars, `normalisation_grammar`) does most of it; each language's
module holds only what it misses or says unlike people do (checked in
tests/test_normalisation.py): `normalisation_zh` (with the Mandarin polyphones pypinyin reads
wrong), `normalisation_en`, `normalisation_it`. Here: which language has which, loaded once.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import regex

from sayfile.text import language_tags
from sayfile.text.normalisation_en import english_normaliser
from sayfile.text.normalisation_grammar import Normaliser
from sayfile.text.normalisation_it import italian_normaliser
from sayfile.text.normalisation_zh import mandarin_normaliser

log = logging.getLogger(__name__)
# An emoji (shown as a picture, or made one by U+FE0F) with its skin tone, joiners and the
# pictures joined to it: not said, in every language. Voices read their names ("smiling face
# with smiling eyes", "white heavy check mark") in English and dropped them in Mandarin; chat
# assistants' answers are full of them. Text symbols stay (© copyright, → arrow), and a
# keycap's digit (1️⃣ is 1).
_EMOJI = regex.compile(
    r"(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)"
    r"[\p{Emoji_Modifier}\p{Emoji_Presentation}\p{Extended_Pictographic}\uFE0F\u200D\u20E3]*"
    r"|(?<=[0-9#*])\uFE0F?\u20E3"
)


class _Loader(Protocol):
    def __call__(self, language: str) -> Normaliser: ...


class Normalisation:
    """The normaliser of each language, loaded on first use and shared by every thread (the
    Synthesizer owns one and calls it on each piece, on the executor's thread)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Normaliser] = {}
        self._lock = threading.Lock()

    def said(self, text: str, language: str) -> str:
        """`text` as a speaker of `language` (BCP-47) reads it aloud, without its emoji; as it
        is otherwise in a language without a normaliser."""
        if not text.isascii():
            text = _EMOJI.sub(lambda found: "" if found.group()[-1] == "\u20e3" else " ", text)
        loader = _NORMALISERS.get(language_tags.primary(language))
        if loader is None or not text.strip():
            return text
        with self._lock:
            normaliser = self._loaded.get(language)
            if normaliser is None:
                normaliser = self._loaded[language] = loader(language)
        try:
            return normaliser(text)
        except Exception as exc:  # a rule or a grammar that trips on odd text: say it as written
            log.warning("normalising %s text failed (%s); it is said as written", language, exc)
            return text


# The languages with a normaliser, by primary subtag: each module holds one language's rules.
_NORMALISERS: dict[str, _Loader] = {
    "zh": mandarin_normaliser,
    "cmn": mandarin_normaliser,
    "en": english_normaliser,
    "it": italian_normaliser,
}
