"""Serving under a path prefix (SAYFILE_ROOT_PATH), in process: every link sayfile makes
starts with the prefix, and requests are served with the prefix or with it stripped by a
proxy. Through a real nginx and a real browser: tests/test_reverse_proxy.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import TONES, wait_done
from sayfile.settings import Settings

PREFIX = "/tts"
# href, src and spec-url (ReDoc's) attributes, and the URLs Swagger UI is handed in its script.
_LINKS = re.compile(r"""(?:href|src|spec-url)="([^"#]+)"|(?:url|src|href)\s*[:=]\s*'([^']+)'""")


def links_in(html: str) -> list[str]:
    return [a or b for a, b in _LINKS.findall(html)]


@pytest.fixture
def prefixed(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**TONES, root_path=PREFIX + "/")


@pytest.mark.parametrize("asked", [f"{PREFIX}/", "/"], ids=["as-sent", "prefix-stripped"])
def test_every_link_on_the_page_starts_with_the_prefix_and_answers(
    prefixed: TestClient, asked: str
) -> None:
    page = prefixed.get(asked)
    assert page.status_code == 200
    assert f'action="{PREFIX}/speech"' in page.text
    links = links_in(page.text)
    assert f"{PREFIX}/static/app.js" in links, links
    for link in links:
        assert link.startswith(PREFIX + "/"), link
        assert prefixed.get(link).status_code == 200, link
        # nginx's `proxy_pass http://sayfile/;` hands the same request on without the prefix.
        assert prefixed.get(link.removeprefix(PREFIX)).status_code == 200, link


def test_the_page_scripts_build_every_address_from_the_forms_action(
    prefixed: TestClient,
) -> None:
    # app.js takes its root from the form's action (which carries the prefix) and otherwise
    # follows the links the server gave; an address written from "/" would miss the prefix.
    for script in ("app.js", "read_along.js"):
        source = prefixed.get(f"{PREFIX}/static/{script}").text
        written = r"""(?<!root \+ )["'`]/(?:speech|jobs|voices|books|static|v1)\b"""
        assert not re.findall(written, source), script


def test_job_links_and_headers_start_with_the_prefix(prefixed: TestClient) -> None:
    created = prefixed.post(f"{PREFIX}/jobs", json={"text": "Hello there."})
    assert created.status_code == 202
    job = created.json()
    assert created.headers["location"] == job["status_url"]
    for name in ("status_url", "audio_url", "timings_url"):
        assert job[name].startswith(f"{PREFIX}/jobs/{job['id']}"), job
    done = wait_done(prefixed, job["status_url"])
    assert done["status"] == "done"
    audio = prefixed.get(done["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    with prefixed.stream("GET", job["status_url"] + "/events") as events:
        lines = [line for line in events.iter_lines() if line.startswith("data:")]
    assert json.loads(lines[-1].removeprefix("data:"))["audio_url"] == done["audio_url"]
    # As a proxy that strips the prefix sends it: the links still carry it.
    stripped = prefixed.post("/jobs", json={"text": "Hello there."}).json()
    assert stripped["status_url"].startswith(f"{PREFIX}/jobs/")


def test_a_direct_download_that_becomes_a_job_names_its_link_under_the_prefix(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, root_path=PREFIX, max_chars_in_memory=0)
    answer = client.post("/speech", json={"text": "Hello there."})
    assert answer.status_code == 200
    assert answer.headers["content-location"].startswith(f"{PREFIX}/jobs/")
    assert client.get(answer.headers["content-location"]).content == answer.content


def test_the_api_manual_works_under_the_prefix(prefixed: TestClient) -> None:
    for manual in ("/docs", "/redoc"):
        page = prefixed.get(PREFIX + manual)
        # Swagger UI runs inline scripts: the page's Content-Security-Policy would stop it.
        assert "content-security-policy" not in page.headers
        links = links_in(page.text)
        assert f"{PREFIX}/openapi.json" in links, links
        for link in links:
            if not link.startswith("http"):
                assert link.startswith(PREFIX + "/") and prefixed.get(link).status_code == 200
    # "Try it out" sends requests to the server's URL, which carries the prefix.
    assert prefixed.get(f"{PREFIX}/openapi.json").json()["servers"] == [{"url": PREFIX}]


def test_redirects_and_error_shapes_know_the_prefix(prefixed: TestClient) -> None:
    home = prefixed.get(PREFIX, follow_redirects=False)
    assert home.headers["location"].endswith(f"{PREFIX}/")
    slash = prefixed.get(f"{PREFIX}/voices/", follow_redirects=False)
    assert slash.headers["location"].endswith(f"{PREFIX}/voices")
    # The OpenAI route answers in OpenAI's error shape, which its clients read.
    wrong = prefixed.post(f"{PREFIX}/v1/audio/speech", json={"input": ""})
    assert wrong.json()["error"]["type"] == "invalid_request_error"
    # The static files are cached; the page is not.
    assert "no-store" not in prefixed.get(f"{PREFIX}/static/app.js").headers.get(
        "cache-control", ""
    )


def test_the_prefixs_cookie_is_kept_to_the_prefix(prefixed: TestClient) -> None:
    switched = prefixed.get(f"{PREFIX}/?lang=zh-CN")
    assert f"Path={PREFIX}" in switched.headers["set-cookie"]


@pytest.mark.parametrize("prefix", ["tts", "//elsewhere.example", "/a/../b", "/a b", "/tts?x"])
def test_a_prefix_that_is_not_a_plain_path_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="path prefix"):
        Settings(root_path=prefix)
