"""Real engines end to end: every format with both engines, speed, and long text."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import decode
from sayfile.audio import FORMATS
from sayfile.service import SpeechService

ENGLISH = "Hello there. This is sayfile speaking, one sentence after another!"
CHINESE = "你好，世界。这是一个测试！"
CASES = [
    ("piper:en_US-joe-medium", ENGLISH),
    ("espeak:en-us", ENGLISH),
    ("espeak:cmn", CHINESE),
]


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize(("voice", "text"), CASES)
def test_every_format_with_every_engine_decodes_to_the_synthesized_length(
    speech: SpeechService, tmp_path: Path, voice: str, text: str, fmt: str
) -> None:
    plan = speech.plan(text, voice=voice, format=fmt)
    target = tmp_path / f"out.{FORMATS[fmt].extension}"
    result = speech.write(plan, target)
    data = target.read_bytes()
    assert result.bytes == len(data) > 0
    assert not list(tmp_path.glob("*.part"))
    decoded = decode(data, fmt)
    assert result.duration_s > 1.0
    assert decoded.duration_s == pytest.approx(result.duration_s, abs=0.1)


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_streamed_pieces_make_one_valid_file(speech: SpeechService, fmt: str) -> None:
    plan = speech.plan(ENGLISH * 3, voice="espeak:en-us", format=fmt)
    pieces = list(speech.stream(plan))
    assert len(pieces) > 1
    samples = sum(c.size for c in speech.samples(plan))
    decoded = decode(b"".join(pieces), fmt)
    assert decoded.duration_s == pytest.approx(samples / plan.voice.sample_rate, abs=0.1)


@pytest.mark.parametrize("voice", ["piper:en_US-joe-medium", "espeak:en-us"])
def test_speed_changes_the_duration_for_every_engine(speech: SpeechService, voice: str) -> None:
    def seconds(speed: float) -> float:
        plan = speech.plan(ENGLISH, voice=voice, speed=speed)
        return sum(c.size for c in speech.samples(plan)) / plan.voice.sample_rate

    normal = seconds(1.0)
    assert seconds(0.25) == pytest.approx(normal * 4, rel=0.3)
    assert seconds(0.5) == pytest.approx(normal * 2, rel=0.3)
    assert seconds(2.0) == pytest.approx(normal / 2, rel=0.3)
    assert seconds(4.0) == pytest.approx(normal / 4, rel=0.3)


@pytest.mark.usefixtures("ffmpeg")
def test_long_text_is_spoken_whole(speech: SpeechService, tmp_path: Path) -> None:
    """20,000+ characters: the audio grows with the text and every sentence is reported."""
    paragraph = (
        "The quick brown fox jumps over the lazy dog near the river bank. "
        "Then it rests for a while, and watches the water go by. "
    )
    short = paragraph * 20
    long = paragraph * 170
    assert len(long) >= 20_000
    durations = []
    for text in (short, long):
        reports: list[float] = []
        plan = speech.plan(text, voice="espeak:en-us", format="flac")
        target = tmp_path / "long.flac"
        result = speech.write(plan, target, reports.append)
        assert reports == sorted(reports) and reports[-1] == 1.0
        assert len(reports) == text.count(".")  # one report per sentence
        decoded = decode(target.read_bytes(), "flac")
        assert decoded.duration_s == pytest.approx(result.duration_s, abs=0.2)
        durations.append(result.duration_s)
    assert durations[1] / durations[0] == pytest.approx(170 / 20, rel=0.03)
