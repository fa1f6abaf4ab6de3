"""The middleware every request goes through, in process: HEAD wherever GET is."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, Server, wait_done

# Headers that differ between any two answers.
_OWN = {"date", "x-request-id"}


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in _OWN}


def test_head_is_answered_wherever_get_is(make_client: Callable[..., TestClient]) -> None:
    """HEAD was 405 on every GET route but a job's audio: `wget --spider` health checks and
    link checkers failed."""
    client = make_client(**TONES)
    job = client.post("/jobs", json={"text": "Hello there, reader."}).json()
    assert wait_done(client, job["status_url"])["status"] == "done"
    missing = "/jobs/" + "0" * 32
    paths = [
        "/healthz",
        "/readyz",
        "/",
        "/?lang=zh-CN",
        "/voices",
        "/v1/models",
        job["status_url"],
        f"{job['status_url']}/timings",
        f"{job['status_url']}/events",
        f"{job['status_url']}/subtitles.vtt",
        missing,
    ]
    for path in paths:
        get = client.get(path)
        head = client.head(path)
        assert (head.status_code, head.content) == (get.status_code, b""), path
        assert _headers(head.headers) == _headers(get.headers), path
    assert client.head(missing).status_code == 404
    # Where GET is not, HEAD is not either.
    assert client.head("/speech").status_code == 405
    assert client.head("/nowhere").status_code == 404


@pytest.mark.parametrize("path", ["/healthz", "/static/app.js"])
def test_head_is_logged_and_counted_as_head(
    make_client: Callable[..., TestClient], path: str
) -> None:
    client = make_client(**TONES)
    assert client.head(path).status_code == 200
    metrics = client.get("/metrics").text
    route = "/static" if path.startswith("/static") else path
    assert f'method="HEAD",route="{route}",status="200"' in metrics, metrics


@pytest.mark.slow
def test_head_over_a_socket_sends_no_body_and_ends_a_stream(
    server_factory: Callable[..., Server],
) -> None:
    """uvicorn sends no body for HEAD by its own scope's method; the connection stays usable,
    and HEAD of a running job's events ends at once rather than following the job."""
    server = server_factory(engines="tone", default_voice="tone:beep", parallel_sentences="1")
    with httpx.Client(base_url=server.url, timeout=5) as client:
        job = client.post("/jobs", json={"text": "A slow sentence. " * 400, "voice": "tone:slow"})
        events = f"{job.json()['status_url']}/events"
        for path in ("/", "/healthz", "/voices", events, "/readyz"):
            get = client.head(path)
            assert get.status_code == 200 and get.content == b"", path
        page = client.get("/")
        assert client.head("/").headers["content-length"] == str(len(page.content))
        assert client.get(job.json()["status_url"]).json()["status"] in ("queued", "running")
