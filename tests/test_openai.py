"""The official `openai` SDK against a real sayfile server: speech in every format, streaming,
SSE, errors and API keys."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Literal

import httpx2 as httpx
import openai
import pytest

from conftest import Server, decode

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

KEYS = "first-key,second-key"
TEXT = "The SDK works unchanged. Every sentence arrives as soon as it is spoken! Isn't that nice?"
Format = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
FORMATS: list[Format] = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from conftest import start_server

    started = start_server(tmp_path_factory.mktemp("openai"), api_keys=KEYS)
    yield started
    started.stop()


@pytest.fixture
def sdk(server: Server) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="second-key", max_retries=0)
    yield client
    client.close()


def reference_seconds(server: Server, fmt: str, voice: str = "espeak:en-us") -> float:
    """The same input written as a whole file by POST /speech (not streamed)."""
    r = httpx.post(
        f"{server.url}/speech",
        json={"text": TEXT, "voice": voice, "format": fmt},
        headers={"Authorization": "Bearer first-key"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return decode(r.content, fmt).duration_s


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", FORMATS)
def test_create_in_every_format(server: Server, sdk: openai.OpenAI, fmt: Format) -> None:
    response = sdk.audio.speech.create(
        model="tts-1", voice="espeak:en-us", input=TEXT, response_format=fmt
    )
    streamed = decode(response.content, fmt).duration_s
    assert streamed == pytest.approx(reference_seconds(server, fmt), abs=0.08)


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", FORMATS)
def test_streaming_response_in_every_format(
    server: Server, sdk: openai.OpenAI, fmt: Format
) -> None:
    long_text = " ".join([TEXT] * 6)
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="espeak:en-us", input=long_text, response_format=fmt
    ) as response:
        if fmt in ("wav", "flac"):
            # Their headers state the length: sent whole, so a saved file reads right.
            assert int(response.headers["content-length"]) > 0
        else:
            assert response.headers.get("transfer-encoding") == "chunked"
        chunks = list(response.iter_bytes(1024))
    assert len(chunks) > 3
    seconds = decode(b"".join(chunks), fmt).duration_s
    assert seconds == pytest.approx(reference_seconds(server, fmt) * 6, rel=0.05)


@pytest.mark.usefixtures("ffmpeg")
def test_openai_voice_names_speak_the_texts_language(sdk: openai.OpenAI) -> None:
    english = sdk.audio.speech.create(model="tts-1", voice="alloy", input=TEXT)
    assert decode(english.content, "mp3").duration_s > 3
    chinese = sdk.audio.speech.create(
        model="tts-1-hd", voice={"id": "espeak:cmn"}, input="你好，世界。这是一个测试。"
    )
    assert decode(chinese.content, "mp3").duration_s > 2
    auto = sdk.audio.speech.create(model="espeak", voice="nova", input="今天天气很好。")
    assert decode(auto.content, "mp3").duration_s > 1


@pytest.mark.usefixtures("ffmpeg")
def test_sse_events_carry_the_whole_file(server: Server, sdk: openai.OpenAI) -> None:
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts",
        voice="espeak:en-us",
        input=TEXT,
        response_format="wav",
        stream_format="sse",
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [block for block in text.split("\n\n") if block.strip()]
    payloads = []
    for block in events:
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        payloads.append((lines["event"], json.loads(lines["data"])))
    assert [name for name, _ in payloads[:-1]] == ["speech.audio.delta"] * (len(payloads) - 1)
    name, done = payloads[-1]
    assert name == "speech.audio.done" == done["type"]
    assert done["usage"]["input_tokens"] == len(TEXT)
    audio = b"".join(base64.b64decode(p["audio"]) for _, p in payloads[:-1])
    assert decode(audio, "wav").duration_s == pytest.approx(
        reference_seconds(server, "wav"), abs=0.05
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "needle"),
    [
        ({"voice": "espeak:cmnn"}, "voice", "espeak:cmn"),
        ({"model": "tts-9"}, "model", "tts-1"),
        ({"response_format": "ogg"}, "response_format", "mp3, opus, aac, m4b, flac, wav, pcm"),
        ({"speed": 5.0}, "speed", "0.25 to 4.0"),
        ({"input": "  "}, "input", "empty"),
    ],
)
def test_errors_come_in_openai_shape(
    sdk: openai.OpenAI, kwargs: dict[str, object], param: str, needle: str
) -> None:
    request: dict[str, object] = {"model": "tts-1", "voice": "alloy", "input": "Hello."}
    request.update(kwargs)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.audio.speech.create(**request)  # type: ignore[arg-type]
    error = info.value
    assert error.status_code == 400
    assert error.param == param
    assert error.type == "invalid_request_error"
    assert needle in error.message


def test_models_and_voices(sdk: openai.OpenAI, server: Server) -> None:
    models = [m.id for m in sdk.models.list().data]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "piper", "espeak"} <= set(models)
    r = httpx.get(
        f"{server.url}/v1/audio/voices",
        params={"language": "zh"},
        headers={"Authorization": "Bearer first-key"},
    )
    voices = r.json()["data"]
    assert voices[0]["id"] == "kokoro:zm_yunjian"
    assert set(voices[0]) >= {"id", "name", "language", "gender", "engine", "sample_rate"}


def test_api_keys_are_checked_where_work_is_created(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.")
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    client.close()
    url = server.url
    missing = httpx.get(f"{url}/v1/models")
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("An API key is required")
    denied = httpx.post(f"{url}/jobs", json={"text": "Hi."})
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert denied.json()["error"]["code"] == "invalid_api_key"
    created = httpx.post(
        f"{url}/jobs", json={"text": "Hi there."}, headers={"Authorization": "Bearer first-key"}
    )
    assert created.status_code == 202
    job = created.json()
    assert httpx.delete(f"{url}/jobs/{job['id']}").status_code == 401
    # The job id is itself the capability: reading and downloading need no key.
    deadline = time.monotonic() + 30
    while httpx.get(url + job["status_url"]).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert httpx.get(url + job["audio_url"]).status_code == 200
    # The page's form post carries the key as a field.
    form = httpx.post(f"{url}/speech", data={"text": "Form post.", "api_key": "second-key"})
    assert form.status_code == 200
    for open_path in ("/healthz", "/", "/voices", "/docs", "/openapi.json"):
        assert httpx.get(url + open_path).status_code == 200, open_path


def test_a_client_that_leaves_stops_the_synthesis(server_factory: Callable[..., Server]) -> None:
    server = server_factory(max_queue="1")
    long_text = "This stream is abandoned after its first bytes, and that must stop it. " * 300
    with httpx.stream(
        "POST",
        f"{server.url}/v1/audio/speech",
        json={"model": "piper", "voice": "alloy", "input": long_text},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        next(response.iter_raw())
    # The only place in the queue comes back within about a sentence, not the whole text.
    start = time.monotonic()
    while True:
        r = httpx.post(
            f"{server.url}/speech", json={"text": "Next.", "voice": "espeak:en-us"}, timeout=60
        )
        if r.status_code == 200:
            break
        assert r.status_code == 503
        assert time.monotonic() - start < 10, "synthesis went on after the client left"
        time.sleep(0.1)


@pytest.mark.usefixtures("ffmpeg")
def test_sse_can_carry_the_timing_of_each_sentence(sdk: openai.OpenAI) -> None:
    sentences = [
        "The first sentence is long enough to be spoken all on its own.",
        "And then a second sentence follows it, just as long as the first.",
    ]
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts",
        voice="espeak:en-us",
        input=" ".join(sentences),
        response_format="mp3",
        stream_format="sse",
        extra_body={"timings": True},
    ) as response:
        text = response.read().decode()
    payloads = []
    for block in (b for b in text.split("\n\n") if b.strip()):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        payloads.append((lines["event"], json.loads(lines["data"])))
    kinds = [name for name, _ in payloads]
    timings = [data for name, data in payloads if name == "speech.audio.timing"]
    # Every word once, in order (a stream's first piece is cut short for a quick start).
    assert " ".join(t["text"] for t in timings) == " ".join(sentences)
    assert len(timings) >= 2
    # Each timing follows audio it belongs to, and the times run on.
    assert kinds.index("speech.audio.timing") > kinds.index("speech.audio.delta")
    for before, after in itertools.pairwise(timings):
        assert before["start"] < before["end"] <= after["start"] < after["end"]
    audio = b"".join(base64.b64decode(d["audio"]) for n, d in payloads if n.endswith("delta"))
    assert abs(decode(audio, "mp3").duration_s - timings[-1]["end"]) <= 0.15


def test_a_lexicon_goes_in_extra_body(sdk: openai.OpenAI) -> None:
    """sayfile's own field, as `timings` is: it had been ignored without a word."""
    lexicon = [{"language": "en", "term": "SQL", "replacement": "sequel"}]
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1",
        voice="espeak:en-us",
        input="We wrote the SQL by hand.",
        response_format="mp3",
        stream_format="sse",
        extra_body={"lexicon": lexicon, "timings": True},
    ) as response:
        text = response.read().decode()
    timings = [
        json.loads(block.split("data: ", 1)[1])
        for block in text.split("\n\n")
        if block.startswith("event: speech.audio.timing")
    ]
    assert " ".join(t["text"] for t in timings) == "We wrote the sequel by hand."
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.audio.speech.create(
            model="tts-1",
            voice="espeak:en-us",
            input="We wrote the SQL by hand.",
            extra_body={"lexicon": [{"term": "SQL"}]},
        )
    assert refused.value.status_code == 400
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["param"] == "lexicon"
    assert "Lexicon entry 0: replacement is missing" in refused.value.body["message"]
