"""The span: a run of words spoken alike (one voice, language, rate and pronunciation), the unit
that SSML, lexicons and language detection hand on to speech."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A run of words spoken alike, in document order.

    `text` is what to say, already expanded (say-as, sub); it is "" for a pure pause at the end
    of a document, or for an empty <phoneme> (whose `phonemes` or `pinyin` say what to speak).
    `pause_before_s` is silence before the words. `phonemes` (IPA) or `pinyin` (numbered tones,
    "zhang3 san1"), when set, give the pronunciation of `text`. `sentence_end` marks the last
    span of an <s> or <p> (and the span before one starts): a new sentence starts after it.
    """

    text: str
    pause_before_s: float = 0.0
    voice: str | None = None
    language: str | None = None
    rate: float = 1.0
    phonemes: str | None = None
    pinyin: str | None = None
    sentence_end: bool = False
    mark: str | None = None
    """The name of an SSML <mark> right before these words (after the pause before them)."""
    joined: bool = False
    """No white space parts these words from the span's before them in the text: only markup
    (`Hel<mark/>lo`, `<phoneme>Nguyen</phoneme>'s`) or a lexicon's term did."""
