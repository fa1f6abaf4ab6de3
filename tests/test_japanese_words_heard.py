"""Kokoro's Japanese word timings against a speech recognizer's: Whisper base's word starts on
the decoded audio of one short paragraph (held out: not used to build the mapping), every
word once and in order, each Han character inside exactly one word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Speech
from listening import Listener
from sayfile.audio.timings import cues
from sayfile.audio.word_captions import vtt_with_words
from test_word_timings_heard import _agreement, _differences

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ffmpeg")]

# Akutagawa Ryūnosuke, 蜘蛛の糸 (1918), its opening: public domain.
PARAGRAPH = (
    "ある日の事でございます。御釈迦様は極楽の蓮池のふちを、独りでぶらぶら御歩きになって"
    "いらっしゃいました。"
)
_HAN = re.compile("[\u4e00-\u9fff]")
# Kana and kanji, and the long-vowel mark.
_SAID = re.compile("[\u3041-\u3096\u30a1-\u30fa\u30fc\u4e00-\u9fff]")
# Kana written one way and said another (を as オ, ヅ and ヂ as ズ and ジ).
_SAME_SOUND = str.maketrans("ヲヅヂ", "オズジ")


def _units(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Each kana of what each word says (as Open JTalk reads it, so that 極楽 and ごくらく
    count alike), the first of each word with the word's start: Whisper's Japanese "words"
    are pieces of its tokens, a kana or two, not words."""
    import pyopenjtalk

    units = []
    for text, start in words:
        kana = str(pyopenjtalk.g2p(text, kana=True)).translate(_SAME_SOUND)
        for n, char in enumerate(c for c in kana if "\u30a1" <= c <= "\u30fa" or c == "ー"):
            units.append((char, start if n == 0 else float("nan")))
    return units


def test_japanese_word_starts_agree_with_whisper_and_every_word_is_there_once(
    speech: Speech, listener: Listener, tmp_path: Path
) -> None:
    plan = speech.plan(PARAGRAPH, voice="kokoro:jf_alpha", format="wav")
    target = tmp_path / "paragraph.wav"
    timings = speech.write(plan, target).timings
    assert timings.words is not None, timings.words_note
    # Every word once and in order, at its place in the text; each Han character in one.
    covered = [0] * len(PARAGRAPH)
    for word in timings.words:
        assert word.chars is not None and PARAGRAPH[word.chars[0] : word.chars[1]] == word.text
        for at in range(*word.chars):
            covered[at] += 1
    assert all(covered[m.start()] == 1 for m in _HAN.finditer(PARAGRAPH))
    assert "".join(w.text for w in timings.words) == "".join(_SAID.findall(PARAGRAPH))
    starts = [word.start for word in timings.words]
    assert starts == sorted(starts) and starts[-1] < timings.duration
    heard = listener.word_starts(target.read_bytes(), "ja")
    ours = [(word.text, word.start) for word in timings.words]
    differences = _differences(_units(ours), _units(heard))
    assert len(differences) >= 12, (ours, heard)
    median, p95 = _agreement(differences, "jf_alpha")
    # Measured: 17 starts, median 0.051 s, p95 0.128 s (the 80/200 ms met here); a
    # word off by one (300 ms or more) is what this catches.
    assert median <= 0.1 and p95 <= 0.25, (median, p95, ours, heard)
    # The karaoke captions as `subtitles.vtt?words=true` renders them (the same call on the
    # job's timings; the route itself is tested with the tone engine): each word after the
    # first of its cue tagged with its start.
    captions = cues(timings, None)
    body = vtt_with_words(captions, timings.words)
    tagged = re.findall(r"<00:00:(\d\d\.\d{3})>([^<\n]+)", body)
    assert len(tagged) == len(timings.words) - len(captions) > 0, body
    by_start = {round(w.start, 3): w.text for w in timings.words}
    assert all(said.startswith(by_start[float(at)]) for at, said in tagged), body
