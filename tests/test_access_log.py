"""The log of a real `sayfile serve` process as an operator reads it: one access line per
request with how long it took, and a client that hangs up as a 499 line, never an error."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from conftest import Server, launch_logged_server

pytestmark = pytest.mark.slow

# 50 ms a sentence, one sentence at a time: each request below takes seconds to answer.
_SLOW = "A slow sentence. "
_ACCESS = re.compile(r"sayfile\.access \[[^]]*\] (\S+) (\S+) (\d{3}) ([0-9.]+)ms$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("logged")
    log = folder / "server.log"
    settings = {"engines": "tone", "default_voice": "tone:beep", "parallel_sentences": "1"}
    started = launch_logged_server(folder / "data", log, settings).ready()
    yield started, log
    started.stop()


def _access_lines(log: Path) -> list[tuple[str, str, int, float]]:
    found = (_ACCESS.search(line) for line in log.read_text().splitlines())
    return [(m[1], m[2], int(m[3]), float(m[4])) for m in found if m]


def _logged_until(server: Server, log: Path, line: tuple[str, str, int]) -> str:
    """The log once `line` (method, route, status) is in it and a later request's line too:
    whatever the server logs as it ends the first request is written by then."""
    deadline = time.monotonic() + 20
    while not any(found[:3] == line for found in _access_lines(log)):
        assert time.monotonic() < deadline, f"no access line {line}:\n{log.read_text()}"
        time.sleep(0.05)
    marker = f"after-{time.monotonic_ns()}"
    httpx.get(f"{server.url}/healthz", headers={"x-request-id": marker})
    while marker not in log.read_text():
        assert time.monotonic() < deadline, f"no access line for {marker}"
        time.sleep(0.05)
    return log.read_text()


def test_the_access_line_says_how_long_the_request_took(server: tuple[Server, Path]) -> None:
    """Each line read like `GET /healthz 200 47672628.3ms`: the time since the server's
    clock began, not since the request came in."""
    started, log = server
    with httpx.Client(base_url=started.url) as client:
        before = time.perf_counter()
        answer = client.get("/readyz")
        waited_ms = (time.perf_counter() - before) * 1000
    assert answer.status_code == 200
    rid = answer.headers["x-request-id"]
    _logged_until(started, log, ("GET", "/readyz", 200))
    line = next(line for line in log.read_text().splitlines() if rid in line)
    found = _ACCESS.search(line)
    assert found is not None, line
    # The server's own part of the time the client waited.
    assert 0 < float(found[4]) <= waited_ms, (line, waited_ms)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # Made in memory.
        ("/speech", {"text": _SLOW * 90, "voice": "tone:slow"}),
        # Over SAYFILE_MAX_CHARS_IN_MEMORY: a job the request waits for.
        ("/speech", {"text": _SLOW * 150, "voice": "tone:slow"}),
        (
            "/v1/audio/speech",
            {"model": "tts-1", "input": _SLOW * 90, "voice": "tone:slow", "response_format": "wav"},
        ),
    ],
    ids=["in-memory", "job", "openai-wav"],
)
def test_a_client_that_hangs_up_is_one_499_line_and_no_error(
    server: tuple[Server, Path], path: str, body: dict[str, str]
) -> None:
    """A hang-up while the audio was made logged `Exception in ASGI application` with a
    CancelledError traceback after the 499 line, which pages whoever watches for errors."""
    started, log = server
    already = len(log.read_text())
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{started.url}{path}", json=body, timeout=0.5)
    text = _logged_until(started, log, ("POST", path, 499))[already:]
    assert "ERROR" not in text and "Traceback" not in text, text
