from __future__ import annotations

import io
import subprocess
import wave

import numpy as np
import pytest

from conftest import decode
from sayfile.audio.formats import FORMATS, audio_format, encode_chunks, open_encoder, stretch
from sayfile.errors import UnknownFormat

RATE = 22050


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * 330 * t) * 8000).astype(np.int16)


EXPECTED = {
    "mp3": ("mp3", "mp3"),
    "opus": ("ogg", "opus"),
    "aac": ("aac", "aac"),
    "m4b": ("mp4", "aac"),
    "flac": ("flac", "flac"),
    "wav": ("wav", "pcm_s16le"),
    "pcm": ("s16le", "pcm_s16le"),
}


def test_every_format_is_in_the_table() -> None:
    assert set(FORMATS) == set(EXPECTED)
    assert {f.media_type for f in FORMATS.values()} >= {"audio/mpeg", "audio/ogg", "audio/wav"}


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("name", list(FORMATS))
def test_file_and_stream_encodings_decode_to_the_same_duration(name: str) -> None:
    fmt = FORMATS[name]
    tone = _tone(2.5)
    chunks = np.array_split(tone, 7)
    sink = io.BytesIO()
    encoder = open_encoder(fmt, RATE, sink)
    for chunk in chunks:
        encoder.write(chunk)
    encoder.close()
    assert encoder.duration == pytest.approx(2.5, abs=1e-3)
    # MP4 writes its index last: m4b is made whole, never streamed.
    pieces = list(encode_chunks(fmt, RATE, chunks)) if fmt.streamable else []
    for data in (sink.getvalue(), b"".join(pieces)) if pieces else (sink.getvalue(),):
        decoded = decode(data, name)
        container, codec = EXPECTED[name]
        assert container in decoded.container
        assert decoded.codec == codec
        # AAC and MP3 add encoder delay padding; a few frames at most.
        assert decoded.duration_s == pytest.approx(2.5, abs=0.08)
    # Opus decoders always play at 48 kHz, whatever rate the encoder was fed.
    expected_rate = 48_000 if name == "opus" else fmt.sample_rate or RATE
    assert decode(sink.getvalue(), name).sample_rate == expected_rate


def _speech() -> np.ndarray:
    """A real sentence from espeak-ng (22.05 kHz), as the encoders get it."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "--stdout"],
        input=b"Order twelve is ready at the front desk; thank you for waiting, friend.",
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").copy()


def _decoded_at(data: bytes, name: str, rate: int) -> np.ndarray:
    """The file decoded by Debian's ffmpeg to mono s16 at `rate`."""
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if name == "pcm" else []
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            *raw,
            "-i",
            "-",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-",
        ],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def _encoded(speech: np.ndarray, name: str) -> bytes:
    """`speech` encoded whole in format `name`, at RATE."""
    sink = io.BytesIO()
    encoder = open_encoder(FORMATS[name], RATE, sink)
    encoder.write(speech)
    encoder.close()
    return sink.getvalue()


def _snr_db(source: np.ndarray, decoded: np.ndarray) -> float:
    """Signal-to-noise ratio of `decoded` against `source`, at the best alignment (encoders
    that cannot say their lead-in to the decoder, such as raw mp3 frames, shift the audio)."""
    x = source.astype(np.float64)
    errors = [
        float(np.sum((x - decoded[lag : lag + x.size]) ** 2))
        for lag in range(0, 2400)
        if decoded.size >= lag + x.size
    ]
    return float(10 * np.log10(np.sum(x**2) / max(min(errors), 1e-9)))


# Measured with the settings in FORMATS on espeak-ng speech (docs/benchmarks.md); a codec
# change that loses 3 dB fails here.
_MIN_SNR_DB = {
    "mp3": 22.0,
    "opus": 21.0,
    "aac": 28.0,
    "m4b": 28.0,
    "flac": 90.0,
    "wav": 90.0,
    "pcm": 44.0,
}


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("name", list(FORMATS))
def test_encoders_keep_speech_as_an_independent_decoder_hears_it(name: str) -> None:
    speech = _speech()
    fmt = FORMATS[name]
    streamed = (
        [b"".join(encode_chunks(fmt, RATE, np.array_split(speech, 9)))] if fmt.streamable else []
    )
    for data in (_encoded(speech, name), *streamed):
        assert _snr_db(speech, _decoded_at(data, name, RATE)) >= _MIN_SNR_DB[name]


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_decodes_at_the_level_its_table_says(name: str) -> None:
    """Loudness levelling makes up for `decoded_gain_db` (LAME's -0.45 dB): a codec that
    changes it, or a format that starts changing the level, fails here."""
    speech = _speech()
    decoded = _decoded_at(_encoded(speech, name), name, RATE)
    change = 10 * np.log10(np.sum(decoded**2) / np.sum(speech.astype(np.float64) ** 2))
    assert change == pytest.approx(FORMATS[name].decoded_gain_db, abs=0.15)


def test_streamed_encoding_yields_bytes_before_the_end() -> None:
    chunks = [_tone(1.0) for _ in range(5)]
    pieces = list(encode_chunks(FORMATS["mp3"], RATE, chunks))
    assert len(pieces) >= 5


def test_unknown_format_names_the_allowed_ones() -> None:
    with pytest.raises(UnknownFormat) as info:
        audio_format("ogg-vorbis")
    assert "mp3, opus, aac, m4b, flac, wav, pcm" in str(info.value)
    assert audio_format(" MP3 ").name == "mp3"


@pytest.mark.parametrize("factor", [0.4, 2.0, 3.5])
def test_stretch_changes_duration_by_the_factor(factor: float) -> None:
    out = stretch(_tone(2.0), RATE, factor)
    assert len(out) / RATE == pytest.approx(2.0 / factor, rel=0.05)
