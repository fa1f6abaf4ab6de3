from __future__ import annotations

import io

import numpy as np
import pytest

from conftest import decode
from sayfile.audio import FORMATS, Encoder, audio_format, encode_chunks, stretch
from sayfile.errors import UnknownFormat

RATE = 22050


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * 330 * t) * 8000).astype(np.int16)


EXPECTED = {
    "mp3": ("mp3", "mp3"),
    "opus": ("ogg", "opus"),
    "aac": ("aac", "aac"),
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
    encoder = Encoder(fmt, RATE, sink)
    for chunk in chunks:
        encoder.write(chunk)
    encoder.close()
    assert encoder.duration == pytest.approx(2.5, abs=1e-3)
    pieces = list(encode_chunks(fmt, RATE, chunks))
    for data in (sink.getvalue(), b"".join(pieces)):
        decoded = decode(data, name)
        container, codec = EXPECTED[name]
        assert container in decoded.container
        assert decoded.codec == codec
        # AAC and MP3 add encoder delay padding; a few frames at most.
        assert decoded.duration_s == pytest.approx(2.5, abs=0.08)
    if fmt.sample_rate:
        assert decode(sink.getvalue(), name).sample_rate == fmt.sample_rate


def test_streamed_encoding_yields_bytes_before_the_end() -> None:
    chunks = [_tone(1.0) for _ in range(5)]
    pieces = list(encode_chunks(FORMATS["mp3"], RATE, chunks))
    assert len(pieces) >= 5


def test_unknown_format_names_the_allowed_ones() -> None:
    with pytest.raises(UnknownFormat) as info:
        audio_format("ogg-vorbis")
    assert "mp3, opus, aac, flac, wav, pcm" in str(info.value)
    assert audio_format(" MP3 ").name == "mp3"


@pytest.mark.parametrize("factor", [0.4, 2.0, 3.5])
def test_stretch_changes_duration_by_the_factor(factor: float) -> None:
    out = stretch(_tone(2.0), RATE, factor)
    assert len(out) / RATE == pytest.approx(2.0 / factor, rel=0.05)
