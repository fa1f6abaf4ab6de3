"""Kokoro's word timings against a speech recognizer's: Whisper base's word timestamps on the
decoded audio of one English and one Mandarin paragraph (held out: not used to build the
mapping), each word and Han character once and in order."""

from __future__ import annotations

import difflib
import re
import statistics
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import Speech
from listening import Listener, simplified
from sayfile.audio.timings import Timing

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ffmpeg")]

# Jane Austen, Pride and Prejudice (1813), chapter 1: public domain.
ENGLISH = (
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife. However little known the feelings or views of such "
    "a man may be on his first entering a neighbourhood, this truth is so well fixed in the "
    "minds of the surrounding families, that he is considered as the rightful property of "
    "some one or other of their daughters."
)
# Lu Xun, 故乡 (1921): public domain.
MANDARIN = (
    "我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。时候既然是深冬；渐近故乡时，天气又阴晦"
    "了，冷风吹进船舱中，呜呜的响，从篷隙向外一望，苍黄的天底下，远近横着几个萧索的荒村，没有"
    "一些活气。我的心禁不住悲凉起来了。"
)
_HAN = re.compile("[\u4e00-\u9fff]")


def _english_units(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Each Latin word, lower case without marks, with its start; a word timed together
    with the next ("of the") gives its start to the first."""
    units = []
    for text, start in words:
        for n, part in enumerate(re.findall(r"[a-z']+", text.lower())):
            units.append((part, start if n == 0 else float("nan")))
    return units


def _han_units(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Each Han character, the first of each word with the word's start."""
    units = []
    for text, start in words:
        for n, char in enumerate(_HAN.findall(simplified(text))):
            units.append((char, start if n == 0 else float("nan")))
    return units


def _differences(
    ours: list[tuple[str, float]], heard: list[tuple[str, float]], signed: bool = False
) -> list[float]:
    """|start difference| (or Whisper's minus ours, `signed`) of each unit both time and both
    start a word at."""
    matcher = difflib.SequenceMatcher(None, [u for u, _ in ours], [u for u, _ in heard], False)
    found = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mine, theirs = ours[block.a + k][1], heard[block.b + k][1]
            if not (np.isnan(mine) or np.isnan(theirs)):
                found.append(theirs - mine if signed else abs(mine - theirs))
    return found


def timed_words(
    speech: Speech, text: str, voice: str, target: Path, speed: float = 1.0
) -> list[Timing]:
    """The words of `text` said by `voice` into the WAV file `target`, each as written at its
    place in the text, none ending before it starts nor after the audio."""
    timings = speech.write(speech.plan(text, voice=voice, format="wav", speed=speed), target)
    words = timings.timings.words
    assert words is not None, timings.timings.words_note
    for word in words:
        assert word.chars is not None and text[word.chars[0] : word.chars[1]] == word.text
    assert all(w.start <= w.end for w in words)
    assert words[-1].end <= timings.timings.duration
    return list(words)


def _agreement(differences: list[float], label: str) -> tuple[float, float]:
    """The median and the 95th percentile of `differences` (start differences in seconds),
    printed with `label` and their count."""
    median = statistics.median(differences)
    p95 = float(np.percentile(differences, 95))
    print(f"{label}: {len(differences)} starts, median {median:.3f} s, p95 {p95:.3f} s")
    return median, p95


def _onsets_after_pauses(
    path: Path, starts: list[float], quiet_s: float = 0.15
) -> list[tuple[float, float]]:
    """(our start, where the sound begins) of each word the audio is quiet before for at least
    `quiet_s`: the first 5 ms step louder than 35 dB below the loudest, after the quiet."""
    with wave.open(str(path)) as reader:
        rate = reader.getframerate()
        audio = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(float)
    step = rate // 200
    level = np.sqrt(np.convolve(audio**2, np.ones(2 * step) / (2 * step), "same"))[::step]
    loud = level > level.max() * 10 ** (-35 / 20)
    found: list[tuple[float, float]] = []
    for start in starts:
        at = round(start * rate / step)
        quiet = 0
        for index in range(max(0, at - 60), min(len(loud), at + 20)):
            if loud[index] and quiet >= round(quiet_s * 200):
                # The onset of a word before this one (or of this one, already counted).
                if index >= at - 20 and index * step / rate not in {o for _, o in found}:
                    found.append((start, index * step / rate))
                break
            quiet = 0 if loud[index] else quiet + 1
    return found


@pytest.mark.parametrize(
    ("voice", "text", "speed", "aligned_p95"),
    [
        # The 0.2 s, but for Austen at 1.0: see below.
        ("kokoro:af_heart", ENGLISH, 1.0, 0.25),
        ("kokoro:af_heart", ENGLISH, 1.5, 0.2),
        ("kokoro:zf_xiaobei", MANDARIN, 1.0, 0.2),
        ("kokoro:zf_xiaobei", MANDARIN, 1.5, 0.2),
    ],
    ids=["english", "english-x1.5", "mandarin", "mandarin-x1.5"],
)
def test_word_starts_agree_with_the_audio_and_whisper_and_every_word_is_there_once(
    speech: Speech,
    listener: Listener,
    tmp_path: Path,
    voice: str,
    text: str,
    speed: float,
    aligned_p95: float,
) -> None:
    target = tmp_path / "paragraph.wav"
    # Every word (every Han character) once and in order, each at its place in the text.
    words = [(w.text, w.start) for w in timed_words(speech, text, voice, target, speed)]
    mandarin = voice.startswith("kokoro:z")
    if mandarin:
        assert "".join(w for w, _ in words) == "".join(_HAN.findall(text))
    else:
        assert [w for w, _ in _english_units(words)] == re.findall(r"[a-z']+", text.lower())
    # Where a word follows a pause, its sound begins where its timing does (measured: within
    # 25 ms, timed from its first phoneme less the model's 40 ms lead).
    onsets = _onsets_after_pauses(target, [start for _, start in words])
    assert len(onsets) >= 4
    early = [ours - sound for ours, sound in onsets]
    print(f"after pauses: {len(early)}, median signed {statistics.median(early):+.3f} s")
    assert statistics.median(abs(ours - sound) for ours, sound in onsets) <= 0.04, onsets
    language = "zh" if mandarin else "en"
    units = _han_units if mandarin else _english_units
    # The measure: Whisper's forced alignment of the text said (its word timestamps
    # for the known words). Measured (docs/benchmarks.md, "Word starts against Whisper's
    # forced alignment"): median 0.023-0.058 s, p95 0.089-0.133 s, but 0.211 s for this
    # English paragraph at 1.0 (Whisper early on "of", "the", "or"; held-out English at 1.0,
    # pooled: 0.184 s). Every word is aligned, so nearly every start is compared.
    aligned = _differences(
        units(words), units(listener.aligned_starts(target.read_bytes(), language, text))
    )
    assert len(aligned) >= 0.9 * len(words), (len(aligned), len(words))
    median, p95 = _agreement(aligned, f"{voice} x{speed}, aligned")
    assert median <= 0.08 and p95 <= aligned_p95, (median, p95)
    # Whisper's own transcription, timed: it may start a word after a comma inside the pause.
    heard = listener.word_starts(target.read_bytes(), language)
    differences = _differences(units(words), units(heard))
    signed = _differences(units(words), units(heard), signed=True)
    median, p95 = _agreement(differences, f"{voice} x{speed}, heard")
    print(f"median signed (Whisper's minus ours) {statistics.median(signed):+.3f} s")
    # Whisper base hears fewer of the characters of Mandarin said fast.
    assert len(differences) >= (30 if speed > 1 else 40) if mandarin else 30, (words, heard)
    # Measured (docs/benchmarks.md, "Word onsets"): median 0.028-0.058 s, p95 0.131-0.227 s
    # (English at 1.0 the highest: Whisper starts a word after a comma inside the pause);
    # every signed median has Whisper earlier. On a CPU without VNNI, with the exact model,
    # the English paragraph at 1.0 gave p95 0.300 s (2026-12-07; the forced alignment above
    # and the onsets held). Several words off by one (300 ms or more) fail.
    assert median <= 0.08 and p95 <= 0.32, (median, p95)


def test_word_times_follow_the_stretch_beyond_kokoros_own_speeds(
    speech: Speech, tmp_path: Path
) -> None:
    # Speed 3 is Kokoro's 2 stretched by 1.5: the words' times are stretched with the audio.
    text = "Stop. Wait here, then go. Now run home, quickly."
    plan = speech.plan(text, voice="kokoro:af_heart", format="wav", speed=3.0)
    target = tmp_path / "fast.wav"
    timings = speech.write(plan, target).timings
    assert timings.words is not None
    assert [w.text for w in timings.words] == [w.strip(",.") for w in text.split()]
    onsets = _onsets_after_pauses(target, [w.start for w in timings.words], quiet_s=0.05)
    assert len(onsets) >= 2, onsets
    assert statistics.median(abs(ours - sound) for ours, sound in onsets) <= 0.06, onsets
    assert timings.words[-1].end <= timings.duration
