"""Operating sayfile: metrics, health, request ids, limits, and failing gracefully (a full disk,
a broken voice, SIGTERM, kill -9) with real processes, signals and file systems."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from conftest import Server, decode, job_under_way, start_server, wait_done
from sayfile.engines.piper import bundled_voice_models

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

LONG = "This job runs long enough to be caught in the act, sentence by sentence. " * 400
# LONG made whole by one process, not as a book in parts (which resumes after a restart
# instead: tests/test_book_parts.py), for the tests of how such a job ends.
WHOLE = {"book_above_chars": "0"}


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        base, _, rest = sample.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if base == name and got == wanted:
            return float(value)
    return 0.0


def test_metrics_count_requests_synthesis_and_jobs(client: TestClient) -> None:
    client.post("/speech", json={"text": "Counting this one.", "voice": "espeak:en-us"})
    client.post("/speech", json={"text": "x", "voice": "nope"})
    job = client.post("/jobs", json={"text": "And a job.", "voice": "espeak:en-us"}).json()
    wait_done(client, job["status_url"])
    client.get(job["audio_url"])
    r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        metric(text, "sayfile_http_requests_total", route="/speech", method="POST", status="200")
        == 1
    )
    assert (
        metric(text, "sayfile_http_requests_total", route="/speech", method="POST", status="422")
        == 1
    )
    audio_route = "/jobs/{job_id}/audio"
    assert (
        metric(text, "sayfile_http_requests_total", route=audio_route, method="GET", status="200")
        == 1
    )
    assert job["id"] not in text  # paths are counted by template, ids never appear
    assert metric(text, "sayfile_synthesis_seconds_count", engine="espeak") >= 2
    assert metric(text, "sayfile_audio_seconds_total", engine="espeak") > 1.0
    assert metric(text, "sayfile_realtime_factor_count", engine="espeak") >= 2
    assert metric(text, "sayfile_jobs", status="done") == 1  # the short direct answer is none
    assert metric(text, "sayfile_bytes_served_total", kind="file") > 1000
    assert metric(text, "sayfile_storage_bytes") > 1000
    assert "sayfile_queue_depth 0.0" in text


def test_readyz_reports_each_check(make_client: Callable[..., TestClient]) -> None:
    ready = make_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"engines": "ok", "store": "ok", "data_dir": "ok", "free_space": "ok"},
    }
    starved = make_client(min_free_bytes=10**18).get("/readyz")
    assert starved.status_code == 503
    assert "below the floor" in starved.json()["checks"]["free_space"]


def test_request_ids_are_returned_and_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="sayfile.access")
    r = client.post("/speech", json={"text": "Secret words here.", "voice": "espeak:en-us"})
    rid = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    mine = client.get("/healthz", headers={"x-request-id": "trace-1234abcd"})
    assert mine.headers["x-request-id"] == "trace-1234abcd"
    evil = client.get("/healthz", headers={"x-request-id": "bad\tid"})
    assert evil.headers["x-request-id"] != "bad\tid"
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "sayfile.access"]
    assert any(line.startswith("POST /speech 200") for line in lines)
    assert "Secret" not in caplog.text


def test_json_logs_carry_the_request_id() -> None:
    import logging

    from sayfile.logs import JsonFormatter, RequestIdFilter, request_id

    token = request_id.set("abc123def456")
    record = logging.makeLogRecord({"name": "sayfile.test", "msg": "hello %s", "args": ("you",)})
    RequestIdFilter().filter(record)
    request_id.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello you" and entry["request_id"] == "abc123def456"


def test_rate_limit_answers_429_with_retry_after(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit="3/minute", api_keys=["mine", "other"])
    mine = {"Authorization": "Bearer mine"}
    body = {"text": "Rate limited.", "voice": "espeak:en-us"}
    statuses = [client.post("/speech", json=body, headers=mine).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = client.post("/jobs", json=body, headers=mine)
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 60
    assert "3/minute" in r.json()["error"]["message"]
    # Another configured API key is another client.
    other = client.post("/speech", json=body, headers={"Authorization": "Bearer other"})
    assert other.status_code == 200
    openai_shape = client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "voice": "alloy", "input": "Hi."},
        headers=mine,
    )
    assert openai_shape.status_code == 429
    assert openai_shape.json()["error"]["type"] == "rate_limit_exceeded"
    assert metric(client.get("/metrics").text, "sayfile_http_requests_total",
                  route="/speech", method="POST", status="429") == 1  # fmt: skip


@pytest.mark.parametrize(("trusted", "second"), [("", 429), ("127.0.0.0/8", 200)])
def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    server_factory: Callable[..., Server], trusted: str, second: int
) -> None:
    server = server_factory(rate_limit="1/minute", trusted_proxies=trusted)
    body = {"text": "Behind a proxy.", "voice": "espeak:en-us"}
    statuses = [
        httpx.post(
            f"{server.url}/speech", json=body, headers={"x-forwarded-for": address}
        ).status_code
        for address in ("203.0.113.7", "203.0.113.8")
    ]
    assert statuses == [200, second]


def test_bad_trusted_proxies_are_refused() -> None:
    from pydantic import ValidationError

    from sayfile.settings import Settings

    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies=["proxy.local"])


def test_one_client_cannot_hold_every_synthesis_place(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_active_per_client=1, api_keys=["mine", "theirs"])
    mine = {"Authorization": "Bearer mine"}
    busy = client.post("/jobs", json={"text": LONG, "voice": "espeak:en-us"}, headers=mine)
    r = client.post("/jobs", json={"text": "Me too.", "voice": "espeak:en-us"}, headers=mine)
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_active"
    other = client.post(
        "/jobs",
        json={"text": "Someone else.", "voice": "espeak:en-us"},
        headers={"Authorization": "Bearer theirs"},
    )
    assert other.status_code == 202
    assert client.delete(f"/jobs/{busy.json()['id']}", headers=mine).status_code == 204


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"text": "hi\r\nX-Injected: yes", "voice": "espeak:en-us"}, {}),
        ({"text": "\x00\x01\x1b[31mctrl", "voice": "espeak:en-us"}, {}),
        ({"text": "<speak><prosody rate='x-slow'>SSML</prosody></speak>"}, {}),
        ({"text": "hi", "voice": "../../etc/passwd"}, {}),
        ({"text": "hi", "voice": "espeak:en-us\r\nX-Injected: yes"}, {}),
        ({"text": "hi", "format": "mp3\r\nX-Injected: yes"}, {}),
        ({"text": "hi", "speed": 1e308}, {}),
        ({"text": "hi", "speed": float("nan")}, {}),
        ({"text": "hi", "speed": [1]}, {}),
        ({"text": {"nested": True}}, {}),
        ({"text": "hi", "language": "x" * 10_000}, {}),
        ({"text": "hi"}, {"x-request-id": "a\r\nX-Injected: yes"}),
    ],
)
def test_malformed_input_never_reaches_a_5xx_or_a_header(
    client: TestClient, body: dict[str, object], headers: dict[str, str]
) -> None:
    content = json.dumps(body, allow_nan=True).encode()
    r = client.post(
        "/speech",
        content=content,
        headers={"content-type": "application/json", **headers},
    )
    assert r.status_code < 500
    assert "x-injected" not in {k.lower() for k in r.headers}
    if r.status_code == 200:
        assert "\r" not in r.headers["content-disposition"]
    else:
        assert r.json()["error"]["message"]


def test_invalid_utf8_in_a_form_is_a_4xx(client: TestClient) -> None:
    r = client.post(
        "/speech",
        content=b"text=%FF%FEhello&voice=espeak%3Aen-us",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code in (200, 422)
    r = client.post(
        "/speech",
        content=b"\xff\xfe\x00garbage",
        headers={"content-type": "multipart/form-data; boundary=zzz"},
    )
    assert 400 <= r.status_code < 500


def test_a_broken_voice_does_not_affect_the_others(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    config = Path(f"{bundled_voice_models()[0]}.json").read_text()
    (voices / "en_US-broken-medium.onnx").write_bytes(b"this is not an onnx model")
    (voices / "en_US-broken-medium.onnx.json").write_text(config)
    client = make_client(voices_dir=voices)
    broken = client.post("/speech", json={"text": "Hello.", "voice": "piper:en_US-broken-medium"})
    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "engine_error"
    assert "piper:en_US-broken-medium" in broken.json()["error"]["message"]
    job = client.post("/jobs", json={"text": "Hello.", "voice": "piper:en_US-broken-medium"})
    failed = wait_done(client, job.json()["status_url"])
    assert failed["status"] == "failed" and "could not load" in failed["error"]
    for voice in ("piper:en_US-joe-medium", "espeak:en-us"):
        assert (
            client.post("/speech", json={"text": "Still fine.", "voice": voice}).status_code == 200
        )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: a real file system that fills up (the tests run as root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    assert done.returncode == 0, f"mounting a tmpfs needs root: {done.stderr.decode()}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.usefixtures("ffmpeg")
def test_disk_full_fails_the_job_clearly_and_the_server_keeps_working(
    small_disk: Path, server_factory: Callable[..., Server]
) -> None:
    server = server_factory(small_disk / "data", min_free_bytes="0")
    with httpx.Client(base_url=server.url, timeout=120) as client:
        # An hour of WAV (160 MB) cannot fit in 3 MiB.
        big = client.post("/jobs", json={"text": LONG, "voice": "espeak:en-us", "format": "wav"})
        job = wait_done(client, big.json()["status_url"], timeout=120)
        assert job["status"] == "failed"
        assert "ran out of disk space" in job["error"]
        direct = client.post("/speech", json={"text": LONG[:4000], "format": "wav"})
        assert direct.status_code == 507 and direct.json()["error"]["code"] == "disk_full"
        assert not list((small_disk / "data" / "audio").glob("*.unfinished"))
        small = client.post("/speech", json={"text": "Room for this one.", "format": "mp3"})
        assert small.status_code == 200
        assert decode(small.content, "mp3").duration_s > 0.5


def test_sigterm_hands_back_work_and_leaves_no_part_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, **WHOLE)
    try:
        job = job_under_way(server.url, LONG, until=lambda job: job["progress"] > 0)
        assert list((data / "audio").glob("*.unfinished"))
    finally:
        server.stop()  # SIGTERM, then wait
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert not list((data / "audio").glob("*.unfinished"))
    again = start_server(data, **WHOLE)
    try:
        record = httpx.get(again.url + job["status_url"]).json()
        assert record["status"] == "failed"
        assert "server shut down" in record["error"]
    finally:
        again.stop()


def test_kill_9_is_reconciled_at_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, **WHOLE)
    # Under way with a sentence written, so that its unfinished file exists.
    job = job_under_way(server.url, LONG, until=lambda job: job["progress"] > 0)
    server.crash()
    assert list((data / "audio").glob("*.unfinished"))
    # No waiting for a heartbeat to go stale: the embedded server alone ran the job.
    again = start_server(data, **WHOLE)
    try:
        assert not list((data / "audio").glob("*.unfinished"))
        record = httpx.get(again.url + job["status_url"]).json()
        assert record["status"] == "failed" and "server restarted" in record["error"]
    finally:
        again.stop()
