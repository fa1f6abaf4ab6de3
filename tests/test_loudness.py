"""Even loudness: quiet and hot voices come out at the target and under the true-peak ceiling,
as FFmpeg's own EBU R128 meter measures them, with one gain per voice."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import TONES, Speech
from sayfile.audio.formats import Samples
from sayfile.models import Voice
from sayfile.settings import MAX_LUFS, MIN_LUFS, Settings
from sayfile.speech.loudness import CEILING_DBTP, LoudnessLevel
from sayfile.voices.catalogue import sample_text

RATE = 24000
Signal = npt.NDArray[np.float64]


def _speech(seconds: float, seed: int, stress: float = 2.0) -> Signal:
    """Speech-like sound: syllables of gliding harmonic tones under a smooth envelope (now and
    then a stressed one, `stress` times as loud), some noise (fricatives), and pauses between
    words."""
    rng = np.random.default_rng(seed)
    parts: list[Signal] = []
    while sum(map(len, parts)) < seconds * RATE:
        for _ in range(rng.integers(1, 4)):
            size = int(RATE * rng.uniform(0.12, 0.3))
            glide = 1 + 0.15 * rng.choice([-1, 1]) * np.arange(size) / size
            f0 = rng.uniform(100, 220) * glide
            phase = 2 * np.pi * np.cumsum(f0) / RATE
            harmonics = np.arange(1, 25)[:, None]
            amplitudes = np.where(harmonics * f0.mean() < 5000, 1 / harmonics, 0)
            voiced = (amplitudes * np.sin(harmonics * phase)).sum(axis=0)
            loud = stress if rng.random() < 0.1 else rng.uniform(0.4, 1.0)
            parts.append(voiced * np.sqrt(np.hanning(size)) * loud)
        if rng.random() < 0.3:
            size = int(RATE * 0.08)
            parts.append(np.diff(rng.standard_normal(size + 1)) * 0.15 * np.hanning(size))
        parts.append(np.zeros(int(RATE * rng.uniform(0.08, 0.4))))
    return np.concatenate(parts)[: int(seconds * RATE)]


def _hot(signal: Signal) -> Signal:
    """The same sound squashed the way loudly mastered voices are (a low crest factor)."""
    squashed: Signal = np.tanh(4 * signal / float(np.abs(signal).max()))
    return squashed


def _at(signal: Signal, lufs: float) -> Samples:
    """`signal` as int16 samples at `lufs` integrated loudness."""
    # Imported where it is used: pyloudnorm brings SciPy's signal module (a second to
    # import, in every worker that collects the suite).
    import pyloudnorm

    measured = float(pyloudnorm.Meter(RATE).integrated_loudness(signal))
    scaled = signal * 10 ** ((lufs - measured) / 20) * 32768
    assert np.abs(scaled).max() < 32767, "the test signal itself would clip"
    return np.rint(scaled).astype(np.int16)


def _ebur128(samples: Samples, folder: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) as FFmpeg's ebur128 filter has them."""
    path = folder / "measured.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return ebur128_of(path)


