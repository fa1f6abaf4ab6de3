"""A pronunciation inside a sentence (an SSML <phoneme>, a lexicon's IPA or pinyin): Kokoro
says the sentence in one call with the pronunciation's phonemes in place of the term's, with no
pause around it, the term one word of the timings; engines that read no pronunciation
(espeak-ng, Piper) say its written words in the sentence, as if it were not there."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import Speech, wait_done
from gaps import longest_silence, pcm
from listening import Listener, word_error_rate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import RenderedAudio

ENGLISH = (
    "kokoro:af_heart",
    '<speak>Please ask <phoneme alphabet="ipa" ph="wˈɪn">Nguyen</phoneme> to call me back '
    "tomorrow.</speak>",
    "Nguyen",
)
LEXICON = (
    "kokoro:af_heart",
    "Please ask Nguyen to call me back tomorrow.",
    "Nguyen",
)
MANDARIN = (
    "kokoro:zf_xiaobei",
    '<speak>我们<phoneme alphabet="x-pinyin" ph="zui4 chang2">最长</phoneme>的河是长江。</speak>',
    "最长",
)
NGUYEN = [{"language": "en", "term": "Nguyen", "replacement": "ipa:wˈɪn"}]


def _said(speech: Speech, text: str, voice: str, **request: Any) -> RenderedAudio:
    plan = speech.plan(text, voice=voice, format="wav", loudness="off", **request)
    turn = speech.synthesizer.executor.turn(Lane.interactive)
    return asyncio.run(speech.synthesizer.render(plan, turn))


@pytest.mark.parametrize(("voice", "text", "term"), [ENGLISH, LEXICON, MANDARIN])
def test_kokoro_says_a_pronunciation_in_its_sentence_in_one_call_without_pauses_around_it(
    speech: Speech, voice: str, text: str, term: str
) -> None:
    lexicon = tuple(NGUYEN) if text is LEXICON[1] else ()
    rendered = _said(speech, text, voice, lexicon=lexicon)
    # One engine call (it had been three: before the term, the term, after it).
    assert len(rendered.timings.pieces) == 1
    words = list(rendered.timings.words or ())
    heard = next(word for word in words if word.text == term)
    before, after = words[words.index(heard) - 1], words[words.index(heard) + 1]
    samples, rate = pcm(rendered.data)
    # No silence into the term or out of it (it had been 0.1-0.3 s on each side).
    into = longest_silence(samples, rate, (before.start + before.end) / 2, heard.start + 0.03)
    out = longest_silence(samples, rate, (heard.start + heard.end) / 2, after.start + 0.03)
    assert into < 0.1 and out < 0.1, (into, out)
    assert before.end <= heard.start < heard.end <= after.start
    assert heard.chars is not None


@pytest.mark.slow  # Whisper base
def test_whisper_hears_the_sentence_with_its_pronunciation_at_least_as_well_as_said_apart(
    speech: Speech, listener: Listener
) -> None:
    voice, text, _ = ENGLISH
    expected = "Please ask Win to call me back tomorrow."
    whole = _said(speech, text, voice)
    # As it was said before: the words before, the pronunciation, the words after, apart.
    parts = [
        _said(speech, "Please ask", voice),
        _said(speech, '<speak><phoneme alphabet="ipa" ph="wˈɪn">Nguyen</phoneme></speak>', voice),
        _said(speech, "to call me back tomorrow.", voice),
    ]
    apart = io.BytesIO()
    with wave.open(apart, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24_000)
        for part in parts:
            out.writeframes(pcm(part.data)[0].tobytes())
    heard_whole = listener.hear(whole.data, "en")
    heard_apart = listener.hear(apart.getvalue(), "en")
    error = word_error_rate(expected, heard_whole)
    assert error <= word_error_rate(expected, heard_apart), (heard_whole, heard_apart)
    assert error <= 0.125, heard_whole  # at most the name misheard


@pytest.mark.slow  # espeak-ng runs in processes of its own
def test_an_engine_that_reads_no_pronunciation_says_the_sentence_as_written_in_one_call(
    make_client: Callable[..., TestClient],
) -> None:
    # espeak-ng (and Piper) say a pronunciation's written words: the sentence is said as the
    # same text without the <phoneme> is, sample for sample (it had been three calls, the
    # term said alone with 0.3 s of silence on each side), every word timed.
    client = make_client(engines=["espeak"], default_voice="espeak:en-us")

    def job(text: str) -> tuple[dict[str, Any], bytes]:
        r = client.post("/jobs", json={"text": text, "format": "wav", "loudness": "off"})
        done = wait_done(client, str(r.json()["status_url"]))
        timings = client.get(f"/jobs/{done['id']}/timings").json()
        return timings, client.get(str(done["audio_url"])).content

    plain = "Please ask Nguyen to call me back tomorrow."
    timings, audio = job(ENGLISH[1])
    assert [piece["text"] for piece in timings["pieces"]] == [plain]
    assert np.array_equal(pcm(audio)[0], pcm(job(plain)[1])[0])
    assert [w["text"] for w in timings["words"]] == plain.rstrip(".").split()


def test_a_pronunciation_said_alone_where_another_cannot_be_read_keeps_every_word_timed(
    speech: Speech,
) -> None:
    # An English voice reads no pinyin: the sentence cannot be said in one call with both in
    # place, so the IPA one is said alone (as before), the pinyin's written word with the rest.
    text = (
        '<speak>Please ask <phoneme alphabet="ipa" ph="wˈɪn">Nguyen</phoneme> and '
        '<phoneme alphabet="x-pinyin" ph="li3">Lee</phoneme> to call me back.</speak>'
    )
    rendered = _said(speech, text, "kokoro:af_heart")
    assert [piece.text for piece in rendered.timings.pieces] == [
        "Please ask Nguyen and Lee to call me back."
    ]
    words = list(rendered.timings.words or ())
    said = ["Please", "ask", "Nguyen", "and", "Lee", "to", "call", "me", "back"]
    assert [word.text for word in words] == said
    starts = [word.start for word in words]
    assert starts == sorted(starts)
    nguyen = words[2]
    # Said alone: its audio is the pronunciation's, with the model's silences at its ends.
    alone = _said(speech, '<speak><phoneme ph="wˈɪn">Nguyen</phoneme></speak>', "kokoro:af_heart")
    assert nguyen.end - nguyen.start == pytest.approx(alone.duration_s, abs=0.002)


@pytest.mark.slow  # Kokoro loaded for an app of its own sentence limit
def test_a_pronunciation_the_sentence_limit_falls_inside_is_said_once_in_the_next_piece(
    make_client: Callable[..., TestClient],
) -> None:
    # The limit (72 characters) falls between "Nguyen" and "Elsa": the term's phonemes had
    # gone to the first piece and "Elsa Ann" been said again, as written, in the second.
    client = make_client(engines=["kokoro"], max_sentence_chars=72, default_voice="kokoro:af_heart")
    text = (
        "<speak>We walked along the quiet river for a long while and then asked "
        '<phoneme ph="wˈɪn ˈɛlsə ˈæn">Nguyen Elsa Ann</phoneme> about the way home.</speak>'
    )
    r = client.post("/jobs", json={"text": text, "format": "wav", "loudness": "off"})
    done = wait_done(client, str(r.json()["status_url"]))
    timings = client.get(f"/jobs/{done['id']}/timings").json()
    assert [piece["text"] for piece in timings["pieces"]] == [
        "We walked along the quiet river for a long while and then asked",
        "Nguyen Elsa Ann about the way home.",
    ]
    words = [word["text"] for word in timings["words"]]
    assert words[-5:] == ["Nguyen Elsa Ann", "about", "the", "way", "home"]
    assert words.count("Elsa") == 0


@pytest.mark.slow  # espeak-ng runs in processes of its own
@pytest.mark.parametrize(
    ("text", "lexicon"),
    [
        (
            '<speak>Please ask <phoneme ph="wˈɪn">Nguyen</phoneme>\'s office '
            '(or <phoneme ph="wˈɪn">Nguyen</phoneme>) to call me back.</speak>',
            [],
        ),
        ("Please ask Nguyen's office (or Nguyen) to call me back.", NGUYEN),
    ],
)
def test_words_written_against_a_pronounced_term_are_said_against_it_as_written(
    make_client: Callable[..., TestClient], text: str, lexicon: list[dict[str, str]]
) -> None:
    # "Nguyen's" had been said "Nguyen 's" (Whisper: "UNS Office"), "(Nguyen)" "( Nguyen )":
    # a space put where only the markup or the lexicon's term had parted the words.
    client = make_client(engines=["espeak"], default_voice="espeak:en-us")

    def job(text: str, **body: object) -> tuple[dict[str, Any], bytes]:
        request = {"text": text, "format": "wav", "loudness": "off", **body}
        done = wait_done(client, str(client.post("/jobs", json=request).json()["status_url"]))
        timings = client.get(f"/jobs/{done['id']}/timings").json()
        return timings, client.get(str(done["audio_url"])).content

    plain = "Please ask Nguyen's office (or Nguyen) to call me back."
    timings, audio = job(text, lexicon=lexicon)
    assert [piece["text"] for piece in timings["pieces"]] == [plain]
    assert np.array_equal(pcm(audio)[0], pcm(job(plain)[1])[0])
    assert [w["text"] for w in timings["words"]][2] == "Nguyen's"
