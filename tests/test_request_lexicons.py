"""A request's own lexicon as each way in takes it, through the app (the tone engine): an HTML
form's `lexicon` field (URL-encoded or multipart) holding the JSON list or lines as a `.tsv`
lexicon has them, and `POST /v1/audio/speech` taking it as an extra body field, as the
`openai` SDK's `extra_body` sends it, and Kokoro-FastAPI's `POST /dev/captioned_speech` taking
it likewise; what cannot be read is refused naming `lexicon` and the forms it takes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, wait_done

TEXT = "We wrote the SQL by hand."
SAID = "We wrote the sequel by hand."
ENTRIES = [{"language": "*", "term": "SQL", "replacement": "sequel"}]
# The same entry as lines of a .tsv lexicon (every language: the tone voices speak none), with
# a comment and a browser's CRLF.
LINES = "# names\r\n*\tSQL\tsequel\r\n"


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**TONES)


def said_by_job(client: TestClient, **form: Any) -> str:
    """What a job made from a form post said (its timings' text)."""
    r = client.post("/jobs", **form)
    assert r.status_code == 202, r.text
    done = wait_done(client, r.json()["status_url"])
    assert done["status"] == "done", done
    pieces = client.get(f"/jobs/{done['id']}/timings").json()["pieces"]
    return " ".join(piece["text"] for piece in pieces)


def urlencoded(lexicon: str) -> dict[str, Any]:
    return {"data": {"text": TEXT, "lexicon": lexicon}}


def multipart(lexicon: str) -> dict[str, Any]:
    return {"files": {"text": (None, TEXT), "lexicon": (None, lexicon)}}


@pytest.mark.parametrize("encode", [urlencoded, multipart])
@pytest.mark.parametrize("written", [json.dumps(ENTRIES), LINES], ids=["json", "tsv-lines"])
def test_a_forms_lexicon_field_is_read_as_json_or_as_tsv_lines(
    client: TestClient, encode: Callable[[str], dict[str, Any]], written: str
) -> None:
    """Both had been refused with "lexicon: Input should be a valid list"."""
    assert said_by_job(client, **encode(written)) == SAID


def test_a_json_bodys_lexicon_may_be_the_same_text(client: TestClient) -> None:
    assert said_by_job(client, json={"text": TEXT, "lexicon": LINES}) == SAID


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("en SQL sequel", "line 1: expected a language, a term and a replacement"),
        ("# names\nen\tSQL\tsequel\nen\tGIF\t\n", "line 3: the replacement of 'GIF' is empty"),
        ('[{"term": "SQL", "replacement": "sequel"', "not valid JSON"),
        ('{"term": "SQL", "replacement": "sequel"}', "the JSON is not a list"),
    ],
)
@pytest.mark.parametrize("path", ["/speech", "/jobs"])
def test_a_forms_lexicon_that_cannot_be_read_is_422_naming_it_and_its_forms(
    client: TestClient, path: str, written: str, named: str
) -> None:
    r = client.post(path, data={"text": TEXT, "lexicon": written})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "lexicon"
    assert error["message"].startswith(f"lexicon: {named}"), error["message"]
    if "JSON" in named:
        assert "language<TAB>term<TAB>replacement" in error["message"]


def test_a_json_bodys_lexicon_of_another_kind_is_422_naming_its_forms(client: TestClient) -> None:
    r = client.post("/speech", json={"text": TEXT, "lexicon": 5})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "lexicon"
    assert error["message"].startswith('lexicon: not a value it takes; it takes a list of {"')


def test_the_openai_route_takes_a_lexicon_as_an_extra_body_field(client: TestClient) -> None:
    """It had been ignored without a word (the `openai` SDK's `extra_body` sends it so:
    tests/test_openai.py, against a real server)."""
    body = {
        "model": "tts-1",
        "voice": "tone:beep",
        "input": TEXT,
        "stream_format": "sse",
        "timings": True,
        "lexicon": ENTRIES,
    }
    r = client.post("/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    timings = [
        json.loads(block.split("data: ", 1)[1])
        for block in r.text.split("\n\n")
        if block.startswith("event: speech.audio.timing")
    ]
    assert " ".join(t["text"] for t in timings) == SAID


@pytest.mark.parametrize(
    ("lexicon", "named"),
    [
        ([{"term": "SQL"}], "Lexicon entry 0: replacement is missing."),
        (5, 'lexicon: not a value it takes; it takes a list of {"language"'),
    ],
)
def test_the_openai_route_refuses_a_lexicon_it_cannot_read_in_openais_shape(
    client: TestClient, lexicon: object, named: str
) -> None:
    body = {"model": "tts-1", "voice": "tone:beep", "input": TEXT, "lexicon": lexicon}
    r = client.post("/v1/audio/speech", json=body)
    # 400, as OpenAI answers every request it cannot take (and as /v1 answers all of them).
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        "lexicon",
        "invalid_input",
    )
    assert error["message"].startswith(named), error["message"]


def beeps(pcm: bytes) -> int:
    """How many words the tone engine said in 16-bit audio: its beeps, runs of sound apart by
    silence."""
    samples = np.abs(np.frombuffer(pcm, dtype=np.int16).astype(np.int32))
    loud = samples[: len(samples) // 240 * 240].reshape(-1, 240).max(axis=1) > 1000
    return int(np.count_nonzero(loud[1:] & ~loud[:-1]) + int(loud[0]))


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "lines"])
def test_kokoro_fastapis_captioned_route_says_a_requests_lexicon(
    client: TestClient, stream: bool
) -> None:
    """It had been ignored without a word: the text was said as written. The timestamps name
    the words as written, the replaced one timed over what is said for it."""
    spelled = [{"language": "*", "term": "SQL", "replacement": "structured query language"}]
    body = {
        "input": TEXT,
        "voice": "tone:beep",
        "response_format": "pcm",
        "stream": stream,
        "lexicon": spelled,
    }
    r = client.post("/dev/captioned_speech", json=body)
    assert r.status_code == 200, r.text
    answers = [json.loads(line) for line in r.text.splitlines() if line]
    audio = b"".join(base64.b64decode(answer["audio"]) for answer in answers)
    assert beeps(audio) == len(TEXT.split()) + 2
    stamps = [stamp for answer in answers for stamp in answer["timestamps"]]
    assert " ".join(stamp["word"] for stamp in stamps) == TEXT
    sql, by = stamps[3], stamps[4]
    assert by["start_time"] - sql["start_time"] > 2.5 * (by["end_time"] - by["start_time"])


@pytest.mark.parametrize(
    ("lexicon", "named"),
    [
        ([{"term": "SQL"}], "Lexicon entry 0: replacement is missing."),
        ("en SQL sequel", "lexicon: line 1: expected a language, a term and a replacement"),
    ],
)
def test_kokoro_fastapis_captioned_route_refuses_a_lexicon_it_cannot_read_naming_it(
    client: TestClient, lexicon: object, named: str
) -> None:
    body = {"input": TEXT, "voice": "tone:beep", "stream": False, "lexicon": lexicon}
    r = client.post("/dev/captioned_speech", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "lexicon"
    assert error["message"].startswith(named), error["message"]
