"""Time left: each voice's pace (priors, then what finished jobs teach), a job's own pace as
it goes, and `eta_seconds` over HTTP falling while a job runs."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, wait_done
from sayfile.models import Quality, Voice
from sayfile.speech.pace import PRIORS, JobPace, PaceBook

ENGLISH = Voice("piper:en_US-joe-medium", "piper", "Joe", "en-US", 22050, Quality.neural)
MANDARIN = Voice("kokoro:zm_yunjian", "kokoro", "Yunjian", "zh-CN", 24000, Quality.neural)
STRANGER = Voice("other:x", "other", "X", "en", 16000, Quality.formant)


def test_an_unmeasured_voice_has_its_engines_prior_by_script() -> None:
    pace = PaceBook()
    assert pace.per_char(ENGLISH) == PRIORS["piper"][0]
    assert pace.per_char(MANDARIN) == PRIORS["kokoro"][1]
    # A Chinese character says more than a Latin letter, so it takes longer to make.
    assert PRIORS["kokoro"][1] > PRIORS["kokoro"][0]
    assert pace.per_char(STRANGER) is None


def test_a_queued_job_needs_all_its_characters_at_the_voices_pace() -> None:
    pace = PaceBook({"piper": (0.002, 0.008)})
    assert pace.seconds_left(ENGLISH, JobPace(10_000, 0.0, None)) == pytest.approx(20.0)
    assert pace.seconds_left(STRANGER, JobPace(10_000, 0.0, None)) is None
    assert pace.seconds_left(ENGLISH, JobPace(0, 0.0, None)) is None


def test_a_finished_job_teaches_its_voice_and_the_average_moves_gently() -> None:
    pace = PaceBook({"piper": (0.002, 0.008)})
    pace.learn(ENGLISH.id, 1000, 5.0)  # 0.005 s a character: slower than the prior
    assert pace.per_char(ENGLISH) == pytest.approx(0.005)
    pace.learn(ENGLISH.id, 1000, 1.0)  # one quick job moves it part of the way
    assert 0.001 < pace.per_char(ENGLISH) < 0.005  # type: ignore[operator]
    pace.learn(ENGLISH.id, 0, 3.0)  # nothing to learn from
    pace.learn(ENGLISH.id, 10, 0.0)
    assert 0.001 < pace.per_char(ENGLISH) < 0.005  # type: ignore[operator]


def test_the_book_of_paces_is_bounded_to_the_voices_used_last() -> None:
    pace = PaceBook({}, max_voices=2)
    voices = [Voice(f"x:{n}", "x", str(n), "en", 16000, Quality.formant) for n in range(3)]
    for voice in voices:
        pace.learn(voice.id, 100, 1.0)
    assert pace.per_char(voices[0]) is None  # forgotten
    assert pace.per_char(voices[1]) == pace.per_char(voices[2]) == pytest.approx(0.01)


def test_a_running_job_leans_on_its_own_pace_as_it_goes() -> None:
    """The prior says 20 s for the job; the job itself runs twice as slow. Early on the
    estimate is a blend; past a quarter it is the job's own pace alone."""
    pace = PaceBook({"piper": (0.002, 0.008)})
    # A tenth made in 4 s: its own pace is 0.004 s a character, trusted 0.4 against 0.6.
    early = pace.seconds_left(ENGLISH, JobPace(10_000, 0.1, 4.0))
    assert early == pytest.approx(9000 * (0.4 * 0.004 + 0.6 * 0.002))
    later = pace.seconds_left(ENGLISH, JobPace(10_000, 0.5, 20.0))
    assert later == pytest.approx(20.0)  # the other half at the job's own pace
    # Without a prior, the job's own pace alone.
    assert pace.seconds_left(STRANGER, JobPace(1000, 0.25, 10.0)) == pytest.approx(30.0)
    assert pace.seconds_left(STRANGER, JobPace(1000, 0.0, 10.0)) is None


def test_estimates_fall_as_a_job_goes_at_a_steady_pace() -> None:
    """A job making 1,000 characters a second with a conservative prior: every estimate is
    below the one before, and the last one is close to the truth."""
    pace = PaceBook({"piper": (0.002, 0.008)})
    chars = 20_000
    estimates = []
    for second in range(1, 20):
        done = second * 1000 / chars
        left = pace.seconds_left(ENGLISH, JobPace(chars, done, float(second)))
        assert left is not None
        estimates.append(left)
    assert all(b < a for a, b in itertools.pairwise(estimates))
    assert estimates[-1] == pytest.approx(1.0)


def _running_readings(client: TestClient, status_url: str) -> list[dict[str, Any]]:
    readings = []
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(status_url).json()
        readings.append(job)
        if job["status"] not in ("queued", "running"):
            return readings
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.05)


def test_a_running_job_reports_a_falling_eta_and_none_once_done(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, parallel_sentences=1)
    r = client.post("/jobs", json={"text": "A slow sentence here. " * 60, "voice": "tone:slow"})
    assert r.status_code == 202
    created = r.json()
    assert created["eta_seconds"] is not None and created["eta_seconds"] > 0
    readings = _running_readings(client, created["status_url"])
    assert readings[-1]["status"] == "done" and readings[-1]["eta_seconds"] is None
    running = [j for j in readings if j["status"] == "running" and j["progress"] > 0]
    assert len(running) >= 5
    early = running[0]
    late = next(j for j in running if j["progress"] >= 0.6)
    assert late["eta_seconds"] < early["eta_seconds"]
    # Whole seconds, never negative.
    assert all(float(j["eta_seconds"]).is_integer() and j["eta_seconds"] >= 0 for j in running)


def test_the_server_learns_a_voices_pace_from_its_finished_jobs(
    make_client: Callable[..., TestClient],
) -> None:
    """tone:beep is far quicker than the tone prior: once a job of it is done, the next
    job's estimate before it starts is shorter than the first one's was."""
    client = make_client(**TONES)
    text = "Quick words at once. " * 200
    first = client.post("/jobs", json={"text": text, "voice": "tone:beep"}).json()
    assert wait_done(client, first["status_url"])["status"] == "done"
    second = client.post("/jobs", json={"text": text + "Again.", "voice": "tone:beep"}).json()
    assert second["eta_seconds"] is not None
    assert second["eta_seconds"] < first["eta_seconds"]


def test_the_events_carry_the_eta(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES, parallel_sentences=1)
    job = client.post("/jobs", json={"text": "Slow words. " * 40, "voice": "tone:slow"}).json()
    with client.stream("GET", job["status_url"] + "/events") as events:
        body = "".join(events.iter_text())
    progress = [line for line in body.splitlines() if line.startswith("data: ")]
    assert '"eta_seconds":' in progress[0]
    assert any(
        '"status":"running"' in line and '"eta_seconds":null' not in line for line in progress
    )
    assert '"eta_seconds":null' in progress[-1] and '"status":"done"' in progress[-1]
