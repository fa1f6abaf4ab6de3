"""The middleware every request goes through: HEAD wherever GET is, a body over the limit
refused in the route's shape."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, Server, wait_done
from sayfile.api.interface_languages import words

KIB = 1024

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


def _chunks(body: bytes) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked)."""
    for start in range(0, len(body), 8 * KIB):
        yield body[start : start + 8 * KIB]


@pytest.mark.parametrize("language", ["en", "zh-CN", "zh-TW"])
def test_a_form_post_over_the_body_limit_gets_the_page_with_its_message(
    make_client: Callable[..., TestClient], language: str
) -> None:
    """The page's form post over SAYFILE_MAX_BODY_BYTES got a bare JSON 413."""
    client = make_client(**TONES, max_body_bytes=64 * KIB)
    body = "text=" + "word+" * (20 * KIB)
    headers = {
        "accept": "text/html",
        "accept-language": language,
        "content-type": "application/x-www-form-urlencoded",
    }
    for sent in (body.encode(), _chunks(body.encode())):  # by its length, and as it comes
        r = client.post("/speech", content=sent, headers=headers)
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        page = html.unescape(r.text)
        assert words(language)["error_body_too_large"] in page
        assert "SAYFILE_MAX_BODY_BYTES" in page and '<form id="speech-form"' in page
        assert r.headers["connection"] == "close"


def test_a_body_over_the_limit_under_v1_gets_openai_s_error_object(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, max_body_bytes=64 * KIB)
    body = {"model": "tts-1", "voice": "alloy", "input": "word " * (20 * KIB)}
    error = client.post("/v1/audio/speech", json=body).json()["error"]
    assert error["code"] == "body_too_large" and error["type"] == "invalid_request_error"
    assert "SAYFILE_MAX_BODY_BYTES" in error["message"]
