"""Even loudness: one gain per voice to a target integrated loudness (ITU-R BS.1770), applied
with a true-peak limiter so that louder voices never clip.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from sayfile.audio.formats import Samples

# pyloudnorm and scipy are imported where they are used: scipy.signal takes longer to import
# than the rest of sayfile, and a process that measures nothing (`sayfile --help`, a request
# refused, a worker's supervisor) should not wait for it.
_FULL_SCALE = 32768.0
CEILING_DBTP = -1.0
"""The true peak every levelled file stays under, decoded: what Spotify, Apple and EBU R128
ask of what they are given (-1 dBTP)."""
# ITU-R BS.1770-4 Annex 2 estimates the true peak on the signal oversampled four times. With
# 12 taps per phase the estimate read Kokoro's hard-limited audio, which has energy up to its
# 12 kHz Nyquist, up to 0.5 dB low; with 20 (SciPy's `resample_poly` default, which the
# benchmarks measure with) the files' true peaks land on the limiter's aim.
_OVERSAMPLING = 4
_FILTER_TAPS = 20 * _OVERSAMPLING + 1
# The limiter lowers the gain over this long before a peak, and lets it return with this
# time constant after one: a 2 ms fade catches a plosive without a click, and a 20 ms return
# gives back the syllable after it. At 5 and 60 ms the limiter held the gain down through
# whole syllables, so speech stopped getting louder long before -14 LUFS: espeak-ng's Opus
# came out at -15.3 there (docs/benchmarks.md, "-14 LUFS reached").
_ATTACK = 0.002
_RELEASE = 0.02
# The limiter works out its gain per block of this many samples (1.3-1.5 ms), not per sample:
# 30 times less work, and a gain that moves over milliseconds is smooth at that resolution.
_BLOCK = 32
# Peaks are oversampled in stretches of this many blocks (about 90 ms), only where the audio
# is loud enough that they could pass the ceiling.
_STRETCH = 64
# Headroom under the ceiling for meters that oversample more than 4 times (FFmpeg's ebur128
# takes 24 kHz audio to 192 kHz); what each encoder adds is its format's own
# (`AudioFormat.peak_overshoot_db`).
_MARGIN_DB = 0.4
# The gain is measured again after the limiter this many times at most, and is kept once the
# level is this close to the target.
_ROUNDS = 8
_CLOSE_ENOUGH_LU = 0.1
# The gating block of BS.1770: pyloudnorm refuses anything shorter.
_MIN_SECONDS = 0.4


class LoudnessLevel:
    """Brings every voice to `target_lufs` with one fixed gain per voice, peaks held under
    `peak_dbtp`; `target_lufs=None` turns it off (gain 1.0, audio untouched). `headroom_db`
    keeps them that much further under, for an encoder whose decoded peaks come out higher
    than the audio it was given (`AudioFormat.peak_overshoot_db`).

    The gain is measured once per voice, on a reference utterance, never per sentence, so
    sentences streamed one after another keep their natural differences and never jump. Safe
    to call from several threads at once.
    """

    max_boost_db = 24.0
    """The largest gain given, so a near-silent reference cannot turn a voice's noise up."""

    def __init__(
        self,
        target_lufs: float | None = -16.0,
        peak_dbtp: float = CEILING_DBTP,
        headroom_db: float = 0.0,
    ) -> None:
        self.target_lufs = target_lufs
        self.peak_dbtp = peak_dbtp
        self.headroom_db = headroom_db
        self._gains: dict[str, float] = {}
        self._measuring: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def gain_for(self, voice_id: str, rate: int, reference: Callable[[], Samples]) -> float:
        """The linear gain that brings `voice_id` to the target loudness.

        On the voice's first call, `reference()` is called (once, however many threads ask at
        the same time) for an utterance of the voice at `rate`, whose integrated loudness is
        measured; later calls return the cached gain. A reference that is silent or shorter
        than 0.4 s gives 1.0. An exception from `reference` propagates, and nothing is cached.
        """
        if self.target_lufs is None:
            return 1.0
        with self._lock:
            gain = self._gains.get(voice_id)
            if gain is not None:
                return gain
            # One lock per voice: a voice being measured holds up its own callers only.
            measuring = self._measuring.setdefault(voice_id, threading.Lock())
        with measuring:
            with self._lock:
                gain = self._gains.get(voice_id)
            if gain is None:
                gain = self._measure(reference(), rate, self.target_lufs)
                with self._lock:
                    self._gains[voice_id] = gain
        return gain

    def _measure(self, samples: Samples, rate: int, target_lufs: float) -> float:
        """The gain that brings `samples`, as `apply` leaves them, to `target_lufs`: the
        limiter takes some loudness off a voice with high peaks (Piper's touch full scale), so
        the gain is measured again after it, a few times, until it is within 0.1 LU."""
        if samples.size < _MIN_SECONDS * rate:
            return 1.0
        import pyloudnorm

        meter = pyloudnorm.Meter(rate)
        limit = 10 ** (self.max_boost_db / 20)
        gain = 1.0
        for _ in range(_ROUNDS):
            levelled = self.apply(samples, gain, rate).astype(np.float64) / _FULL_SCALE
            loudness = float(meter.integrated_loudness(levelled))
            if not math.isfinite(loudness):
                return 1.0
            step = target_lufs - loudness
            gain = min(gain * 10 ** (step / 20), limit)
            if abs(step) < _CLOSE_ENOUGH_LU:
                break
        return float(gain)

    def apply(self, samples: Samples, gain: float, rate: int, lift: float = 1.0) -> Samples:
        """Return `samples` (mono int16 at `rate`) scaled by `gain`, their true peak held under
        `peak_dbtp` by a look-ahead limiter, then raised by `lift` for an encoder whose decoded
        audio comes out that much quieter; `samples` themselves when off or nothing changes.

        Each call stands alone: a peak in the first 5 ms of `samples` is lowered at once rather
        than faded into, which speech (starting in silence) does not notice. Raises ValueError
        if `gain` is not positive.
        """
        if not gain > 0:
            raise ValueError(f"gain must be positive, not {gain}")
        if self.target_lufs is None or samples.size == 0:
            return samples
        audio = samples.astype(np.float32)
        # In the units of `samples`: where the scaled audio would reach the ceiling.
        top_db = self.peak_dbtp - _MARGIN_DB - self.headroom_db
        ceiling = _FULL_SCALE * 10 ** (top_db / 20) / gain
        peaks = _block_peaks(audio, ceiling)
        envelope = None
        if float(peaks.max()) > ceiling:
            envelope = _limiter_gain(peaks, ceiling, rate, audio.size)
        if envelope is None and gain * lift == 1.0:
            return samples
        audio *= np.float32(gain * lift)
        if envelope is not None:
            audio *= envelope
        np.rint(audio, out=audio)
        np.clip(audio, -_FULL_SCALE, _FULL_SCALE - 1, out=audio)
        return audio.astype(np.int16)


