"""The service with the tone engine (real audio, made at once): fair turns, streams admitted
before their headers, direct downloads that end cleanly, and jobs' lives — in seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from conftest import TONES, Server, decode, decode_in_process, wait_done
from sayfile.api.audio_responses import SpeechStreamResponse

# 200 pieces of 50 ms of a thread each: ten seconds of work for one thread.
BOOK = "A sentence of a long book. " * 200


def audio_files(client: TestClient) -> list[Path]:
    root: Path = client.app.state.settings.data_dir / "audio"  # type: ignore[attr-defined]
    return sorted(root.iterdir())


@pytest.mark.slow  # a time limit: the slow layer
def test_a_stream_goes_before_two_running_books(make_client: Callable[..., TestClient]) -> None:
    """Two long jobs keep the one thread busy; a stream still gets its first bytes after at
    most a step or two of theirs (50 ms each), not after the books (20 s)."""
    client = make_client(**TONES, parallel_sentences=1)
    books = [client.post("/jobs", json={"text": BOOK, "voice": "tone:slow"}).json() for _ in "ab"]
    time.sleep(0.3)  # the books are under way
    started = time.monotonic()
    r = client.post("/speech?stream=true", json={"text": "Hello. World.", "voice": "tone:slow"})
    waited = time.monotonic() - started  # the test client reads the whole stream
    assert r.status_code == 200
    assert waited < 1.0, f"the whole stream took {waited:.2f} s"
    assert decode(r.content, "mp3").duration_s > 0.5
    progress = [client.get(book["status_url"]).json() for book in books]
    assert all(job["status"] == "running" for job in progress)
    for book in books:
        assert client.delete(book["status_url"]).status_code == 204


def test_clients_take_turns_between_jobs(make_client: Callable[..., TestClient]) -> None:
    """One client's three books do not starve another client's one short job."""
    client = make_client(**TONES, parallel_sentences=1, api_keys=["heavy", "light"])
    heavy = {"authorization": "Bearer heavy"}
    for _ in range(3):
        r = client.post("/jobs", json={"text": BOOK, "voice": "tone:slow"}, headers=heavy)
        assert r.status_code == 202
    short = client.post(
        "/jobs",
        json={"text": "Short. " * 10, "voice": "tone:slow"},
        headers={"authorization": "Bearer light"},
    ).json()
    # 10 pieces, each after one step of the other client's: about a second, not 30.
    job = wait_done(client, short["status_url"], timeout=5)
    assert job["status"] == "done"


def test_a_refused_stream_is_a_real_503(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, max_queue=1)
    busy = client.post("/jobs", json={"text": BOOK, "voice": "tone:slow"}).json()
    r = client.post("/speech?stream=true", json={"text": "Hello."})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["error"]["code"] == "busy"
    r = client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": "Hello.", "voice": "tone:beep"}
    )
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["error"]["type"] == "server_error"
    client.delete(busy["status_url"])


def test_a_client_over_its_limit_gets_429_not_an_empty_200(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, max_active_per_client=1)
    busy = client.post("/jobs", json={"text": BOOK, "voice": "tone:slow"}).json()
    for path, body in (
        ("/speech?stream=true", {"text": "Hello."}),
        ("/v1/audio/speech", {"model": "tts-1", "input": "Hello.", "voice": "tone:beep"}),
    ):
        r = client.post(path, json=body)
        assert r.status_code == 429, path
        assert "retry-after" in r.headers
    client.delete(busy["status_url"])


def test_an_engine_error_on_the_first_sentence_is_an_error_status(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    r = client.post("/speech?stream=true", json={"text": "FAIL at once. Then more."})
    assert r.status_code == 500 and r.json()["error"]["code"] == "engine_error"
    r = client.post(
        "/v1/audio/speech", json={"model": "tts-1", "input": "FAIL now.", "voice": "tone:beep"}
    )
    assert r.status_code == 500 and r.json()["error"]["code"] == "engine_error"
    # The place is given back: more streams fit.
    assert client.post("/speech?stream=true", json={"text": "Fine."}).status_code == 200
    assert client.app.state.services.status.queue_depth == 0  # type: ignore[attr-defined]


def test_a_direct_download_past_its_wait_answers_202_with_the_job(
    make_client: Callable[..., TestClient],
) -> None:
    # Past the characters made in memory, a direct download is a job with a link.
    client = make_client(**TONES, direct_wait_seconds=0.2, max_chars_in_memory=100)
    r = client.post("/speech", json={"text": "Slow words. " * 40, "voice": "tone:slow"})
    assert r.status_code == 202
    job = r.json()
    assert r.headers["location"] == job["status_url"]
    done = wait_done(client, job["status_url"], timeout=20)
    assert done["status"] == "done"
    audio = client.get(done["audio_url"])
    assert audio.status_code == 200 and decode_in_process(audio.content, "mp3").duration_s > 5


def test_a_long_direct_download_names_its_link(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, max_chars_in_memory=5)
    r = client.post("/speech", json={"text": "Hello there."})
    assert r.status_code == 200
    again = client.get(r.headers["content-location"])
    assert again.status_code == 200 and again.content == r.content


def test_a_short_direct_download_leaves_no_record_and_no_file(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = make_client(**TONES)
    r = client.post("/speech", json={"text": "Hello there.", "format": "wav"})
    assert r.status_code == 200 and "content-location" not in r.headers
    assert decode_in_process(r.content, "wav").duration_s > 0.5
    assert "hello-there.wav" in r.headers["content-disposition"]
    data: Path = client.app.state.settings.data_dir  # type: ignore[attr-defined]
    assert list((data / "audio").iterdir()) == []
    with contextlib.closing(sqlite3.connect(data / "jobs.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
    # The same request again is the same audio, from the recent answers.
    again = client.post("/speech", json={"text": "Hello there.", "format": "wav"})
    assert again.content == r.content


def test_the_events_of_a_job_come_as_they_happen(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, parallel_sentences=1)
    job = client.post("/jobs", json={"text": "Step. " * 30, "voice": "tone:slow"}).json()
    kinds: list[str] = []
    progress: list[float] = []
    with client.stream("GET", job["status_url"] + "/events") as events:
        for line in events.iter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and kinds[-1] == "progress":
                progress.append(json.loads(line.removeprefix("data: "))["progress"])
    assert kinds[-1] == "end" and kinds.count("end") == 1
    assert len(progress) >= 3 and progress == sorted(progress)


def test_a_deleted_job_ends_its_events(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, parallel_sentences=1)
    job = client.post("/jobs", json={"text": BOOK, "voice": "tone:slow"}).json()
    with client.stream("GET", job["status_url"] + "/events") as events:
        lines = events.iter_lines()
        assert next(lines).startswith("event: ")
        assert client.delete(job["status_url"]).status_code == 204
        rest = list(lines)
    assert 'data: {"status": "deleted"}' in rest
    assert audio_files(client) == []


@pytest.mark.slow  # a time limit: the slow layer
def test_a_stream_whose_client_stops_reading_is_stopped() -> None:
    """The response gives up after the idle time and closes the stream (its place back)."""
    closed = asyncio.Event()

    async def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1000

    async def close() -> None:
        closed.set()

    async def run() -> float:
        response = SpeechStreamResponse(chunks(), close, "audio/mpeg", {}, idle_seconds=0.2)
        sent: list[Message] = []
        stuck = asyncio.Event()

        async def send(message: Message) -> None:
            sent.append(message)
            if len(sent) == 3:
                await stuck.wait()  # the client stopped reading

        async def receive() -> Message:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        started = time.monotonic()
        await response({"type": "http"}, receive, send)
        assert closed.is_set() and len(sent) == 3
        return time.monotonic() - started

    assert asyncio.run(run()) < 2


def test_a_client_that_hangs_up_mid_stream_stops_its_synthesis(
    make_client: Callable[..., TestClient],
) -> None:
    """POST /speech?stream=true at the ASGI boundary, the client gone once the first audio
    has come: the response ends there, the engine is not asked for the rest of the text,
    and the stream's place is given back (the client may stream again at once)."""
    client = make_client(**TONES, parallel_sentences=1, max_active_per_client=1)
    app: Any = client.app
    body = json.dumps({"text": BOOK, "voice": "tone:slow", "format": "mp3"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/speech",
        "raw_path": b"/speech",
        "query_string": b"stream=true",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def hang_up_after_the_first_audio() -> None:
        audio = asyncio.Event()
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": body, "more_body": False}
            await audio.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message.get("body"):
                audio.set()

        await app(scope, receive, send)

    assert client.portal is not None
    client.portal.call(hang_up_after_the_first_audio)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert not any(m["type"] == "http.response.body" and not m["more_body"] for m in sent)
    metrics = client.get("/metrics").text
    pieces = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith('sayfile_synthesis_seconds_count{engine="tone"}')
    )
    assert pieces < 20  # of the text's 200 sentences: the first, and the few made ahead
    again = {"text": "Again.", "voice": "tone:slow", "format": "mp3"}
    answer = client.post("/speech?stream=true", json=again)
    assert answer.status_code == 200
    assert decode_in_process(answer.content, "mp3").duration_s > 0.1


@pytest.mark.slow
def test_a_client_that_hangs_up_on_a_direct_download_leaves_nothing(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(engines="tone", default_voice="tone:beep", parallel_sentences="1")
    text = "A slow sentence. " * 200
    with httpx.Client(base_url=server.url) as client:
        with contextlib.suppress(httpx.TimeoutException):  # hangs up after half a second
            client.post("/speech", json={"text": text, "voice": "tone:slow"}, timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            metrics = client.get("/metrics").text
            running = [line for line in metrics.splitlines() if line.startswith("sayfile_jobs{")]
            audio = list((server.data_dir / "audio").iterdir())
            if not audio and all(
                line.endswith(" 0.0") for line in running if "running" in line or "queued" in line
            ):
                break
            assert time.monotonic() < deadline, f"still {running}, files {audio}"
            time.sleep(0.1)


@pytest.mark.slow
def test_a_restart_after_kill_9_fails_the_old_jobs_at_once(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    settings = {"engines": "tone", "default_voice": "tone:beep", "parallel_sentences": "1"}
    server = server_factory(tmp_path / "data", **settings)
    job = httpx.post(f"{server.url}/jobs", json={"text": BOOK, "voice": "tone:slow"}).json()
    server.crash()
    again = server_factory(tmp_path / "data", **settings)
    # The first answer of the restarted server already says so: no sweep is waited for.
    state = httpx.get(again.url + job["status_url"]).json()
    assert state["status"] == "failed"
    assert "restarted" in state["error"]
    assert list((tmp_path / "data" / "audio").iterdir()) == []


@pytest.mark.usefixtures("ffmpeg")
def test_a_voice_sample_is_made_once_and_then_served(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, api_keys=["secret"])
    # A sample costs a synthesis the first time: with keys it needs one (issue 28).
    assert client.get("/voices/tone:slow/sample").status_code == 401
    client.headers["authorization"] = "Bearer secret"
    first = client.get("/voices/tone:slow/sample")
    assert first.status_code == 200 and first.headers["content-type"] == "audio/mpeg"
    assert decode(first.content, "mp3").duration_s > 1
    started = time.monotonic()
    again = client.get("/voices/tone:slow/sample")
    assert again.content == first.content
    assert time.monotonic() - started < 0.5  # the finished file, not made again
    unknown = client.get("/voices/tone:nope/sample")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_voice"
