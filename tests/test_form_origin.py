"""Forms posted to sayfile (in process): those from its own page are taken, behind a proxy
that rewrites Host too; those from another site's page are refused (403 cross_site_form)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from conftest import TONES

FORM = {"text": "Hello."}
# The page's own Download, through nginx on port 8732 with `proxy_set_header Host $host;`,
# which drops the port: the browser's Origin names it, the Host sayfile sees does not.
PORT_DROPPED = {
    "host": "127.0.0.1",
    "origin": "http://127.0.0.1:8732",
    "accept": "text/html",
}
PROXY = "10.0.0.2"


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**TONES)


def test_a_browsers_same_origin_form_is_taken_whatever_host_the_proxy_sends(
    client: TestClient,
) -> None:
    same_origin = {**PORT_DROPPED, "sec-fetch-site": "same-origin"}
    spoken = client.post("/speech", data=FORM, headers=same_origin)
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/mpeg"
    # The page's book upload: a multipart POST /jobs.
    book = {"file": ("book.txt", b"Chapter 1\n\nHello there.\n", "text/plain")}
    headers = {**same_origin, "accept": "application/json"}
    uploaded = client.post("/jobs", files=book, data={"format": "mp3"}, headers=headers)
    assert uploaded.status_code == 202, uploaded.text


def test_a_form_typed_by_the_user_is_taken(client: TestClient) -> None:
    # `Sec-Fetch-Site: none`: the request came from the user (a bookmark), not from a page.
    typed = client.post("/speech", data=FORM, headers={**PORT_DROPPED, "sec-fetch-site": "none"})
    assert typed.status_code == 200


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://127.0.0.1:8732", "127.0.0.1:8732"),  # nginx's `Host $http_host`
        ("https://tts.example.org", "tts.example.org"),
        ("https://tts.example.org", "tts.example.org:443"),
        ("http://tts.example.org", "TTS.example.org:80"),
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_without_sec_fetch_site_the_origin_must_be_the_host_default_ports_alike(
    client: TestClient, origin: str, host: str
) -> None:
    # What a browser without Sec-Fetch-Site (Safari before 16.4) sends.
    headers = {"origin": origin, "host": host}
    assert client.post("/speech", data=FORM, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        {"origin": "https://other.example.org", "sec-fetch-site": "same-site"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
        # Without Sec-Fetch-Site: another host, or this host on another port or scheme.
        {"origin": "https://evil.example"},
        {"origin": "http://127.0.0.1:9999", "host": "127.0.0.1:8732"},
        {"origin": "https://tts.example.org:8443", "host": "tts.example.org"},
        {"origin": "http://tts.example.org", "host": "tts.example.org:443"},
        {"origin": "http://127.0.0.1:8732", "host": "127.0.0.1"},
        {"origin": "http://127.0.0.1:port", "host": "127.0.0.1:port"},
    ],
    ids=lambda headers: ",".join(headers.values()),
)
def test_a_form_from_another_sites_page_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    refused = client.post("/speech", data=FORM, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "cross_site_form"
    book = {"file": ("book.txt", b"Hello there.\n", "text/plain")}
    assert client.post("/jobs", files=book, headers=headers).status_code == 403


def test_x_forwarded_host_counts_only_from_a_trusted_proxy(
    make_client: Callable[..., TestClient],
) -> None:
    # A proxy that rewrites Host to its upstream's name and says the browser's in
    # X-Forwarded-Host; the browser sends no Sec-Fetch-Site.
    headers = {
        "origin": "https://tts.example.org",
        "host": "sayfile-backend:8000",
        "x-forwarded-host": "tts.example.org",
    }
    behind = make_client(**TONES, trusted_proxies=[PROXY], peer=PROXY)
    assert behind.post("/speech", data=FORM, headers=headers).status_code == 200
    anyone = make_client(**TONES, trusted_proxies=[PROXY], peer="192.0.2.7")
    assert anyone.post("/speech", data=FORM, headers=headers).status_code == 403