def load_measures() -> None:
    """Import what measuring and limiting loudness use (pyloudnorm, SciPy's filters), for a
    server's warm-up: its first levelled request then pays nothing, and what the imports
    make (about 48,000 objects) is set aside with the rest of start-up, out of the garbage
    collector's full passes (`Parts.warm_up`)."""
    import pyloudnorm  # noqa: F401
    from scipy import ndimage  # noqa: F401

    _interpolator()


@functools.cache
def _interpolator() -> tuple[npt.NDArray[np.float32], float]:
    """The 4x interpolation filter's three phases between the input samples (one row each,
    as taps to convolve the input with), and the most any can raise a peak by (the largest
    L1 norm of a row: each oversampled value is a weighted sum of input samples). The fourth
    phase falls on the input samples themselves (the windowed sinc is zero at every other
    multiple of 4), so their own peaks stand for it."""
    from scipy import signal

    taps = signal.firwin(_FILTER_TAPS, 1 / _OVERSAMPLING, window=("kaiser", 5.0))
    # The value a quarter, a half and three quarters of a sample after input sample n is
    # the sum over j of x[n - j] times 4 * taps[4 * j + phase + centre], j from -10 to 9.
    width = (_FILTER_TAPS - 1) // _OVERSAMPLING
    phases = (
        np.stack([taps[phase::_OVERSAMPLING][:width] for phase in range(1, _OVERSAMPLING)])
        * _OVERSAMPLING
    )
    worst_case = max(float(np.abs(phases).sum(axis=1).max()), 1.0)
    return phases.astype(np.float32), worst_case


