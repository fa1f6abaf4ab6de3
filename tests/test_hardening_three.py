"""Round three of the attacks (issue 28): one-time links, limits counted after markup,
bounded engine calls, SSML with a prologue, chapters and book readers. Each attack that
once got through is a test here."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

import httpx2 as httpx
import pytest

from conftest import Server, wait_done


@pytest.mark.slow
def test_a_one_time_link_delivers_once_on_one_connection_and_at_once(
    server_factory: Callable[..., Server],
) -> None:
    """A second GET right after the first on the same connection, or three GETs at the same
    moment: one whole file, the others 410 (used up) or 409 (being downloaded)."""
    server = server_factory(engines="tone", default_voice="tone:beep")

    def one_time_link(client: httpx.Client) -> tuple[str, int]:
        job = client.post("/jobs", json={"text": "Only once.", "one_time": True}).json()
        done = wait_done(client, job["status_url"])
        return done["audio_url"], done["bytes"]

    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(15):
            url, size = one_time_link(client)
            first = client.get(url)
            second = client.get(url)  # the same keep-alive connection, at once
            assert first.status_code == 200 and len(first.content) == size
            assert second.status_code in (409, 410), second.status_code

    def get(url: str) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as one:
            return one.get(url)

    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        concurrent.futures.ThreadPoolExecutor(3) as pool,
    ):
        for _ in range(15):
            url, size = one_time_link(client)
            answers = list(pool.map(get, [url] * 3))
            whole = [a for a in answers if a.status_code == 200 and len(a.content) == size]
            assert len(whole) == 1, [a.status_code for a in answers]
            assert all(a.status_code in (200, 409, 410) for a in answers)
