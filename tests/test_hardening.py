"""Inputs and clients that tried to freeze the server, dodge a limit or get a 500 (issue 16),
on the tone engine: each answers a clear 4xx in the route's shape."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import TONES, Server, sayfile_cli, wait_done


@pytest.mark.slow  # a time limit: the slow layer
def test_text_far_over_the_limit_is_refused_before_it_is_cleaned_up(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, max_chars_job=1000, max_chars_book=1000)
    started = time.perf_counter()
    r = client.post("/jobs", json={"text": "ab\x01 " * 300_000})
    # Long plain text is made as a book: the book limit is the one it is over.
    assert r.status_code == 413 and r.json()["error"]["code"] == "book_too_long"
    assert r.json()["error"]["setting"] == "SAYFILE_MAX_CHARS_BOOK"
    r = client.post("/jobs", json={"text": "<speak>" + "ab\x01 " * 300_000 + "</speak>"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "text_too_long"
    assert r.json()["error"]["setting"] == "SAYFILE_MAX_CHARS_JOB"
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("text", ["...", "。！", "?!;…", " - * / "])
def test_text_with_nothing_to_speak_is_422(
    make_client: Callable[..., TestClient], text: str
) -> None:
    client = make_client(**TONES)
    for path in ("/speech", "/jobs", "/speech?stream=true"):
        r = client.post(path, json={"text": text})
        assert r.status_code == 422, path
        assert r.json()["error"]["field"] == "text"


def test_a_made_up_bearer_token_is_no_new_client(make_client: Callable[..., TestClient]) -> None:
    """Without configured keys, random tokens share the address's limits."""
    client = make_client(**TONES, rate_limit="5/minute")
    codes = [
        client.post(
            "/speech", json={"text": f"Hi {n}."}, headers={"authorization": f"Bearer r{n}"}
        ).status_code
        for n in range(8)
    ]
    assert codes == [200] * 5 + [429] * 3


def test_configured_keys_are_clients_of_their_own(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, rate_limit="2/minute", api_keys=["one", "two"])
    for key in ("one", "two"):
        codes = [
            client.post(
                "/speech", json={"text": "Hi."}, headers={"authorization": f"Bearer {key}"}
            ).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]


def test_wrong_key_guesses_are_rate_limited(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, api_keys=["right"], key_failure_limit="3/minute")

    def post(key: str) -> int:
        headers = {"authorization": f"Bearer {key}"}
        return client.post("/speech", json={"text": "Hi."}, headers=headers).status_code

    assert [post(f"guess{n}") for n in range(3)] == [401, 401, 401]
    assert post("guess3") == 429
    # Past the limit even the right key gets no answer about itself: guessing is stopped.
    assert post("right") == 429