def _block_peaks(audio: npt.NDArray[np.float32], ceiling: float) -> npt.NDArray[np.float32]:
    """The true peak (4x oversampled) of each block of `_BLOCK` samples. Oversampling cannot
    raise a peak by more than the filter's worst case, so only stretches of `_STRETCH` blocks
    whose sample peaks could pass `ceiling` that way are oversampled, each with the samples
    the filter reaches on either side, all in one FFT convolution (cheaper than SciPy's
    polyphase filter, which does every multiplication, for a 20-tap phase)."""
    from scipy import signal

    phases, worst_case = _interpolator()
    blocks = -(-audio.size // _BLOCK)
    stretches = -(-blocks // _STRETCH)
    padded = np.zeros(stretches * _STRETCH * _BLOCK, dtype=np.float32)
    np.abs(audio, out=padded[: audio.size])
    peaks: npt.NDArray[np.float32] = padded.reshape(-1, _BLOCK).max(axis=1)
    candidates = np.flatnonzero(
        peaks.reshape(stretches, _STRETCH).max(axis=1) * worst_case > ceiling
    )
    if candidates.size == 0:
        return peaks[:blocks]
    reach = phases.shape[1] // 2  # input samples the filter reaches on either side
    length = _STRETCH * _BLOCK
    # Each candidate stretch with `reach` samples either side (zeros past the ends).
    around = np.zeros(reach + padded.size + reach, dtype=np.float32)
    around[reach : reach + audio.size] = audio
    windows = around[candidates[:, None] * length + np.arange(length + 2 * reach)]
    between = signal.oaconvolve(windows[:, None, :], phases[None, :, :], axes=2)
    inner = np.abs(between[:, :, 2 * reach : 2 * reach + length]).max(axis=1)
    found = inner.reshape(candidates.size, _STRETCH, _BLOCK).max(axis=2)
    stretch_peaks = peaks.reshape(stretches, _STRETCH)
    stretch_peaks[candidates] = np.maximum(stretch_peaks[candidates], found)
    return peaks[:blocks]


def _limiter_gain(
    peaks: npt.NDArray[np.float32], ceiling: float, rate: int, size: int
) -> npt.NDArray[np.float32]:
    """A smooth gain for each of `size` samples, never above 1, that brings every block's
    true peak (`peaks`, one per `_BLOCK` samples) under `ceiling`.

    Worked out per block, in decibels of reduction: each block's need is spread over half the
    attack time on either side (a moving maximum) and then averaged over that same window, so
    the reduction ramps in linearly over the attack time and is complete at the peak; then it
    decays exponentially (a running maximum of log-reduction against a linear slope: a
    one-pole release without a per-sample loop). Each block then takes the most of itself and
    its neighbours, so that the line drawn between block centres, sample by sample, never
    falls short of any block's need.
    """
    from scipy import ndimage

    over = peaks > ceiling
    need = np.zeros(peaks.size)
    need[over] = 20 * np.log10(peaks[over] / ceiling)
    window = 2 * max(1, round(_ATTACK * rate / _BLOCK / 2)) + 1
    ramped = ndimage.uniform_filter1d(ndimage.maximum_filter1d(need, window), window)
    # The average of a moving maximum can come out a rounding error under the maximum.
    np.maximum(ramped, need, out=ramped)
    slope = np.arange(peaks.size) * (_BLOCK / (_RELEASE * rate))
    with np.errstate(divide="ignore"):
        logs = np.log(ramped)
    released = ndimage.maximum_filter1d(np.exp(np.maximum.accumulate(logs + slope) - slope), 3)
    # Drawn between block centres as gains: each sample's gain lies between two blocks' gains,
    # both at most what its own block allows.
    gains = np.exp(released * (-math.log(10) / 20))
    centres = np.arange(peaks.size) * _BLOCK + (_BLOCK - 1) / 2
    envelope: npt.NDArray[np.float32] = np.interp(
        np.arange(size, dtype=np.float32), centres, gains
    ).astype(np.float32)
    return envelope
