"""What the tests of words said on across a mark or a pronunciation share: a WAV file's
samples, and the longest quiet run between two times of it (a gap a listener hears)."""

from __future__ import annotations

import io
import wave

import numpy as np

# The quiet runs are found in steps of this many seconds, each over about 10 ms of audio.
HOP_S = 0.002
_WINDOW_S = 0.0107
# Quieter than the loudest 10 ms by this many dB counts as quiet.
_QUIET_DB = 35


def pcm(wav: bytes) -> tuple[np.ndarray, int]:
    """The 16-bit samples of the WAV file `wav`, and its sample rate."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2"), rate


def longest_silence(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    """Seconds of the longest run between `start` and `end` quieter than _QUIET_DB below the
    loudest 10 ms of the audio."""
    hop, window = round(HOP_S * rate), round(_WINDOW_S * rate)
    audio = samples.astype(np.float64)
    level = np.array(
        [
            10 * np.log10(np.mean(audio[at : at + window] ** 2) + 1e-9)
            for at in range(0, audio.size - window, hop)
        ]
    )
    quiet = level[round(start / HOP_S) : round(end / HOP_S)] < level.max() - _QUIET_DB
    best = run = 0
    for frame in quiet:
        run = run + 1 if frame else 0
        best = max(best, run)
    return best * HOP_S
