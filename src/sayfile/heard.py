"""How well each voice is understood: the error rate a speech recognizer made writing down its
everyday sentences (heard.json, made by bench/grading.py), and which voices are too hard to
understand to be chosen by language."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

# A voice whose error is more than this above the best voice of its language (among the voices
# a catalogue offers) is marked hard to understand and never chosen by language.
HARD_MARGIN = 0.05
# Errors within this of the best of the language count as equal, and the authors' grade orders
# them: with three sentences a voice, one word or two characters differ by about 0.03.
TIED_MARGIN = 0.03


@dataclass(frozen=True, slots=True)
class Heard:
    """A voice's measured error rate: `metric` "cer" (characters: Mandarin, Japanese, Hindi) or
    "wer" (words); lower is better."""

    metric: str
    error: float

    def public(self) -> dict[str, float]:
        """As `/voices` shows it: `{"wer": 0.02}`."""
        return {self.metric: self.error}


@cache
def measured() -> dict[str, Heard]:
    """Every graded voice's score, by voice id (lower case); read from the package once."""
    text = (resources.files("sayfile") / "heard.json").read_text("utf-8")
    rows: dict[str, dict[str, object]] = json.loads(text)["voices"]
    table = {}
    for voice, row in rows.items():
        for metric in ("cer", "wer"):
            value = row.get(metric)
            if isinstance(value, int | float):
                table[voice.lower()] = Heard(metric, float(value))
    return table


__all__ = ["HARD_MARGIN", "TIED_MARGIN", "Heard", "measured"]
