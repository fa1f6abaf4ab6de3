"""The HTTP API in process (TestClient) with real engines: shapes, headers, errors, lifetime."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import decode, wait_done

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

SHORT = "Hello there. This is a short test."
CHINESE = "你好，世界。这是一个测试。"
# Long enough for espeak-ng to work a few seconds: time to look at a running job.
LONG = "This sentence is here to keep the engine busy for a while. " * 800


def audio_files(client: TestClient) -> list[Path]:
    root: Path = client.app.state.settings.data_dir / "audio"  # type: ignore[attr-defined]
    return sorted(root.iterdir())


def test_page_has_a_working_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<form id="speech-form" method="post" action="/speech">' in html
    assert 'value="piper:en_US-joe-medium"' in html and 'value="espeak:fr-fr"' in html
    # espeak-ng's Mandarin reads Latin letters in Chinese as English: not offered on the page.
    assert 'value="espeak:cmn"' not in html
    assert "★ neural" in html
    assert client.get("/static/app.js").status_code == 200


def test_voices_filter_by_language(client: TestClient) -> None:
    voices = client.get("/voices", params={"language": "zh"}).json()
    assert voices[0]["id"] == "kokoro:zm_yunjian"
    assert all(v["language"] in ("zh-CN", "yue") for v in voices)
    assert "espeak:cmn" not in [v["id"] for v in voices]  # reads pinyin in English
    assert len(client.get("/voices").json()) > 100


@pytest.mark.usefixtures("ffmpeg")
def test_direct_download_headers_are_exact(client: TestClient) -> None:
    r = client.post("/speech", json={"text": CHINESE, "language": "zh", "format": "wav"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"ni-hao-shi-jie-zhe-shi-yi-ge-ce-shi.wav\"; filename*=UTF-8''"
        "%E4%BD%A0%E5%A5%BD-%E4%B8%96%E7%95%8C-%E8%BF%99%E6%98%AF%E4%B8%80%E4%B8%AA%E6%B5%8B%E8%AF%95.wav"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert int(r.headers["content-length"]) == len(r.content)
    assert decode(r.content, "wav").duration_s > 2


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_form_post_with_message_field_downloads_each_format(client: TestClient, fmt: str) -> None:
    r = client.post(
        "/speech",
        data={
            "message": "Ça va très bien.",
            "voice": "espeak:fr-fr",
            "format": fmt,
            "language": "",
            "speed": "1.5",
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="ca-va-tres-bien.')
    assert decode(r.content, fmt).duration_s > 0.5


@pytest.mark.usefixtures("ffmpeg")
def test_streamed_download_is_one_valid_file(client: TestClient) -> None:
    text = "One sentence after another is streamed to you. " * 12
    with client.stream(
        "POST", "/speech?stream=true", json={"text": text, "voice": "espeak:en-us", "format": "mp3"}
    ) as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers
        assert r.headers["content-disposition"].startswith("attachment;")
        data = b"".join(r.iter_bytes())
    assert decode(data, "mp3").duration_s > 20


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ({"text": "   "}, 422, "invalid_input", "empty"),
        ({}, 422, "invalid_input", "text"),
        ({"text": "x" * 5001}, 413, "text_too_long", "limit is 5000"),
        ({"text": "hi", "voice": "espeak:cmnn"}, 422, "unknown_voice", "espeak:cmn"),
        ({"text": "hi", "language": "tlh"}, 422, "unknown_language", "tlh"),
        (
            {"text": "hi", "format": "ogg"},
            422,
            "unknown_format",
            "mp3, opus, aac, m4b, flac, wav, pcm",
        ),
        ({"text": "hi", "speed": 9}, 422, "invalid_input", "0.25 to 4.0"),
        ({"text": "hi", "speed": "fast"}, 422, "invalid_input", "speed"),
        ({"text": ["a", "b"]}, 422, "invalid_input", "text"),
    ],
)
def test_bad_input_gets_a_clear_json_error(
    client: TestClient, body: dict[str, object], status: int, code: str, needle: str
) -> None:
    r = client.post("/speech", json=body)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == code
    assert needle in error["message"]


def test_unknown_format_lists_the_allowed_values(client: TestClient) -> None:
    error = client.post("/speech", json={"text": "hi", "format": "ogg"}).json()["error"]
    assert error["allowed"] == ["mp3", "opus", "aac", "m4b", "flac", "wav", "pcm"]
    assert error["field"] == "format"


def test_malformed_bodies_are_refused(client: TestClient) -> None:
    r = client.post("/speech", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]["message"]
    r = client.post("/speech", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/speech", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "application/json" in r.json()["error"]["message"]
    r = client.post("/speech", json=["a list"])
    assert r.status_code == 422
    r = client.post("/speech", json={"text": "hi", "speed": True})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "invalid_input",
        "message": "speed: must be a number, not true or false",
        "field": "speed",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "param", "message"),
    [
        (  # a trailing comma
            '{"model": "tts-1", "voice": "alloy", "input": "Hi",}',
            "application/json",
            None,
            "The body is not valid JSON at character 52 (Expecting property name enclosed in "
            "double quotes).",
        ),
        (
            "model=tts-1&voice=alloy&input=Hi",
            "application/x-www-form-urlencoded",
            None,
            "The body must be a JSON object of the request's fields (send it with "
            "Content-Type: application/json).",
        ),
        (
            '{"model": "tts-1", "voice": {"name": "x"}, "input": "Hi"}',
            "application/json",
            "voice",
            "voice: not a value it takes; allowed: text or an object with id.",
        ),
        (
            '{"model": "tts-1", "voice": "alloy", "input": "Hi", "speed": true}',
            "application/json",
            "speed",
            "speed: must be a number, not true or false",
        ),
    ],
)
def test_openai_requests_pydantic_refuses_are_said_in_the_requests_words(
    client: TestClient, body: str, content_type: str, param: str | None, message: str
) -> None:
    # They had said "46: JSON decode error" (param "46"), "Input should be a valid
    # dictionary...", "voice.str: ...; voice.VoiceRef.id: Field required", or taken true as 1.
    r = client.post("/v1/audio/speech", content=body, headers={"content-type": content_type})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": "invalid_input",
    }


def test_body_size_is_capped(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=2048)
    r = client.post("/jobs", json={"text": "a" * 4000})
    assert r.status_code == 413
    assert "2048 bytes" in r.json()["error"]["message"]


@pytest.mark.usefixtures("ffmpeg")
def test_raw_utf8_form_posts_keep_their_chinese(client: TestClient) -> None:
    """`curl -d text=你好` sends UTF-8 bytes without percent-encoding."""
    r = client.post(
        "/speech",
        content="text=你好，世界。这是一个测试。&language=zh".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert r.headers["content-disposition"].endswith(
        "%E4%BD%A0%E5%A5%BD-%E4%B8%96%E7%95%8C-%E8%BF%99%E6%98%AF%E4%B8%80%E4%B8%AA%E6%B5%8B%E8%AF%95.mp3"
    )
    assert decode(r.content, "mp3").duration_s > 2
    bad = client.post(
        "/speech",
        content=b"text=%81%00%FF%FE",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # Bytes that no encoding explains (not UTF-8, nor GB18030 and the others) are refused,
    # naming the field.
    assert bad.status_code == 422 and "UTF-8" in bad.json()["error"]["message"]
    assert bad.json()["error"]["field"] == "text"
    # A NUL in a field of UTF-8 text is a space, as in JSON (it was refused as "a binary file,
    # or UTF-16 without a byte order mark").
    nul = client.post(
        "/speech",
        content=b"text=Hello%00there.",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert nul.status_code == 200, nul.text


def test_form_post_errors_come_back_on_the_page_with_the_text_kept(client: TestClient) -> None:
    r = client.post(
        "/speech",
        data={"text": "Keep me <b>safe</b>", "voice": "espeak:nope"},
        headers={"accept": "text/html,application/xhtml+xml"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in r.text and "Unknown voice" in r.text
    assert "Keep me &lt;b&gt;safe&lt;/b&gt;</textarea>" in r.text


def test_direct_and_job_limits_are_separate(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_chars_direct=50, max_chars_job=100)
    text = "A sentence of some sixty characters, give or take a few ones."
    assert client.post("/speech", json={"text": text}).status_code == 413
    assert client.post("/jobs", json={"text": text}).status_code == 202
    r = client.post("/jobs", json={"text": text * 2})
    assert r.status_code == 413 and "limit is 100" in r.json()["error"]["message"]


@pytest.mark.usefixtures("ffmpeg")
def test_job_lifecycle_with_ranges_and_validators(client: TestClient) -> None:
    r = client.post("/jobs", json={"text": SHORT, "format": "flac", "voice": "espeak:en-us"})
    assert r.status_code == 202
    job = r.json()
    assert r.headers["location"] == job["status_url"] == f"/jobs/{job['id']}"
    assert job["audio_url"] == f"/jobs/{job['id']}/audio"
    assert len(job["id"]) == 32 and job["status"] in ("queued", "running", "done")
    assert job["expires_at"].endswith("Z")
    done = wait_done(client, job["status_url"])
    assert done["status"] == "done" and done["progress"] == 1.0
    assert done["format"] == "flac" and done["voice"] == "espeak:en-us"

    full = client.get(done["audio_url"])
    assert full.status_code == 200 and len(full.content) == done["bytes"]
    assert decode(full.content, "flac").duration_s == pytest.approx(done["duration_s"], abs=0.05)
    etag = full.headers["etag"]
    assert full.headers["accept-ranges"] == "bytes"

    head = client.head(done["audio_url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(done["bytes"])

    part = client.get(done["audio_url"], headers={"range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-19/{done['bytes']}"
    assert part.content == full.content[10:20]

    resumed = client.get(done["audio_url"], headers={"range": "bytes=100-", "if-range": etag})
    assert resumed.status_code == 206 and resumed.content == full.content[100:]
    stale = client.get(done["audio_url"], headers={"range": "bytes=100-", "if-range": '"old"'})
    assert stale.status_code == 200 and stale.content == full.content

    cached = client.get(done["audio_url"], headers={"if-none-match": etag})
    assert cached.status_code == 304 and cached.content == b""

    assert client.delete(f"/jobs/{job['id']}").status_code == 204
    assert client.get(done["audio_url"]).status_code == 404
    assert audio_files(client) == []


def test_unknown_and_path_like_ids_are_404(client: TestClient) -> None:
    for job_id in ("nope", "A" * 32, "..%2F..%2Fjobs.sqlite3", "%2e%2e", "A" * 31 + "."):
        for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/audio"):
            r = client.get(path)
            assert r.status_code == 404, path
    assert client.delete("/jobs/" + "B" * 32).status_code == 404


def test_audio_is_409_while_running_and_cancel_stops_it(client: TestClient) -> None:
    job = client.post(
        "/jobs", json={"text": LONG, "voice": "espeak:en-us", "format": "opus"}
    ).json()
    r = client.get(job["audio_url"])
    assert r.status_code == 409
    assert r.headers["retry-after"] == "2"
    assert r.json()["error"]["code"] == "not_ready"
    time.sleep(0.5)
    assert client.get(job["status_url"]).json()["status"] == "running"
    assert client.delete(f"/jobs/{job['id']}").status_code == 204
    assert client.get(job["status_url"]).status_code == 404
    deadline = time.monotonic() + 10
    while audio_files(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert audio_files(client) == []  # the unfinished file is gone too


def test_progress_events_end_with_the_finished_job(client: TestClient) -> None:
    text = "Progress is reported sentence by sentence. " * 200
    job = client.post("/jobs", json={"text": text, "voice": "espeak:en-us"}).json()
    with client.stream("GET", f"{job['status_url']}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = [block for block in body.split("\n\n") if block]
    assert events[-1].startswith("event: end\n")
    assert '"status":"done"' in events[-1]
    assert all(e.startswith(("event: progress", "event: end")) for e in events)


def test_one_time_links_die_after_a_complete_download(client: TestClient) -> None:
    job = client.post("/jobs", json={"text": SHORT, "one_time": True, "voice": "espeak:en-us"})
    done = wait_done(client, job.json()["status_url"])
    url = done["audio_url"]
    assert client.head(url).status_code == 200
    assert client.get(url, headers={"range": "bytes=0-99"}).status_code == 206
    assert client.get(url).status_code == 200  # the one complete download
    assert client.get(url).status_code == 410
    assert client.get(done["status_url"]).json()["status"] == "expired"
    assert audio_files(client) == []


@pytest.mark.usefixtures("ffmpeg")
def test_identical_requests_reuse_the_file(client: TestClient) -> None:
    body = {"text": SHORT, "voice": "piper:en_US-joe-medium", "format": "mp3"}
    first = wait_done(client, client.post("/jobs", json=body).json()["status_url"])
    again = client.post("/jobs", json=body).json()
    assert again["status"] == "done" and again["id"] != first["id"]
    assert again["bytes"] == first["bytes"]
    a = client.get(first["audio_url"]).content
    assert client.delete(f"/jobs/{first['id']}").status_code == 204
    b = client.get(again["audio_url"]).content
    assert a == b and decode(b, "mp3").duration_s > 1
    other = client.post("/jobs", json={**body, "speed": 1.5}).json()
    assert wait_done(client, other["status_url"])["bytes"] != first["bytes"]


def test_files_expire_and_nothing_is_left_on_disk(make_client: Callable[..., TestClient]) -> None:
    client = make_client(ttl_seconds=1, sweep_interval_seconds=0.2, record_ttl_seconds=3600)
    urls = []
    for i in range(3):
        job = client.post("/jobs", json={"text": f"Expiring file {i}.", "voice": "espeak:en-us"})
        urls.append(wait_done(client, job.json()["status_url"])["audio_url"])
    # Each job's audio, and its timings beside it.
    assert len(audio_files(client)) == 6
    assert len([p for p in audio_files(client) if p.name.endswith(".timings.json")]) == 3
    time.sleep(1.8)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 410 and "expired" in r.json()["error"]["message"]
    assert audio_files(client) == []


def test_full_queue_answers_503_with_retry_after(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_queue=1)
    busy = client.post("/jobs", json={"text": LONG, "voice": "espeak:en-us"}).json()
    r = client.post("/speech", json={"text": "Me too."})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert client.delete(f"/jobs/{busy['id']}").status_code == 204


def test_startup_reconciles_the_data_folder(tmp_path: Path) -> None:
    from sayfile.app import create_app
    from sayfile.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        job = client.post("/jobs", json={"text": SHORT, "voice": "espeak:en-us"}).json()
        wait_done(client, job["status_url"])
    audio = tmp_path / "data" / "audio"
    (audio / ("C" * 32 + ".mp3.part")).write_bytes(b"half")
    (audio / ("D" * 32 + ".mp3")).write_bytes(b"orphan")
    (audio / "stray.txt").write_bytes(b"?")
    with TestClient(create_app(settings)) as client:
        kept = [f"{job['id']}.mp3", f"{job['id']}.timings.json"]
        assert sorted(p.name for p in audio.iterdir()) == sorted(kept)
        assert client.get(job["audio_url"]).status_code == 200
