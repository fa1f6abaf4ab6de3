"""Words before a pause end where Kokoro's sound does, judged on the file's decoded audio: after
such a word's end the audio is silent, before it there is sound (English and Mandarin, with
commas); every word once and in order."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import Speech

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ffmpeg")]

# Everyday sentences written for this test, with a pause after most clauses.
ENGLISH = (
    "When the rain stopped, we walked to the market, bought some bread and cheese, and went "
    "home along the river. It was late."
)
MANDARIN = "下雨的时候，我们在家里看书，喝茶，聊天。晚上雨停了，我们出去散步。"
_PAUSE_AFTER = re.compile(r"\s*[,.;:!?，。；：！？、]")


def _levels(path: Path) -> tuple[np.ndarray, int]:
    """dB of the file's samples over 10 ms every 2 ms, and the samples per step."""
    with wave.open(str(path)) as reader:
        rate = reader.getframerate()
        audio = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(float)
    window, step = rate // 100, rate // 500
    energy = np.concatenate([[0.0], np.cumsum(audio * audio)])
    starts = np.arange(0, audio.size - window, step)
    return 10 * np.log10((energy[starts + window] - energy[starts]) / window + 1e-9), step


@pytest.mark.parametrize(
    ("voice", "text"),
    [("kokoro:af_heart", ENGLISH), ("kokoro:zf_xiaobei", MANDARIN)],
    ids=["english", "mandarin"],
)
def test_a_word_before_a_pause_ends_where_its_sound_falls_silent(
    speech: Speech, tmp_path: Path, voice: str, text: str
) -> None:
    target = tmp_path / "said.wav"
    timings = speech.write(speech.plan(text, voice=voice, format="wav"), target).timings
    assert timings.words is not None, timings.words_note
    words = timings.words
    for word in words:
        assert word.chars is not None and text[word.chars[0] : word.chars[1]] == word.text
    assert [w.chars for w in words] == sorted(w.chars for w in words if w.chars is not None)
    level, step = _levels(target)
    loudest = float(level.max())
    rate = 24_000

    def frames(start: float, end: float) -> np.ndarray:
        return level[max(0, round(start * rate / step)) : max(0, round(end * rate / step))]

    checked = []
    for index, word in enumerate(words):
        following = words[index + 1].start if index + 1 < len(words) else timings.duration
        assert word.start <= word.end <= following
        assert word.chars is not None
        if not _PAUSE_AFTER.match(text, word.chars[1]):
            continue
        # A pause the voice says (50 ms or more of silence before the next word); a comma
        # it runs through keeps its end where the next word begins.
        quiet = frames(word.end, following) < loudest - 35
        if not np.convolve(quiet, np.ones(25), "valid").max(initial=0) >= 25:
            continue
        after = frames(word.end, min(word.end + 0.06, following - 0.03))
        before = frames(word.end - 0.05, word.end)
        checked.append((word.text, round(word.end, 3)))
        assert after.size and after.max() < loudest - 32, (word.text, after.max() - loudest)
        assert before.max() > loudest - 40, (word.text, before.max() - loudest)
    assert len(checked) >= 4, checked
