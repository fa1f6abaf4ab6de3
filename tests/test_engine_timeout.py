"""Every engine call is time-boxed: a call that hangs fails its request or job with an
engine time-out, and the engine is replaced so that the next request is answered."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import decode_in_process, wait_done
from hanging import VOICE, HangingEngine, hanging_engines
from sayfile.engines import ENGINES


@pytest.fixture
def hanging(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[HangingEngine]]:
    """The `hang` engine's instances; every hang is released when the test ends."""
    release = threading.Event()
    build, made = hanging_engines(release)
    monkeypatch.setitem(ENGINES, "hang", build)
    yield made
    release.set()


def _client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(
        engines=["hang"], default_voice=VOICE, engine_timeout_seconds=1.0, loudness=None
    )


def test_a_hung_call_fails_the_request_and_the_next_one_is_answered(
    make_client: Callable[..., TestClient], hanging: list[HangingEngine]
) -> None:
    client = _client(make_client)
    hung = client.post("/speech", json={"text": "One word HANG here.", "format": "wav"})
    assert hung.status_code == 504, hung.text
    error = hung.json()["error"]
    assert error["code"] == "engine_timeout"
    assert "took longer than 1 s" in error["message"]
    assert "SAYFILE_ENGINE_TIMEOUT_SECONDS" in error["message"]
    # The stuck call still holds its instance's lock; the next request gets a fresh one.
    answered = client.post("/speech", json={"text": "Three short words.", "format": "wav"})
    assert answered.status_code == 200, answered.text
    assert decode_in_process(answered.content, "wav").duration_s > 0.3
    assert len(hanging) == 2


def test_a_job_whose_engine_call_hangs_fails_naming_the_time_out(
    make_client: Callable[..., TestClient], hanging: list[HangingEngine]
) -> None:
    client = _client(make_client)
    text = "A first sentence. " * 30 + "Then HANG here. " + "A last sentence. " * 30
    created = client.post("/jobs", json={"text": text, "format": "mp3"})
    assert created.status_code == 202, created.text
    job = wait_done(client, created.json()["status_url"])
    assert job["status"] == "failed"
    assert "took longer than 1 s" in job["error"], job
    assert "SAYFILE_ENGINE_TIMEOUT_SECONDS" in job["error"]
    audio = client.get(created.json()["audio_url"])
    assert audio.status_code == 409, audio.text
    # Another job right after is made whole by the fresh instance.
    again = client.post("/jobs", json={"text": "A first sentence. " * 10, "format": "mp3"})
    done = wait_done(client, again.json()["status_url"])
    assert done["status"] == "done", done
    assert decode_in_process(client.get(again.json()["audio_url"]).content, "mp3").duration_s > 5


def test_closing_the_executor_leaves_a_hung_step_behind() -> None:
    """A process stopping does not wait for a step that never ends (it would never stop)."""
    from sayfile.speech.scheduler import Lane, SentenceExecutor

    executor = SentenceExecutor(1)
    started, release = threading.Event(), threading.Event()

    def hang() -> None:
        started.set()
        release.wait()

    future = executor.turn(Lane.background).submit(hang, 0)
    started.wait()
    try:
        executor.close(wait_s=0.05)  # returns although the step still runs
        assert future.running()
    finally:
        release.set()
    assert future.result(timeout=10) is None