def test_deeply_nested_json_is_422(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    for path in ("/speech", "/jobs"):
        r = client.post(path, content=b"[" * 100_000, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


def test_a_lone_surrogate_is_answered_in_the_page(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    r = client.post(
        "/speech",
        content=b'{"text": "\\ud800", "format": "nope"}',
        headers={"content-type": "application/problem+json", "accept": "text/html"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")


def test_an_unexpected_error_is_json_with_the_request_id(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    app: FastAPI = client.app  # type: ignore[assignment]

    async def broken() -> None:
        raise RuntimeError("something nobody expected")

    app.add_api_route("/broken", broken)
    app.add_api_route("/v1/broken", broken)
    r = client.get("/broken")
    assert r.status_code == 500
    rid = r.headers["x-request-id"]
    assert r.json()["error"] == {
        "code": "internal_error",
        "message": f"Internal error; the request id {rid} names it in the server's logs.",
    }
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.get("/v1/broken")
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"


def test_engine_errors_name_no_server_paths(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    voices = tmp_path / "secret-voices-folder"
    voices.mkdir()
    (voices / "broken.onnx").write_bytes(b"not a model")
    config = {"audio": {"sample_rate": 22050}, "language": {"code": "en_US"}, "dataset": "x"}
    (voices / "broken.onnx.json").write_text(json.dumps(config))
    client = make_client(engines=["piper"], voices_dir=voices, default_voice="piper:broken")
    r = client.post("/speech", json={"text": "Hello.", "voice": "piper:broken"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "engine_error"
    assert "secret-voices-folder" not in r.text and str(tmp_path) not in r.text


def _sayfile(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return sayfile_cli(*args, engines="tone", voice="tone:beep", cwd=cwd)


@pytest.mark.slow  # the command line in a process of its own
def test_the_cli_says_in_one_line_when_it_cannot_write(tmp_path: Path) -> None:
    result = _sayfile("say", "Hello.", "-o", str(tmp_path / "missing" / "x.mp3"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: cannot write")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # the command line in a process of its own
def test_the_cli_refuses_text_with_nothing_to_speak(tmp_path: Path) -> None:
    result = _sayfile("say", "。！", "-o", str(tmp_path / "x.mp3"), cwd=tmp_path)
    assert result.returncode == 2 and "nothing to speak" in result.stderr
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.slow  # the command line in a process of its own
def test_voice_ids_are_never_cut(tmp_path: Path) -> None:
    env_columns = {"COLUMNS": "30"}
    result = subprocess.run(
        [sys.executable, "-m", "sayfile", "voices"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SAYFILE_ENGINES": "tone", **env_columns},
        check=True,
    )
    assert "tone:beep" in result.stdout and "tone:slow" in result.stdout


def test_the_page_has_a_content_security_policy(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_a_form_posted_from_another_site_is_refused(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    form = {"text": "Hello."}
    other = client.post("/speech", data=form, headers={"origin": "https://evil.example"})
    assert other.status_code == 403 and other.json()["error"]["code"] == "cross_site_form"
    hidden = client.post(
        "/speech", data=form, headers={"origin": "null", "sec-fetch-site": "cross-site"}
    )
    assert hidden.status_code == 403
    same = client.post("/speech", data=form, headers={"origin": "http://testserver"})
    assert same.status_code == 200
    assert client.post("/speech", data=form).status_code == 200  # curl sends no Origin


def test_the_api_manual_needs_nothing_from_outside(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    for path in ("/docs", "/redoc"):
        page = client.get(path).text
        assert "cdn." not in page and "googleapis" not in page, path
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            if asset in page:
                assert client.get(f"/manual-assets/{asset}").status_code == 200


def test_readiness_says_the_store_is_away_while_the_api_serves(
    make_client: Callable[..., TestClient],
) -> None:
    """Start-up with Redis down: the API serves and /readyz names the store."""
    client = make_client(**TONES, store_url="redis://127.0.0.1:9/0", redis_timeout_seconds=0.5)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["store"] != "ok"
    assert client.post("/jobs", json={"text": "Hi."}).status_code == 503


def test_with_keys_a_repeat_is_reused_only_for_the_same_key(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, api_keys=["one", "two"])

    def create(key: str) -> str:
        body = {"text": "The same words.", "voice": "tone:slow"}
        job = client.post("/jobs", json=body, headers={"authorization": f"Bearer {key}"}).json()
        status: str = job["status"]
        wait_done(client, job["status_url"])
        return status

    assert create("one") == "queued"
    assert create("one") == "done"  # its own earlier file, at once
    assert create("two") == "queued"  # nothing tells key two what key one asked for


def _stored(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("sayfile_storage_bytes "):
            return float(line.split()[1])
    raise AssertionError("no sayfile_storage_bytes")


def test_the_quota_counts_what_is_on_disk_and_refuses_with_507(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, storage_quota_bytes=15_000)
    job = client.post("/jobs", json={"text": "Hello there."}).json()
    assert wait_done(client, job["status_url"])["status"] == "done"
    r = client.post("/jobs", json={"text": "Something new."})
    error = r.json()["error"]
    assert r.status_code == 507 and "SAYFILE_STORAGE_QUOTA_BYTES" in error["message"]
    assert error["setting"] == "SAYFILE_STORAGE_QUOTA_BYTES" and error["limit"] == 15_000
    assert 0 < error["room"] < error["size"]
    assert f"has {error['room']:,} bytes left" in error["message"]
    assert client.get(job["audio_url"]).status_code == 200  # nothing was evicted


@pytest.mark.slow  # waits for the disk's figure (a second old at most)
def test_repeats_of_one_file_count_once(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, storage_quota_bytes=40_000)
    first = client.post("/jobs", json={"text": "Hello there."}).json()
    wait_done(client, first["status_url"])
    time.sleep(1.1)  # the disk's figure is a second old at most
    alone = _stored(client)
    for _ in range(6):
        assert client.post("/jobs", json={"text": "Hello there."}).json()["status"] == "done"
    time.sleep(1.1)
    assert _stored(client) == alone
    # Another user still has room.
    assert client.post("/jobs", json={"text": "Something new."}).status_code == 202


def test_jobs_submitted_at_once_cannot_write_past_the_quota(
    make_client: Callable[..., TestClient],
) -> None:
    """Each admitted job reserves what it will write, so twelve at once do not all fit."""
    client = make_client(**TONES, storage_quota_bytes=600_000)
    codes = [
        client.post("/jobs", json={"text": f"Words number {n} " * 20, "voice": "tone:slow"})
        for n in range(12)
    ]
    admitted = [r.json() for r in codes if r.status_code == 202]
    assert 0 < len(admitted) < 12
    assert {r.status_code for r in codes} == {202, 507}
    for job in admitted:
        wait_done(client, job["status_url"], timeout=30)
    total = sum(p.stat().st_size for p in (client.app.state.settings.data_dir / "audio").iterdir())  # type: ignore[attr-defined]
    assert total <= 600_000


def test_a_one_time_link_is_used_up_by_ranges_too(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)

    def one_time_link() -> tuple[str, int]:
        job = client.post("/jobs", json={"text": "Just once.", "one_time": True}).json()
        done = wait_done(client, job["status_url"])
        return done["audio_url"], done["bytes"]

    url, _ = one_time_link()
    whole = client.get(url, headers={"range": "bytes=0-"})  # what <audio> elements send
    assert whole.status_code == 206
    assert client.get(url).status_code == 410

    url, size = one_time_link()
    half = size // 2
    assert client.get(url, headers={"range": f"bytes=0-{half - 1}"}).status_code == 206
    assert client.get(url, headers={"range": f"bytes={half}-"}).status_code == 206
    assert client.get(url).status_code == 410


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_openai_wav_and_flac_files_state_their_true_length(
    make_client: Callable[..., TestClient], fmt: str, tmp_path: Path
) -> None:
    client = make_client(**TONES)
    words = "One two three four five. Six seven eight."
    body = {"model": "tts-1", "input": words, "voice": "tone:beep", "response_format": fmt}
    r = client.post("/v1/audio/speech", json=body)
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
    # Eight words of 0.16 s and two pauses of 0.2 s, at 16 kHz.
    expected = 8 * 0.16 + 2 * 0.2
    saved = tmp_path / f"speech.{fmt}"
    saved.write_bytes(r.content)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", saved],
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(probe.stdout) == pytest.approx(expected, abs=0.02)
    if fmt == "wav":
        with wave.open(str(saved)) as wav:
            assert wav.getnframes() / wav.getframerate() == pytest.approx(expected, abs=0.02)


@pytest.mark.slow
def test_a_huge_header_gets_431_and_a_slow_one_is_cut_off(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(engines="tone", default_voice="tone:beep", header_timeout_seconds="1")
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"headers_too_large" in answer
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        assert _read_all(sock) == b""  # closed by the server
        assert 0.5 < time.monotonic() - started < 5
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.slow  # a real espeak-ng process that hangs
def test_a_hung_engine_process_is_killed_in_time(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """An espeak-ng that never answers: the call is time-boxed and the request fails."""
    real = subprocess.run(["which", "espeak-ng"], capture_output=True, text=True, check=False)
    hanging = tmp_path / "espeak-ng"
    hanging.write_text(
        '#!/bin/sh\nfor a in "$@"; do [ "$a" = --voices ] && exec '
        + (real.stdout.strip() or "espeak-ng")
        + " --voices; done\nexec sleep 600\n"
    )
    hanging.chmod(0o755)
    client = make_client(
        engines=["espeak"],
        espeak_command=str(hanging),
        espeak_library=False,  # the command speaks (the library would not hang)
        engine_timeout_seconds=1,
        default_voice="espeak:en-us",
    )
    started = time.monotonic()
    r = client.post("/speech", json={"text": "Hello."})
    assert r.status_code == 504 and r.json()["error"]["code"] == "engine_timeout"
    assert "longer than 1 s" in r.json()["error"]["message"]
    assert time.monotonic() - started < 10


def test_job_ids_never_reach_the_logs(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(**TONES)
    with caplog.at_level("DEBUG"):
        job = client.post("/jobs", json={"text": "Fine. Then FAIL here."}).json()
        assert wait_done(client, job["status_url"])["status"] == "failed"
        client.get(job["audio_url"])
        client.delete(job["status_url"])
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("sayfile")]
    assert ours
    assert not [message for message in ours if job["id"] in message]


def test_a_one_time_link_serves_one_download_at_a_time(
    make_client: Callable[..., TestClient],
) -> None:
    """Two downloads at once cannot both get the file: the second waits its turn (409)."""
    client = make_client(**TONES)
    job = client.post("/jobs", json={"text": "Only once.", "one_time": True}).json()
    done = wait_done(client, job["status_url"])
    downloads = client.app.state.services.jobs.downloads  # type: ignore[attr-defined]
    assert client.portal is not None
    held, file = client.portal.call(downloads.open_audio, done["id"], True)  # one under way
    second = client.get(done["audio_url"])
    assert second.status_code == 409 and second.json()["error"]["code"] == "being_downloaded"
    assert client.head(done["audio_url"]).status_code == 200  # HEAD takes nothing
    file.close()
    client.portal.call(downloads.download_ended, held, 0)  # it broke off before any byte
    assert client.get(done["audio_url"]).status_code == 200
    assert client.get(done["audio_url"]).status_code == 410


@pytest.mark.slow  # a time limit: the slow layer
async def test_a_redis_that_does_not_answer_is_given_up_within_the_timeout() -> None:
    """The documented SAYFILE_REDIS_TIMEOUT_SECONDS holds, retry included (was twice it)."""
    from sayfile.errors import StoreUnavailable
    from sayfile.store.redis import RedisJobStore

    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        store = RedisJobStore(f"redis://127.0.0.1:{port}/0", timeout=1.0)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.get("x" * 32)
        waited = time.monotonic() - started
        await store.close()
    assert 0.4 < waited < 1.4
