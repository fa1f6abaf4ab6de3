"""sayfile under a path prefix behind a real nginx (`sayfile serve --root-path /tts`): the
page, its links, jobs, the API manual and the page's form posts, from httpx and from a real
browser; in one nginx, the deploy guide's way (prefix passed on, `Host $http_host`) and the
way found failing (prefix stripped, `Host $host`, which drops the port)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from conftest import Server, decode, free_port, start_server, wait_done

pytestmark = [pytest.mark.usefixtures("ffmpeg"), pytest.mark.slow]

PREFIX = "/tts"
NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream sayfile {{
        server 127.0.0.1:{upstream};
        keepalive 8;
    }}
    {servers}
}}
"""
SERVER = """
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 4m;
        location /tts/ {{
            proxy_pass http://sayfile{uri};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host {host};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
"""
# (proxy_pass's URI part, the Host passed on): the deploy guide's, and the one found failing.
WAYS = {"documented": ("", "$http_host"), "stripped-port-dropped": ("/", "$host")}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
_LINKS = re.compile(r"""(?:href|src|spec-url)="([^"#]+)"|(?:url|src|href)\s*[:=]\s*'([^']+)'""")


@pytest.fixture(scope="module")
def sayfile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(
        tmp_path_factory.mktemp("proxied") / "data",
        "--root-path",
        PREFIX,
        engines="espeak",
        default_voice="espeak:en-us",
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def nginx(sayfile: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One nginx in front of `sayfile`, a server for each of WAYS; their URLs by name."""
    if shutil.which("nginx") is None:
        pytest.fail("nginx missing: run `make test`, which installs it")
    folder = tmp_path_factory.mktemp("nginx")
    ports = {name: free_port() for name in WAYS}
    servers = "".join(
        SERVER.format(port=ports[name], uri=uri, host=host) for name, (uri, host) in WAYS.items()
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;\n" if os.geteuid() == 0 else "",
            tmp=folder,
            upstream=sayfile.url.rsplit(":", 1)[1],
            servers=servers,
        )
    )
    process = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(conf)])
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for url in urls.values():
            _wait_for(f"{url}{PREFIX}/healthz", process)
        yield urls
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful end
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "nginx exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer through nginx")


def _links(html: str) -> list[str]:
    return [a or b for a, b in _LINKS.findall(html)]


@pytest.mark.parametrize("way", WAYS)
def test_the_page_jobs_and_manual_work_through_nginx_under_the_prefix(
    nginx: dict[str, str], way: str
) -> None:
    with httpx.Client(base_url=nginx[way], timeout=30) as proxied:
        page = proxied.get(PREFIX, follow_redirects=True)
        assert page.status_code == 200 and str(page.url).endswith(f"{PREFIX}/")
        assert f'action="{PREFIX}/speech"' in page.text
        for path in ("/", "/docs", "/redoc"):
            for link in _links(proxied.get(PREFIX + path).text):
                if not link.startswith("http"):
                    assert proxied.get(link).status_code == 200, (path, link)
        assert proxied.get(f"{PREFIX}/openapi.json").json()["servers"] == [{"url": PREFIX}]
        if way == "documented":
            # A redirect sayfile makes keeps the prefix, and nginx's port with `$http_host`
            # (`$host` drops it: docs/deploy.md).
            slash = proxied.get(f"{PREFIX}/voices/", follow_redirects=True)
            assert slash.status_code == 200 and slash.url.path == f"{PREFIX}/voices"

        created = proxied.post(f"{PREFIX}/jobs", json={"text": "Hello through a proxy."})
        assert created.status_code == 202
        job = created.json()
        assert created.headers["location"] == job["status_url"]
        assert job["audio_url"].startswith(f"{PREFIX}/jobs/")
        assert wait_done(proxied, job["status_url"])["status"] == "done"
        with proxied.stream("GET", job["status_url"] + "/events") as events:
            data = [line for line in events.iter_lines() if line.startswith("data:")]
        assert json.loads(data[-1].removeprefix("data:"))["audio_url"] == job["audio_url"]
        audio = proxied.get(job["audio_url"])
        assert decode(audio.content, "mp3").duration_s > 0.5


@pytest.mark.parametrize("way", WAYS)
def test_the_pages_form_posts_are_taken_through_nginx_and_other_sites_are_not(
    nginx: dict[str, str], way: str
) -> None:
    # What Chromium sends for the page's Download and book upload.
    page = {"origin": nginx[way], "sec-fetch-site": "same-origin"}
    form = {"text": "Hi", "voice": "espeak:en-us"}
    with httpx.Client(base_url=nginx[way], timeout=30) as proxied:
        spoken = proxied.post(
            f"{PREFIX}/speech", data=form, headers={**page, "accept": "text/html"}
        )
        assert spoken.status_code == 200, spoken.text
        assert spoken.headers["content-type"] == "audio/mpeg"
        book = {"file": ("book.txt", b"Hello there.\n", "text/plain")}
        uploaded = proxied.post(f"{PREFIX}/jobs", files=book, data=form, headers=page)
        assert uploaded.status_code == 202, uploaded.text
        assert uploaded.json()["status_url"].startswith(f"{PREFIX}/jobs/")

        elsewhere = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
        refused = proxied.post(f"{PREFIX}/speech", data=form, headers=elsewhere)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "cross_site_form"


def test_a_browser_downloads_gets_a_link_and_uploads_a_book_through_nginx(
    nginx: dict[str, str], tmp_path: Path
) -> None:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium missing: run `make test`, which installs Debian's chromium")
    # The way found failing: the prefix stripped and the port dropped from Host.
    url = nginx["stripped-port-dropped"]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True, locale="en-US")
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto(f"{url}{PREFIX}/")
            _use_the_page(page, url, tmp_path)
        finally:
            browser.close()


def _use_the_page(page: Page, url: str, tmp_path: Path) -> None:
    # The voices are listed by the page's script from /voices.
    page.select_option("#language", "")
    page.select_option("#voice", "espeak:en-us")
    page.fill("#text", "Hello through a proxy.")
    with page.expect_download(timeout=30_000) as download:
        page.click("#download")
    assert decode(Path(download.value.path()).read_bytes(), "mp3").duration_s > 0.5

    with page.expect_response(lambda r: r.request.method == "POST") as created:
        page.click("#get-link")
    assert created.value.status == 202
    job = created.value.json()
    expect(page.locator("#job-status")).to_contain_text("Ready:", timeout=20_000)
    assert page.input_value("#link") == url + job["audio_url"]
    assert job["audio_url"].startswith(f"{PREFIX}/jobs/")

    book = tmp_path / "storm.md"
    book.write_text("# The Calm\n\nThe sea was quiet.\n\n# The Storm\n\nThe wind rose.\n")
    page.fill("#text", "")
    page.set_input_files("#book-file", book)
    expect(page.locator("#book-clear")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith(f"{PREFIX}/jobs")) as uploaded:
        page.click("#get-link")
    assert uploaded.value.status == 202, uploaded.value.text()
    expect(page.locator("#job-status")).to_contain_text("Ready:", timeout=30_000)
