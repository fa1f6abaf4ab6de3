"""Timings, subtitles, SSML and lexicons through the HTTP API, checked on the decoded audio
(the tone engine and espeak-ng: fast)."""

from __future__ import annotations

import io
import itertools
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, decode, sayfile_cli, wait_done
from sayfile.settings import MAX_LUFS, MIN_LUFS

ESPEAK = {"engines": ["espeak"], "default_voice": "espeak:en-us"}
# Sentences long enough to be pieces of their own (espeak-ng gets shorter ones together).
FIRST = "The first sentence is here, and it says a little more than it must."
SECOND = "Then a second one follows it, and it is not much shorter than the first."
THIRD = "And the third ends it, with a few more words to make it long enough."
THREE = f"{FIRST} {SECOND} {THIRD}"


def _pcm(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2"), rate


def _silences(samples: np.ndarray, rate: int, floor: int = 200) -> list[tuple[float, float]]:
    """(start, length) in seconds of each run of near-silence at least 50 ms long."""
    quiet = np.abs(samples.astype(np.int32)) < floor
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    runs = [(a / rate, (b - a) / rate) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [run for run in runs if run[1] >= 0.05]


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _job(client: TestClient, **body: object) -> dict[str, object]:
    r = client.post("/jobs", json=body)
    assert r.status_code == 202, r.text
    done = wait_done(client, str(r.json()["status_url"]))
    assert done["status"] == "done", done
    return done


@pytest.mark.usefixtures("ffmpeg")
def test_a_jobs_timings_and_subtitles_follow_its_audio(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**ESPEAK)
    job = _job(client, text=THREE, format="wav")
    audio = client.get(str(job["audio_url"])).content
    samples, rate = _pcm(audio)
    duration = decode(audio, "wav").duration_s
    timings = client.get(f"/jobs/{job['id']}/timings").json()
    pieces = timings["pieces"]
    assert [p["text"] for p in pieces] == [FIRST, SECOND, THIRD]
    assert pieces[0]["start"] <= 0.5
    assert abs(pieces[-1]["end"] - duration) <= 0.1
    # Each word in its piece's span, in order (espeak-ng's library times them).
    words = timings["words"]
    assert words is not None and [w["text"] for w in words][:3] == FIRST.split()[:3]
    for word in words:
        piece = pieces[word["sentence"]]
        assert piece["start"] - 0.01 <= word["start"] <= word["end"] <= piece["end"] + 0.01
    for before, after in itertools.pairwise(pieces):
        assert before["end"] <= after["start"]
    # Each piece's span holds its sentence's sound: loud inside, and where one ends and the
    # next begins the audio is quiet.
    for piece in pieces:
        inside = samples[int(piece["start"] * rate) : int(piece["end"] * rate)]
        assert np.abs(inside.astype(np.int32)).max() > 3000
    for before in pieces[:-1]:
        edge = int(before["end"] * rate)
        assert np.abs(samples[edge - 40 : edge + 40].astype(np.int32)).max() < 3000

    srt = client.get(f"/jobs/{job['id']}/subtitles.srt")
    assert srt.status_code == 200 and srt.headers["content-type"].startswith("application/x-subrip")
    assert "filename=" in srt.headers["content-disposition"]
    blocks = [block.splitlines() for block in srt.text.strip().split("\n\n")]
    assert [block[0] for block in blocks] == [str(n) for n in range(1, len(blocks) + 1)]
    spans = [[_seconds(t) for t in block[1].split(" --> ")] for block in blocks]
    assert all(start < end for start, end in spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert spans[0][0] <= 0.5 and abs(spans[-1][1] - duration) <= 0.1
    # Cues a reader can follow: each sentence is cut at its clauses.
    assert len(blocks) > 3 and all(len(block[2]) <= 42 for block in blocks)
    assert " ".join(block[2] for block in blocks) == THREE
    vtt = client.get(f"/jobs/{job['id']}/subtitles.vtt")
    assert vtt.text.startswith("WEBVTT") and "And the third ends it," in vtt.text


def test_subtitles_wait_for_the_audio_and_end_with_it(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, parallel_sentences=1)
    job = client.post("/jobs", json={"text": "Step by step. " * 40, "voice": "tone:slow"}).json()
    early = client.get(f"/jobs/{job['id']}/subtitles.vtt")
    assert early.status_code == 409, early.text
    client.delete(f"/jobs/{job['id']}")
    assert client.get(f"/jobs/{job['id']}/timings").status_code in (404, 410)


def test_a_cue_shorter_than_a_word_keeps_the_word_whole(
    make_client: Callable[..., TestClient],
) -> None:
    """`max_chars` below a word's length had cut it: "Donaudampfschifffahrt" was shown as
    "Donau", "dampf", "schif"... one cue after the other."""
    client = make_client(**TONES)
    text = "The Donaudampfschifffahrt sails on, slowly."
    job = _job(client, text=text, format="wav")
    for max_chars in (1, 5, 12):
        srt = client.get(f"/jobs/{job['id']}/subtitles.srt?max_chars={max_chars}")
        assert srt.status_code == 200, srt.text
        shown = [block.splitlines()[2] for block in srt.text.strip().split("\n\n")]
        assert " ".join(shown) == text
        assert "Donaudampfschifffahrt" in shown, (max_chars, shown)
        # The words that fit are still cut as asked: one a cue at 1 and 5.
        if max_chars < 12:
            assert shown == ["The", "Donaudampfschifffahrt", "sails", "on,", "slowly."]


@pytest.mark.slow  # real voices
def test_long_sentences_become_several_cues(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**ESPEAK)
    long = (
        "When the rain came down over the hills, the children ran inside, the dogs followed "
        "them, and the old farmer closed every window of the house before the storm arrived."
    )
    job = _job(client, text=long, format="mp3")
    vtt = client.get(f"/jobs/{job['id']}/subtitles.vtt").text
    cues = [block for block in vtt.split("\n\n")[1:] if "-->" in block]
    assert len(cues) >= 3
    assert all(len(block.splitlines()[1]) <= 42 for block in cues)


@pytest.mark.usefixtures("ffmpeg")
def test_an_ssml_break_is_a_silence_of_its_length(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**ESPEAK)

    def longest_gap(text: str) -> float:
        r = client.post("/speech", json={"text": text, "format": "wav", "loudness": "off"})
        assert r.status_code == 200, r.text
        samples, rate = _pcm(r.content)
        inner = [length for start, length in _silences(samples, rate) if start > 0.1]
        return max(inner)

    plain = longest_gap("<speak>Here is the first part. And here is the second part.</speak>")
    broken = longest_gap(
        '<speak>Here is the first part.<break time="2s"/> And here is the second part.</speak>'
    )
    assert broken - plain == pytest.approx(2.0, abs=0.1)


def test_ssml_is_spoken_as_words_and_bad_ssml_names_the_line(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    good = client.post(
        "/jobs",
        json={
            "text": '<speak>Call <say-as interpret-as="telephone">555 1234</say-as> '
            '<sub alias="at once">ASAP</sub>.</speak>'
        },
    )
    assert good.status_code == 202
    done = wait_done(client, good.json()["status_url"])
    pieces = client.get(f"/jobs/{done['id']}/timings").json()["pieces"]
    said = " ".join(p["text"] for p in pieces)
    assert "at once" in said and "ASAP" not in said and "<" not in said
    assert "five" in said  # the telephone number read digit by digit
    bad = client.post("/speech", json={"text": "<speak>\n<p>Open\n</speak>"})
    assert bad.status_code == 422
    assert "line 3" in bad.json()["error"]["message"]
    # Plain text with markup-like characters is plain text.
    plain = client.post("/speech", json={"text": "If a < b & c > d, say so."})
    assert plain.status_code == 200


def test_a_request_lexicon_changes_the_words_spoken(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    lexicon = [{"language": "*", "term": "SQL", "replacement": "sequel"}]
    job = _job(client, text="We wrote the SQL by hand.", lexicon=lexicon)
    said = client.get(f"/jobs/{job['id']}/timings").json()["pieces"][0]["text"]
    assert said == "We wrote the sequel by hand."
    bad = client.post("/speech", json={"text": "Hi.", "lexicon": [{"term": "x"}]})
    assert bad.status_code == 422 and "lexicon" in bad.text


def test_lexicon_files_apply_to_every_request_and_are_listed(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    folder = tmp_path / "lexicons"
    folder.mkdir()
    (folder / "names.tsv").write_text("*\tNguyen\twin\nzh\t最长\tpinyin:zui4 chang2\n", "utf-8")
    client = make_client(**TONES, lexicon_dir=folder)
    listing = client.get("/lexicons").json()
    assert {(row["language"], row["entries"]) for row in listing} == {("*", 1), ("zh", 1)}
    job = _job(client, text="Ms Nguyen is here.", voice="tone:beep")
    said = client.get(f"/jobs/{job['id']}/timings").json()["pieces"][0]["text"]
    assert said == "Ms win is here."


def test_loudness_must_be_a_level_or_off(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    for bad in (0, -100, "loud"):
        r = client.post("/speech", json={"text": "Hello.", "loudness": bad})
        assert r.status_code == 422 and f"{MIN_LUFS:g} to {MAX_LUFS:g}" in r.text, r.text
    assert client.post("/speech", json={"text": "Hello.", "loudness": "off"}).status_code == 200


@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_writes_subtitles_beside_the_audio(tmp_path: Path) -> None:
    target = tmp_path / "three.mp3"
    result = sayfile_cli("say", THREE, "-o", str(target), "--srt", "--vtt")
    assert result.returncode == 0, result.stderr
    assert target.stat().st_size > 1000
    srt = (tmp_path / "three.srt").read_text("utf-8")
    assert srt.startswith("1\n00:00:00,") and "And the third ends it," in srt
    assert (tmp_path / "three.vtt").read_text("utf-8").startswith("WEBVTT")


def test_ssml_marks_are_timed_where_their_words_begin(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    text = (
        '<speak><mark name="start"/>One two three.<break time="1s"/>'
        '<mark name="second"/>Four five six.<mark name="end"/></speak>'
    )
    job = _job(client, text=text, format="wav")
    timings = client.get(f"/jobs/{job['id']}/timings").json()
    marks = {mark["name"]: mark["time"] for mark in timings["marks"]}
    pieces = timings["pieces"]
    assert marks["start"] == pieces[0]["start"] == 0.0
    # After the break: where the second sentence's sound begins.
    assert marks["second"] == pieces[1]["start"]
    assert marks["second"] - pieces[0]["end"] == pytest.approx(1.0, abs=0.01)
    assert marks["end"] == pytest.approx(timings["duration"], abs=0.01)
