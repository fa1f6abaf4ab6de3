"""A mix of two Kokoro voices, listened to: the speech recognizer hears it as well as either
voice alone, it is a sound of its own (not silently one of the two), and its sample is made
once for every spelling of the mix."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import Speech, decode
from listening import Listener, word_error_rate

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ffmpeg")]

# Harvard sentences (IEEE 1969), said as one text by each voice.
SENTENCES = (
    "The birch canoe slid on the smooth planks. Rice is often served in round bowls. "
    "The juice of lemons makes fine punch."
)
MIX = "af_bella(2)+af_sky(1)"


def spoken(speech: Speech, voice: str, tmp: Path) -> tuple[str, bytes]:
    """The voice's id and its WAV file of SENTENCES."""
    plan = speech.plan(SENTENCES, format="wav", voice=voice)
    target = tmp / "spoken.wav"
    speech.write(plan, target)
    return plan.voice.id, target.read_bytes()


def samples_of(wav: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav)) as audio:
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")


def test_a_mix_is_heard_as_well_as_its_voices_and_sounds_like_neither(
    voices: Speech, listener: Listener, tmp_path: Path
) -> None:
    errors = {}
    audio = {}
    for voice in ("kokoro:af_bella", "kokoro:af_sky", MIX):
        voice_id, wav = spoken(voices, voice, tmp_path)
        errors[voice_id] = word_error_rate(SENTENCES, listener.hear(wav, "en"))
        audio[voice_id] = samples_of(wav)
    mixed = "kokoro:af_bella(67)+af_sky(33)"
    assert errors[mixed] <= max(errors["kokoro:af_bella"], errors["kokoro:af_sky"]) + 0.05, errors
    for alone in ("kokoro:af_bella", "kokoro:af_sky"):
        same_length = len(audio[alone]) == len(audio[mixed])
        assert not (same_length and np.array_equal(audio[alone], audio[mixed])), alone


def test_a_mix_has_one_sample_for_every_spelling(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    first = client.get(f"/voices/{MIX}/sample")
    assert first.status_code == 200, first.text
    assert decode(first.content, "mp3").duration_s > 1.0
    # Other spellings find the file the first made (one id, one cache key): no new synthesis.
    for spelling in ("kokoro:af_bella(67)+af_sky(33)", "af_sky+af_bella(2)"):
        again = client.get(f"/voices/{spelling}/sample")
        assert again.status_code == 200 and again.content == first.content
    audio = client.app.state.settings.data_dir / "audio"  # type: ignore[attr-defined]
    made = {path.stat().st_ino for path in audio.iterdir() if path.suffix == ".mp3"}
    assert len(made) == 1


def test_the_command_line_refuses_a_bad_mix_saying_why(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "COLUMNS": "300"}
    result = subprocess.run(
        [sys.executable, "-m", "sayfile", "say", "Hi.", "--voice", "af_bella+zf_xiaobei"],
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    message = " ".join(result.stderr.decode().split())
    assert "Cannot mix the voice 'af_bella+zf_xiaobei': its voices speak different languages" in (
        message
    )
    assert "af_bella(2)+af_sky(1)" in message
    assert not list(tmp_path.iterdir())
