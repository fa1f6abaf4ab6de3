"""Where a word before a pause ends: where its sound falls silent in the piece's own samples.

Kokoro's and Piper's durations give the last phoneme before a pause mark part of the pause
(docs/benchmarks.md, "Word ends"), so a word timed to that phoneme's end stays lit into the
silence; a word in running speech ends where the next begins, and keeps that end.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sayfile.audio.formats import Samples
from sayfile.engines.base import WordSpan

# Levels are judged over 10 ms windows every 5 ms.
WINDOW_S = 0.010
HOP_S = 0.005
# Quieter than this below the piece's speech level (the 95th percentile of its windows'
# levels, a few dB under its loudest) is silence: Kokoro's pauses lie 40-60 dB below it, the
# release of a final stop 25-35 dB.
QUIET_DB = 35.0
# Kept after the last window with sound in it: the decay below the line is still heard.
RELEASE_S = 0.020


def sounded_ends(words: Sequence[WordSpan], samples: Samples, rate: int) -> list[WordSpan]:
    """`words` (in order, samples of `samples` at `rate`), each word a pause follows (its end
    short of the next word's start, or the piece's last word) ending where its sound falls
    silent, a short release after its last window with sound, when that is before its end.
    Starts do not move; an end never moves later, nor before its start; a word with no
    sound in it keeps its end."""
    found = list(words)
    if not found or samples.size == 0:
        return found
    window = max(1, round(WINDOW_S * rate))
    hop = max(1, round(HOP_S * rate))
    audio = samples.astype(np.float64)
    energy = np.concatenate([[0.0], np.cumsum(audio * audio)])
    starts = np.arange(0, max(1, audio.size - window + 1), hop)
    stops = np.minimum(starts + window, audio.size)
    power = (energy[stops] - energy[starts]) / (stops - starts)
    level = 10 * np.log10(power + 1e-10)
    loud = level > float(np.percentile(level, 95)) - QUIET_DB
    release = round(RELEASE_S * rate)
    for index, (begin, stop, start, end) in enumerate(found):
        following = found[index + 1][2] if index + 1 < len(found) else None
        if following is not None and end >= following:
            continue  # running speech: the next word begins where this one ends
        heard = np.flatnonzero(loud & (starts >= start) & (starts < end))
        if not heard.size:
            continue
        silent_from = int(stops[heard[-1]]) + release
        found[index] = (begin, stop, start, max(start, min(end, silent_from)))
    return found
