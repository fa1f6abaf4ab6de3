"""A test engine that speaks in beeps: real audio made at once, one short tone per word and a
pause between sentences, so everything around the engines can be tested in seconds."""

from __future__ import annotations

import time

import numpy as np

from sayfile.audio.formats import Samples
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

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None  # written words only

    def close(self) -> None:
        return None
