"""Word timings through the pipeline and the HTTP API, checked on the decoded audio: the tone
engine says one beep per word and tells where each is (as Kokoro tells its words), so each
word's time must land on its beep; and the mapping of said words back to the written text
(normalisation's changes), with hand-made times."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, decode, sayfile_cli, wait_done
from hanging import VOICE as HANG_VOICE
from hanging import hanging_engines
from sayfile.audio.joined_timings import joined
from sayfile.audio.timings import Timing, Timings, cues
from sayfile.audio.word_captions import vtt_with_words
from sayfile.engines import ENGINES
from sayfile.speech.word_times import SpokenWords, piece_words
from sayfile.text.said_places import merged_words, written_spans

TEXT = "The first sentence is here. Then a second one follows it, and ends."


def _job(client: TestClient, **body: object) -> dict[str, object]:
    r = client.post("/jobs", json=body)
    assert r.status_code == 202, r.text
    done = wait_done(client, str(r.json()["status_url"]))
    assert done["status"] == "done", done
    return done


def _pcm(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2"), rate


@pytest.mark.usefixtures("ffmpeg")
def test_each_words_time_is_where_its_beep_is_heard_and_its_characters_are_the_text(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    job = _job(client, text=TEXT, format="wav")
    samples, rate = _pcm(client.get(str(job["audio_url"])).content)
    timings = client.get(f"/jobs/{job['id']}/timings").json()
    words = timings["words"]
    assert timings["words_note"] is None
    # Every word of the text once, in order, with its place in the text.
    assert [w["text"] for w in words] == TEXT.split()
    assert all(TEXT[w["start_char"] : w["end_char"]] == w["text"] for w in words)
    assert [w["sentence"] for w in words] == [0] * 5 + [1] * 8
    for word in words:
        inside = samples[int(word["start"] * rate) + 10 : int(word["end"] * rate) - 10]
        assert np.abs(inside.astype(np.int32)).max() > 6000  # the beep is heard all through
        before = samples[int(word["start"] * rate) - 100 : int(word["start"] * rate) - 5]
        assert np.abs(before.astype(np.int32)).max() < 500, word  # the beep starts there
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)


@pytest.mark.usefixtures("ffmpeg")
def test_vtt_with_words_puts_each_words_start_inside_its_cue(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    job = _job(client, text=TEXT, format="wav")
    words = client.get(f"/jobs/{job['id']}/timings").json()["words"]
    r = client.get(f"/jobs/{job['id']}/subtitles.vtt", params={"words": "true"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/vtt")
    body = r.text
    assert body.startswith("WEBVTT\n\n") and "NOTE" not in body
    tags = re.findall(r"<(\d\d):(\d\d):(\d\d)\.(\d{3})>", body)
    tagged = [
        round(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, 3) for h, m, s, ms in tags
    ]
    # Every word after the first of its cue is tagged with its own start.
    assert tagged == [round(w["start"], 3) for w in words if w["text"] not in ("The", "Then")]
    assert "The <" in body and "<00:00:" in body
    plain = client.get(f"/jobs/{job['id']}/subtitles.vtt").text
    assert re.sub(r"<[^>]+>", "", body) == plain


@pytest.mark.usefixtures("ffmpeg")
def test_srt_max_chars_cuts_cues_at_words_and_a_bad_value_is_refused(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    job = _job(client, text=TEXT, format="wav")
    words = client.get(f"/jobs/{job['id']}/timings").json()["words"]
    srt = client.get(f"/jobs/{job['id']}/subtitles.srt", params={"max_chars": 12}).text
    blocks = [b.split("\n") for b in srt.strip().split("\n\n")]
    texts = [b[2] for b in blocks]
    assert all(len(t) <= 12 for t in texts) and " ".join(texts) == " ".join(TEXT.split())
    # A cue starts when its first word does.
    by_start = {w["start"]: w["text"] for w in words}
    for block in blocks:
        start = block[1].split(" --> ")[0]
        h, m, s = start.replace(",", ".").split(":")
        seconds = round(int(h) * 3600 + int(m) * 60 + float(s), 3)
        assert by_start.get(seconds) == block[2].split()[0]
    r = client.get(f"/jobs/{job['id']}/subtitles.srt", params={"max_chars": 0})
    assert r.status_code == 422 and "max_chars" in r.text


def test_words_of_an_engine_that_does_not_time_them_are_null_and_vtt_says_so(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test's hanging engine beeps without saying where its words are (when not told to
    # hang), as an engine without word times does.
    monkeypatch.setitem(ENGINES, "hang", hanging_engines(threading.Event())[0])
    client = make_client(engines=["hang"], default_voice=HANG_VOICE)
    job = _job(client, text="Hello there, this is a beep.", format="wav")
    timings = client.get(f"/jobs/{job['id']}/timings").json()
    assert timings["words"] is None and "Kokoro" in timings["words_note"]
    body = client.get(f"/jobs/{job['id']}/subtitles.vtt?words=true").text
    assert "NOTE" in body and "Hello there" in body and "<00:" not in body


def test_a_span_normalisation_changed_is_one_word_timed_from_its_first_said_word() -> None:
    written, said = "他花了¥12。", "他花了十二元。"
    # The engine's words of the said text: 他 花 了 十二 元, samples at 24 kHz.
    spans = [(0, 1), (1, 2), (2, 3), (3, 5), (5, 6)]
    engine = [(s, e, 2400 * i, 2400 * i + 2000) for i, (s, e) in enumerate(spans)]
    words = piece_words(written, said, engine, 24_000, lead_s=0.5)
    assert [written[s:e] for s, e, _, _ in words] == ["他", "花", "了", "¥12"]
    money = words[-1]
    assert money[2] == pytest.approx(0.5 + 3 * 0.1)
    assert money[3] == pytest.approx(0.5 + (4 * 2400 + 2000) / 24_000)


def test_a_rewritten_span_with_a_space_in_it_is_one_word_not_cut_at_a_said_space() -> None:
    """ "3:15 pm" said "three fifteen PM": the space inside the written span is not matched to
    a said space between "three" and "fifteen" (which timed "3:15" as "three" alone and "pm"
    as "fifteen PM")."""
    written, said = "at 3:15 pm now", "at three fifteen PM now"
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", said)]
    engine = [(s, e, 2400 * i, 2400 * i + 2000) for i, (s, e) in enumerate(spans)]
    words = piece_words(written, said, engine, 24_000, lead_s=0.0)
    assert [written[s:e] for s, e, _, _ in words] == ["at", "3:15 pm", "now"]
    assert words[1][2:] == pytest.approx((0.1, (3 * 2400 + 2000) / 24_000))


def test_unchanged_text_keeps_exact_offsets_and_added_words_join_their_neighbour() -> None:
    assert written_spans("a bc", "a bc", [(0, 1), (2, 4)]) == [(0, 1), (2, 4)]
    written, said = "Dr Smith paid 5.", "Doctor Smith paid five dollars."
    places = written_spans(written, said, [(0, 6), (7, 12), (13, 17), (18, 22), (23, 30)])
    groups = merged_words(places, written)
    assert [written[s:e] for s, e, _ in groups] == ["Dr", "Smith", "paid", "5"]
    assert groups[-1][2] == [3, 4]  # "five dollars" is the written "5"
    # An acronym normalisation spelled out letter by letter is one word as written.
    written, said = "用PPT讲", "用P P T讲"
    places = written_spans(written, said, [(0, 1), (1, 2), (3, 4), (5, 6), (6, 7)])
    assert [written[s:e] for s, e, _ in merged_words(places, written)] == ["用", "PPT", "讲"]


def test_words_are_placed_in_the_text_as_sent_across_its_white_space() -> None:
    text = "One  two.\nThree four."
    spoken = SpokenWords(text)
    spoken.add("One two.", 0, 0.0, [(0, 3, 0.1, 0.3), (4, 7, 0.4, 0.6)])
    spoken.add("Three four.", 1, 1.0, [(0, 5, 0.1, 0.3), (6, 10, 0.4, 0.6)])
    assert [(w.text, w.chars, w.sentence) for w in spoken.words] == [
        ("One", (0, 3), 0),
        ("two", (5, 8), 0),
        ("Three", (10, 15), 1),
        ("four", (16, 20), 1),
    ]
    assert [text[s:e] for s, e in (w.chars for w in spoken.words if w.chars)] == [
        "One", "two", "Three", "four",
    ]  # fmt: skip
    assert spoken.words[2].start == pytest.approx(1.1)


def test_word_records_keep_their_offsets_and_old_records_still_load() -> None:
    word = Timing(1.25, 1.5, "好", None, (3, 4), 2)
    timings = Timings((Timing(1.0, 2.0, "你好", "kokoro:zf_xiaobei"),), (word,), 2.0)
    again = Timings.from_json(timings.to_json())
    assert again.words == (word,)
    assert timings.to_json()["words"][0] == {
        "start": 1.25, "end": 1.5, "text": "好", "start_char": 3, "end_char": 4, "sentence": 2,
    }  # fmt: skip
    old = {"duration": 1.0, "pieces": [{"start": 0, "end": 1, "text": "x"}], "words": None}
    assert Timings.from_json(old).words is None


def test_chinese_captions_are_never_cut_inside_a_word() -> None:
    text = "中华人民共和国成立了七十多年，我们的国家发生了翻天覆地的变化"
    cut = ["中华人民共和国", "成立", "了", "七十多", "年", "，", "我们", "的", "国家", "发生",
           "了", "翻天覆地", "的", "变化"]  # fmt: skip
    words, at = [], 0.0
    for piece in cut:
        if piece != "，":
            words.append(Timing(at, at + 0.2 * len(piece), piece))
        at += 0.2 * len(piece)
    timings = Timings((Timing(0.0, at, text),), tuple(words), at)
    for limit in (7, 8, 9, 12):  # the longest word has 7 characters
        texts = [cue.text for cue in cues(timings, max_chars=limit)]
        assert "".join(texts) == text
        ends = set(itertools_accumulate(len(t) for t in texts))
        inside = {
            offset + k
            for offset, piece in zip(itertools_accumulate(len(p) for p in cut), cut, strict=True)
            for k in range(1 - len(piece), 0)
        }
        assert not ends & inside, (limit, texts)
    assert "<" not in vtt_with_words(cues(timings), None).split("\n", 3)[3]


def itertools_accumulate(lengths: object) -> list[int]:
    import itertools

    return list(itertools.accumulate(lengths))  # type: ignore[call-overload]


def test_the_openai_streams_timing_events_carry_each_sentences_words(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    body = {
        "model": "tts-1",
        "voice": "tone:beep",
        "input": TEXT,
        "response_format": "pcm",
        "stream_format": "sse",
        "timings": True,
    }
    r = client.post("/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    events = []
    for block in (b for b in r.text.split("\n\n") if b.strip()):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    timings = [data for name, data in events if name == "speech.audio.timing"]
    assert len(timings) >= 2
    said = [word for timing in timings for word in timing["words"]]
    assert [w["text"] for w in said] == TEXT.split()
    for number, timing in enumerate(timings):
        assert timing["words"], timing
        assert " ".join(w["text"] for w in timing["words"]) == timing["text"]
        for word in timing["words"]:
            assert word["sentence"] == number
            assert timing["start"] - 0.001 <= word["start"] < word["end"] <= timing["end"] + 0.001


@pytest.mark.slow  # a process of its own
def test_the_command_line_writes_karaoke_webvtt_with_words(tmp_path: Path) -> None:
    target = tmp_path / "talk.wav"
    result = sayfile_cli(
        "say", TEXT, "-o", str(target), "--vtt", "--words", engines="tone", voice="tone:beep"
    )
    assert result.returncode == 0, result.stderr
    body = (tmp_path / "talk.vtt").read_text("utf-8")
    assert body.startswith("WEBVTT") and "The <00:00:00.160>first <00:00:00.320>sentence" in body


@pytest.mark.usefixtures("ffmpeg")
def test_kokoro_fastapis_captioned_speech_answers_in_its_shape(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    body = {"input": TEXT, "voice": "tone:beep", "response_format": "wav", "stream": False}
    r = client.post("/dev/captioned_speech", json=body)
    assert r.status_code == 200, r.text
    whole = r.json()
    assert whole["audio_format"] == "audio/wav"
    samples, rate = _pcm(base64.b64decode(whole["audio"]))
    stamps = whole["timestamps"]
    assert [s["word"] for s in stamps] == TEXT.split()
    for stamp in stamps:  # each word's beep is heard where its times say
        inside = samples[int(stamp["start_time"] * rate) + 10 : int(stamp["end_time"] * rate) - 10]
        assert np.abs(inside.astype(np.int32)).max() > 6000
    # Streamed (Kokoro-FastAPI's default): one JSON object a line, the same words in all.
    r = client.post(
        "/dev/captioned_speech", json={**body, "response_format": "mp3", "stream": True}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines() if line]
    assert len(lines) >= 2 and all(line["audio_format"] == "audio/mpeg" for line in lines)
    assert [s["word"] for line in lines for s in line["timestamps"]] == TEXT.split()
    assert decode(b"".join(base64.b64decode(x["audio"]) for x in lines), "mp3").duration_s > 2
    bad = client.post("/dev/captioned_speech", json={**body, "response_format": "m4b"})
    assert bad.status_code in (400, 422) and "m4b" in bad.text
    # Its errors name its own fields (input, not sayfile's text).
    empty = client.post("/dev/captioned_speech", json={**body, "input": " "})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "input"


@pytest.mark.usefixtures("ffmpeg")
def test_ssml_with_breaks_and_say_as_gives_every_word_once_after_its_pause(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    ssml = (
        '<speak>Hello there <break time="500ms"/> big world, call '
        '<say-as interpret-as="characters">AB</say-as> now.</speak>'
    )
    job = _job(client, text=ssml, format="wav")
    samples, rate = _pcm(client.get(str(job["audio_url"])).content)
    timings = client.get(f"/jobs/{job['id']}/timings").json()
    words = timings["words"]
    said = "Hello there big world, call A B now."
    assert [w["text"] for w in words] == said.split()
    assert all(said[w["start_char"] : w["end_char"]] == w["text"] for w in words)
    # The break is silence between "there" and "big", and "big" is timed after it.
    there, big = words[1], words[2]
    assert big["start"] - there["end"] >= 0.5
    gap = samples[int(there["end"] * rate) + 10 : int(big["start"] * rate) - 10]
    assert np.abs(gap.astype(np.int32)).max() < 500
    assert [w["sentence"] for w in words] == [0, 0, 1, 1, 1, 1, 1, 1]


def test_joined_sections_keep_their_words_and_count_sentences_across_them() -> None:
    first = Timings(
        (Timing(0.0, 1.0, "One two."),), (Timing(0.1, 0.4, "One", None, (0, 3), 0),), 1.0
    )
    second = Timings(
        (Timing(0.0, 1.0, "Three."),), (Timing(0.2, 0.6, "Three", None, (0, 5), 0),), 1.0
    )
    whole = joined([(0.0, first), (2.0, second)], 3.0)
    assert whole.words is not None
    assert [(w.text, w.start, w.chars, w.sentence) for w in whole.words] == [
        ("One", 0.1, (0, 3), 0),
        ("Three", 2.2, (0, 5), 1),
    ]
    unknown = Timings((Timing(0.0, 1.0, "Four."),), None, 1.0, "not known")
    assert joined([(0.0, first), (1.0, unknown)], 2.0).words is None


def _beeps(samples: np.ndarray, rate: int) -> int:
    """How many beeps the tone voice's audio holds (runs of loud samples)."""
    frames = np.abs(samples[: samples.size // 80 * 80].astype(np.int32)).reshape(-1, 80)
    loud = frames.max(axis=1) > 6000
    return int(np.count_nonzero(loud & ~np.concatenate([[False], loud[:-1]])))


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize(
    ("text", "term", "alias", "written"),
    [
        (
            "The W3C met in Paris. Then the W3C left.",
            "W3C",
            "World Wide Web Consortium",
            ["The", "W3C", "met", "in", "Paris.", "Then", "the", "W3C", "left."],
        ),
        ("我们在 WHO 开会。", "WHO", "世界 卫生 组织", ["我们在", "WHO", "开会。"]),
    ],
)
def test_a_lexicon_alias_is_timed_as_the_word_it_replaced(
    make_client: Callable[..., TestClient], text: str, term: str, alias: str, written: list[str]
) -> None:
    """The tone voice beeps once per word it is given: the alias's words are all heard, and
    the timings give the term as the request wrote it, at its place, from the first of the
    alias's beeps to the last."""
    client = make_client(**TONES)
    lexicon = [{"term": term, "replacement": alias}]
    job = _job(client, text=text, format="wav", lexicon=lexicon)
    samples, rate = _pcm(client.get(str(job["audio_url"])).content)
    words = client.get(f"/jobs/{job['id']}/timings").json()["words"]
    assert [w["text"] for w in words] == written
    assert all(text[w["start_char"] : w["end_char"]] == w["text"] for w in words)
    aliased = written.count(term)
    assert _beeps(samples, rate) == len(written) + aliased * (len(alias.split()) - 1)
    for word in words:
        inside = samples[int(word["start"] * rate) : int(word["end"] * rate)]
        assert _beeps(inside, rate) == (len(alias.split()) if word["text"] == term else 1)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    # Captions show the text as written too, plain and karaoke (the words' times inside).
    for params in ({}, {"words": "true"}):
        vtt = client.get(f"/jobs/{job['id']}/subtitles.vtt", params=params).text
        assert vtt.count(term) == aliased and alias not in vtt, vtt
    srt = client.get(f"/jobs/{job['id']}/subtitles.srt").text
    assert srt.count(term) == aliased and alias not in srt, srt
