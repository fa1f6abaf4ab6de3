"""SSML marks inside a sentence: the sentence is one engine call, said as one sentence (no
silence at the mark), and the mark timed where the word after it begins; marks at a
sentence's start or end, between sentences, side by side, in Chinese and in a text of two
voices keep their places. Through the HTTP API, on real audio (espeak-ng, the tone engine;
Kokoro's voices in the slow layer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, Speech, wait_done
from gaps import longest_silence, pcm
from sayfile.app import create_app
from sayfile.audio.formats import Samples
from sayfile.engines.base import WordSpan
from sayfile.engines.tone import ToneEngine
from sayfile.models import Voice
from sayfile.settings import Settings
from sayfile.speech.scheduler import Lane

ESPEAK = {"engines": ["espeak"], "default_voice": "espeak:en-us"}
BEFORE, AFTER = "We met our friends at the", "station and took the train home together."
SENTENCE = f"{BEFORE} {AFTER}"
MARKED = f'<speak>{BEFORE} <mark name="here"/>{AFTER}</speak>'


def _job(client: TestClient, text: str, **body: object) -> dict[str, Any]:
    r = client.post("/jobs", json={"text": text, "format": "wav", "loudness": "off", **body})
    assert r.status_code == 202, r.text
    done = wait_done(client, str(r.json()["status_url"]))
    assert done["status"] == "done", done
    timings: dict[str, Any] = client.get(f"/jobs/{done['id']}/timings").json()
    timings["audio"] = client.get(str(done["audio_url"])).content
    return timings


def _word(timings: dict[str, Any], text: str, after: float = 0.0) -> dict[str, Any]:
    word: dict[str, Any] = next(
        w for w in timings["words"] if w["text"].split()[0] == text and w["start"] >= after
    )
    return word


def _marks(timings: dict[str, Any]) -> dict[str, float]:
    return {mark["name"]: mark["time"] for mark in timings["marks"]}


@pytest.mark.slow  # espeak-ng runs in processes of its own
def test_a_mark_inside_a_sentence_is_said_as_the_sentence_without_it_and_timed_at_its_word(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**ESPEAK)
    marked = _job(client, MARKED)
    plain = _job(client, SENTENCE)
    # One engine call: the same audio as the sentence without the mark, sample for sample
    # (it had been two calls, with 0.3 s of silence between "the" and "station").
    assert [piece["text"] for piece in marked["pieces"]] == [SENTENCE]
    samples, rate = pcm(marked["audio"])
    assert np.array_equal(samples, pcm(plain["audio"])[0])
    the, station = _word(marked, "the"), _word(marked, "station")
    assert (
        longest_silence(samples, rate, (the["start"] + the["end"]) / 2, station["start"] + 0.05)
        < 0.1
    )
    # The mark is where the word after it begins, and its sound is heard from there.
    assert _marks(marked) == {"here": station["start"]}
    assert station["start_char"] == SENTENCE.index("station")
    assert the["end"] <= station["start"] < station["end"]


def test_marks_at_a_sentences_start_and_end_between_sentences_and_side_by_side(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    text = (
        '<speak><mark name="start"/>One two <mark name="a"/><mark name="b"/>three. '
        '<mark name="between"/>Four <mark name="c"/>five six.<mark name="end"/></speak>'
    )
    timings = _job(client, text)
    assert [piece["text"] for piece in timings["pieces"]] == ["One two three.", "Four five six."]
    marks = _marks(timings)
    second = timings["pieces"][1]
    assert marks["start"] == timings["pieces"][0]["start"] == 0.0
    assert marks["a"] == marks["b"] == _word(timings, "three.")["start"]
    assert marks["between"] == second["start"] == _word(timings, "Four")["start"]
    assert marks["c"] == _word(timings, "five")["start"] > marks["between"]
    assert marks["end"] == pytest.approx(timings["duration"], abs=0.01)
    assert [mark["name"] for mark in timings["marks"]] == ["start", "a", "b", "between", "c", "end"]


def test_a_mark_in_chinese_text_keeps_the_sentence_whole_and_its_words_placed(
    make_client: Callable[..., TestClient],
) -> None:
    # The tone engine's words are runs without spaces: the whole sentence is one word here,
    # so the mark falls inside it, at its share of the word by characters.
    client = make_client(**TONES)
    timings = _job(client, '<speak>今天的天气<mark name="m"/>非常好。</speak>')
    assert [piece["text"] for piece in timings["pieces"]] == ["今天的天气非常好。"]
    (word,) = timings["words"]
    assert (word["start_char"], word["end_char"]) == (0, len("今天的天气 非常好。"))
    share = 5 / len("今天的天气非常好。")
    expected = word["start"] + share * (word["end"] - word["start"])
    assert _marks(timings)["m"] == pytest.approx(expected, abs=0.002)


def test_a_mark_inside_a_word_leaves_the_word_whole_and_falls_at_its_share_of_it(
    make_client: Callable[..., TestClient],
) -> None:
    # The word had been said as two ("Hel lo"): a space put where only the mark parted it.
    client = make_client(**TONES)
    timings = _job(client, '<speak>Say hel<mark name="m"/>lo to them.</speak>')
    assert [piece["text"] for piece in timings["pieces"]] == ["Say hello to them."]
    assert [word["text"] for word in timings["words"]] == ["Say", "hello", "to", "them."]
    word = _word(timings, "hello")
    expected = word["start"] + 3 / 5 * (word["end"] - word["start"])
    assert _marks(timings)["m"] == pytest.approx(expected, abs=0.002)


@pytest.mark.slow  # espeak-ng runs in processes of its own
def test_marks_in_a_text_of_two_voices_stay_with_their_words(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**ESPEAK)
    text = (
        '<speak>Good <mark name="en"/>morning to you <mark name="switch"/>'
        '<voice name="espeak:fr-fr">bonjour <mark name="fr"/>tout le monde.</voice></speak>'
    )
    timings = _job(client, text)
    pieces = timings["pieces"]
    assert [(p["text"], p["voice"]) for p in pieces] == [
        ("Good morning to you", "espeak:en-us"),
        ("bonjour tout le monde.", "espeak:fr-fr"),
    ]
    marks = _marks(timings)
    assert marks["en"] == _word(timings, "morning")["start"]
    assert marks["switch"] == pieces[1]["start"]
    # espeak-ng says "tout le monde" as one word: the mark is where it begins.
    assert marks["fr"] == _word(timings, "tout", pieces[1]["start"])["start"]


@pytest.mark.slow  # espeak-ng runs in processes of its own
def test_without_word_times_the_words_are_said_apart_at_the_mark_as_before(
    make_client: Callable[..., TestClient],
) -> None:
    # espeak-ng's command (no library) tells no word times: the mark cannot be placed in one
    # call, so its sentence is said in two, the mark where the second begins.
    client = make_client(**ESPEAK, espeak_library=False)
    marked = _job(client, MARKED)
    assert marked["words"] is None
    first = _job(client, BEFORE)
    first_samples, rate = pcm(first["audio"])
    samples, _ = pcm(marked["audio"])
    assert _marks(marked) == {"here": pytest.approx(first_samples.size / rate, abs=1e-3)}
    assert np.array_equal(samples[: first_samples.size], first_samples)


class _Untimed(ToneEngine):
    """The tone engine telling no word times (as espeak-ng's command does), keeping each text
    it is asked to say."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        self.asked.append(text)
        return self.synthesize(voice, text, speed), None


def test_a_voice_without_word_times_says_a_sentence_with_a_mark_once_in_its_parts(
    tmp_path: Path,
) -> None:
    """Whether a voice's words are timed is learnt from its first piece (the start-up's
    warm-up): a sentence with a mark in it is then said in its parts at once, not whole first
    and then again in parts."""
    engine = _Untimed()
    with TestClient(create_app(Settings(data_dir=tmp_path, **TONES), [engine])) as client:
        timings = _job(client, MARKED)
    assert timings["words"] is None
    assert SENTENCE not in engine.asked
    assert engine.asked[-2:] == [BEFORE, AFTER]
    # Where the part before the mark ends: a beep and a gap for each word, then its pause.
    here = len(BEFORE.split()) * 0.16 + 0.2
    assert _marks(timings) == {"here": pytest.approx(here, abs=1e-3)}


@pytest.mark.parametrize(
    ("voice", "before", "word", "after"),
    [
        ("kokoro:af_heart", "We met our friends at the ", "station", " and took the train home."),
        ("kokoro:zf_xiaobei", "今天的天气", "非常", "好，我们去河边散步吧。"),
    ],
)
def test_kokoro_says_a_sentence_with_a_mark_as_one_without_a_pause_at_it(
    speech: Speech, voice: str, before: str, word: str, after: str
) -> None:
    import asyncio

    def said(text: str) -> Any:
        plan = speech.plan(text, voice=voice, format="wav", loudness="off")
        turn = speech.synthesizer.executor.turn(Lane.interactive)
        return asyncio.run(speech.synthesizer.render(plan, turn))

    marked = said(f'<speak>{before}<mark name="m"/>{word}{after}</speak>')
    plain = said(f"{before}{word}{after}")
    assert len(marked.timings.pieces) == 1
    samples, rate = pcm(marked.data)
    words = list(marked.timings.words or ())
    heard = next(w for w in words if w.text == word)
    before_it = words[words.index(heard) - 1]
    middle = (before_it.start + before_it.end) / 2
    # No more silence than the sentence said without the mark has there (it had been 0.17-0.24
    # s: docs/benchmarks.md, "A mark inside a sentence").
    assert len(samples) == len(pcm(plain.data)[0])
    assert longest_silence(samples, rate, middle, heard.start + 0.03) < 0.1
    (mark,) = marked.timings.marks
    assert mark.start == heard.start
