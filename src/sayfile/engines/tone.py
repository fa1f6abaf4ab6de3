"""A test engine that speaks in beeps: real audio made at once, one short tone per word and a
pause between sentences, so everything around the engines can be tested in seconds; it says
when each word's beep is (as Kokoro says when each word is), so word timings can be too."""

from __future__ import annotations

import re
import time

import numpy as np

from sayfile.audio.formats import Samples
from sayfile.engines.base import WordSpan
from sayfile.errors import EngineError
from sayfile.models import Quality, Voice

_RATE = 16_000
_WORD_S = 0.12
_GAP_S = 0.04
_PAUSE_S = 0.2


class ToneEngine:
    """`tone:beep` answers at once; `tone:slow` takes 50 ms of a thread per piece, like a
    real engine, for tests of who goes first. A piece containing the word `FAIL` raises
    EngineError, as a broken voice would."""

    name = "tone"
    join_below = 0

    def voices(self) -> list[Voice]:
        return [
            Voice("tone:beep", "tone", "Beep", "zxx", _RATE, Quality.formant, priority=1),
            Voice("tone:slow", "tone", "Slow beep", "zxx", _RATE, Quality.formant, priority=2),
        ]

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        words = text.split()
        if "FAIL" in words:
            raise EngineError(f"the voice {voice.id} failed (asked to by the text)")
        if voice.name == "Slow beep":
            time.sleep(0.05)
        word = np.arange(round(_WORD_S * _RATE / speed)) / _RATE
        beep = (np.sin(2 * np.pi * 440.0 * word) * 8000).astype(np.int16)
        gap = np.zeros(round(_GAP_S * _RATE / speed), dtype=np.int16)
        pause = np.zeros(round(_PAUSE_S * _RATE / speed), dtype=np.int16)
        parts = [part for _ in words for part in (beep, gap)]
        return np.concatenate([*parts, pause]).astype(np.int16)

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """The beeps and each word's (WordTimed): word n is the n-th beep. A `first` piece
        goes through `synthesize_first` where a subclass has one (tests of the quick path);
        `follows` is ignored."""
        quick = getattr(self, "synthesize_first", None) if first else None
        samples: Samples = (quick or self.synthesize)(voice, text, speed)
        beep, gap = round(_WORD_S * _RATE / speed), round(_GAP_S * _RATE / speed)
        words = [
            (found.start(), found.end(), n * (beep + gap), n * (beep + gap) + beep)
            for n, found in enumerate(re.finditer(r"\S+", text))
        ]
        return samples, words

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None  # written words only

    def close(self) -> None:
        return None