def ebur128_of(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of the file at `path`, as Debian's
    ffmpeg decodes it and its ebur128 filter (192 kHz oversampled peaks) measures it."""
    # Raw PCM says nothing of itself: sayfile's is 24 kHz mono 16-bit.
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if path.suffix == ".pcm" else []
    command = ["ffmpeg", "-nostats", *raw, "-i", str(path), "-filter_complex", "ebur128=peak=true"]
    report = subprocess.run(
        [*command, "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = report[report.rindex("Summary:") :]
    loudness = re.search(r"I:\s+(\S+) LUFS", summary)
    peak = re.search(r"Peak:\s+(\S+) dBFS", summary)
    assert loudness and peak, report
    return float(loudness[1]), float(peak[1])


def _through(level: LoudnessLevel, samples: Samples, gain: float) -> Samples:
    """`samples` levelled as a stream of sentences is: in pieces, with the voice's one gain."""
    pieces = np.array_split(samples, 6)
    return np.concatenate([level.apply(piece, gain, RATE) for piece in pieces])


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize(("lufs", "hot"), [(-25.0, False), (-12.0, True)])
def test_quiet_and_hot_voices_come_out_at_the_target(
    lufs: float, hot: bool, tmp_path: Path
) -> None:
    signal = _speech(12.0, seed=1)
    samples = _at(_hot(signal) if hot else signal, lufs)
    assert _ebur128(samples, tmp_path)[0] == pytest.approx(lufs, abs=0.3)
    level = LoudnessLevel(target_lufs=-16.0, peak_dbtp=-1.5)
    gain = level.gain_for("voice", RATE, lambda: samples[: 6 * RATE])
    loudness, peak = _ebur128(_through(level, samples, gain), tmp_path)
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert peak <= -1.5


@pytest.mark.usefixtures("ffmpeg")
def test_a_sharp_transient_is_limited_smoothly_not_clipped(tmp_path: Path) -> None:
    # Even speech (no stressed syllables): only the click needs limiting.
    samples = _at(_speech(12.0, seed=2, stress=1.0), -25.0)
    level = LoudnessLevel(target_lufs=-16.0, peak_dbtp=-1.5)
    gain = level.gain_for("voice", RATE, lambda: samples)
    # A 3 ms click at 3 kHz, near full scale: 8 dB over full scale once the voice's gain is on.
    at, size = 5 * RATE, int(0.003 * RATE)
    click = 31000 * np.sin(2 * np.pi * 3000 * np.arange(size) / RATE) * np.hanning(size)
    samples[at : at + size] = np.rint(click).astype(np.int16)
    out = level.apply(samples, gain, RATE)

    loudness, peak = _ebur128(out, tmp_path)
    assert peak <= -1.5
    assert loudness == pytest.approx(-16.0, abs=1.0)
    # The click keeps its shape (a clipper would flatten its tops) ...
    burst = out[at : at + size].astype(np.float64)
    assert np.corrcoef(burst, click)[0, 1] > 0.999
    assert np.sum(np.abs(burst) >= 0.99 * np.abs(burst).max()) <= 2
    # ... and the voice around it is only scaled, from 20 ms before it (the attack is 2 ms)
    # to a second after (when the release, a 20 ms time constant, has died away), wherever
    # the voice itself stays under the ceiling.
    scaled = np.clip(np.rint(samples.astype(np.float64) * gain), -32768, 32767)
    far = np.r_[: at - RATE // 50, at + RATE : samples.size]
    assert np.median(np.abs(out[far] - scaled[far])) <= 1


def test_gain_is_measured_once_per_voice_however_many_threads_ask() -> None:
    calls: dict[str, int] = {"loud": 0, "soft": 0}
    lock = threading.Lock()
    loud, soft = _at(_speech(3.0, seed=3), -20.0), _at(_speech(3.0, seed=3), -30.0)

    def reference(voice: str, samples: Samples) -> Samples:
        with lock:
            calls[voice] += 1
        time.sleep(0.05)
        return samples

    level = LoudnessLevel()
    with ThreadPoolExecutor(8) as pool:
        asks = [("loud", loud), ("soft", soft)] * 12
        gains = list(
            pool.map(lambda ask: level.gain_for(ask[0], RATE, lambda: reference(*ask)), asks)
        )
    assert calls == {"loud": 1, "soft": 1}
    assert set(gains[::2]) == {gains[0]} and set(gains[1::2]) == {gains[1]}
    # Measured on the voice as levelled: the same waveform 10 dB softer gets 10 dB more, and
    # each then comes out at -16 LUFS (the gain makes up for what the limiter takes off).
    assert 20 * np.log10(gains[1] / gains[0]) == pytest.approx(10.0, abs=0.2)
    import pyloudnorm

    meter = pyloudnorm.Meter(RATE)
    for samples, gain in ((loud, gains[0]), (soft, gains[1])):
        levelled = level.apply(samples, gain, RATE).astype(np.float64) / 32768
        assert meter.integrated_loudness(levelled) == pytest.approx(-16.0, abs=0.2)


def test_a_reference_that_cannot_be_measured_gives_unit_gain() -> None:
    level = LoudnessLevel()
    silence = np.zeros(2 * RATE, dtype=np.int16)
    # Shorter than the 0.4 s block that BS.1770 gates on.
    short = _at(_speech(1.0, seed=4), -30.0)[: int(0.3 * RATE)]
    assert level.gain_for("silent", RATE, lambda: silence) == 1.0
    assert level.gain_for("short", RATE, lambda: short) == 1.0


def test_a_failed_reference_is_asked_again() -> None:
    level = LoudnessLevel()
    samples = _at(_speech(2.0, seed=5), -16.0)

    def broken() -> Samples:
        raise RuntimeError("voice not loaded")

    with pytest.raises(RuntimeError):
        level.gain_for("voice", RATE, broken)
    # Already at -16 LUFS: about unit gain (the limiter may take a little off its peaks).
    assert level.gain_for("voice", RATE, lambda: samples) == pytest.approx(1.0, abs=0.05)


def test_off_leaves_the_audio_alone() -> None:
    level = LoudnessLevel(target_lufs=None)
    samples = _at(_speech(2.0, seed=6), -20.0)

    def unused() -> Samples:
        raise AssertionError("no measure is needed when levelling is off")

    assert level.gain_for("voice", RATE, unused) == 1.0
    assert level.apply(samples, 1.0, RATE) is samples


def test_audio_under_the_ceiling_is_only_scaled() -> None:
    level = LoudnessLevel()
    samples = _at(_speech(2.0, seed=7, stress=1.0), -20.0)
    assert level.apply(samples, 1.0, RATE) is samples
    halved = level.apply(samples, 0.5, RATE)
    assert np.array_equal(halved, np.rint(samples * 0.5).astype(np.int16))
    assert level.apply(samples[:0], 2.0, RATE).size == 0
    with pytest.raises(ValueError, match="gain"):
        level.apply(samples, 0.0, RATE)


def _true_peak_dbtp(samples: Samples) -> float:
    """The true peak of `samples` in dBTP: oversampled 4 times (SciPy's own filter)."""
    from scipy import signal

    oversampled = signal.resample_poly(samples.astype(np.float64) / 32768, 4, 1)
    return float(20 * np.log10(np.abs(oversampled).max()))


def _tone(seconds: float, hz: float, amplitude: float) -> Signal:
    tone: Signal = amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)
    return tone


def test_a_tone_burst_over_the_ceiling_comes_out_under_it_without_a_click() -> None:
    # A quiet 220 Hz tone with 50 ms of a loud 3 kHz one in it, which the gain takes 4.4 dB
    # over full scale: only the burst may be limited, and the gain must glide, not jump.
    gain = 2.0
    quiet = _tone(1.0, 220, 3000)
    at, size = RATE // 2, RATE // 20
    quiet[at : at + size] += _tone(0.05, 3000, 27000) * np.hanning(size) ** 0.1
    samples = np.rint(quiet).astype(np.int16)
    assert _true_peak_dbtp(np.clip(np.rint(samples * gain), -32768, 32767)) > 0

    out = LoudnessLevel(target_lufs=-16.0).apply(samples, gain, RATE)

    assert _true_peak_dbtp(out) <= CEILING_DBTP
    # The quiet tone is only scaled from 5 ms before the burst (the look-ahead is 2 ms), and
    # within a step of rounding from 200 ms after it (ten of the release's 20 ms time
    # constants): its loudness there is untouched.
    scaled = np.rint(samples.astype(np.float64) * gain)
    before, after = slice(0, at - RATE // 200), slice(at + size + RATE // 5, None)
    assert np.array_equal(out[before], scaled[before])
    assert np.abs(out[after] - scaled[after]).max() <= 1
    # Where the gain was lowered, it moved smoothly: read where the audio is well above the
    # rounding, it never steps more than 0.25 dB from one sample to the next (a clipper, or
    # a gain switched per block, jumps by decibels), and it starts lowering before the burst.
    readable = np.flatnonzero(np.abs(scaled) > 1000)
    ratio = out[readable] / scaled[readable]
    assert ratio.min() < 0.7  # limited by more than 3 dB
    steps_db = np.abs(np.diff(20 * np.log10(ratio)))
    neighbours = np.diff(readable) <= 3
    assert steps_db[neighbours].max() < 0.25
    lowered = readable[ratio < 0.99]
    assert lowered.min() < at


def test_a_voice_says_its_reference_once_whatever_the_loudness_asked(tmp_path: Path) -> None:
    """A new `loudness` value each time made the voice say its sample sentence again: with 54
    Kokoro voices, minutes of synthesis outside anyone's turn."""
    speech = Speech(Settings(data_dir=tmp_path, **TONES))
    try:
        voice = speech.catalogue.resolve(voice="tone:beep")
        engine = speech.catalogue.engine(voice)
        said: list[str] = []
        real = engine.synthesize

        def counting(voice: Voice, text: str, speed: float) -> Samples:
            said.append(text)
            return real(voice, text, speed)

        engine.synthesize = counting  # type: ignore[method-assign]
        louder = []
        for target in (-30.0, -23.0, -18.5, -16.0, MAX_LUFS):
            chunks = speech.samples(speech.plan("Hello there.", loudness=target))
            louder.append(float(np.sqrt(np.mean(np.concatenate(chunks).astype(np.float64) ** 2))))
        assert said.count(sample_text(voice)) == 1
        assert louder == sorted(louder)  # each target still measured and applied
    finally:
        speech.close()


ESPEAK = {"engines": ["espeak"], "default_voice": "espeak:en-us"}
SPOKEN = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It was late in the evening when the train finally reached the small town."
)


# What Spotify and YouTube normalise to, and what podcasters are asked for.
STREAMING_LUFS = -14.0
# Half a minute of prose: on three sentences the old limiter still came within 1 LU.
PROSE = (
    f"{SPOKEN} Nobody was waiting on the platform, so she picked up her bag and walked "
    "towards the lights. The city council met on Tuesday to discuss the new budget, which "
    "includes funding for schools, roads and public transport. Where are you going? I "
    "thought we agreed to meet at seven. Never mind, let's go now."
)


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "m4b", "flac", "wav", "pcm"])
def test_the_streaming_services_loudness_is_reached_in_every_format_under_minus_1_dbtp(
    make_client: Callable[..., TestClient], fmt: str, tmp_path: Path
) -> None:
    """-14 LUFS was refused (the top was -15): held under the ceiling by a limiter that
    kept its gain down through whole syllables, and with 2 dB more headroom for Opus, speech
    stopped getting louder first, and espeak-ng's Opus came out at -15.3. Now it is accepted
    and reached in every format, true peaks under -1 dBTP as FFmpeg measures them."""
    assert MAX_LUFS >= STREAMING_LUFS
    client = make_client(**ESPEAK)
    body = {"text": PROSE, "format": fmt, "loudness": STREAMING_LUFS}
    r = client.post("/speech", json=body)
    assert r.status_code == 200, r.text
    path = tmp_path / f"speech.{fmt}"
    path.write_bytes(r.content)
    loudness, peak = ebur128_of(path)
    assert loudness == pytest.approx(STREAMING_LUFS, abs=1.0)
    assert peak <= CEILING_DBTP


def test_a_target_louder_than_speech_can_be_made_is_refused_with_the_range(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    allowed = f"allowed: {MIN_LUFS:g} to {MAX_LUFS:g} (LUFS), or off"
    for louder in (-13.5, -10, "-8", -5):
        r = client.post("/speech", json={"text": "Hello.", "loudness": louder})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == "loudness"
        assert allowed in r.json()["error"]["message"]
        body = {"model": "tts-1", "voice": "tone:beep", "input": "Hello.", "loudness": louder}
        r = client.post("/v1/audio/speech", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == "loudness"
        assert allowed in r.json()["error"]["message"]
    ok = client.post("/speech", json={"text": "Hello.", "loudness": MAX_LUFS})
    assert ok.status_code == 200
    with pytest.raises(ValidationError, match="loudness"):
        Settings(loudness=-10.0)
