"""Scale-out with real processes: a real Redis, two API processes, Taskiq worker processes,
one shared data folder."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from conftest import (
    RedisDatabases,
    RedisServer,
    Server,
    decode,
    decode_in_process,
    job_under_way,
    start_worker,
    stop_worker,
    wait_done,
)
from sayfile.audio.formats import FORMATS
from sayfile.jobs.download_names import content_disposition, stem_for
from sayfile.queue.taskiq import parallel_sentences_per_process
from sayfile.settings import Settings

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

LONG = "A worker keeps this long job busy for a good while, sentence after sentence. " * 400
# LONG made whole by one process, not as a book in parts (which another worker goes on
# with instead: the book tests below), for the tests of how such a job ends.
WHOLE = {"book_above_chars": "0"}


@dataclass
class Cluster:
    apis: list[Server]
    workers: subprocess.Popen[bytes]
    data_dir: Path
    redis: RedisDatabases | RedisServer
    # Starts another pool of two workers on the same Redis and folder.
    more_workers: Callable[[], subprocess.Popen[bytes]]


ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def make_cluster(
    redis_server: RedisDatabases, server_factory: Callable[..., Server], tmp_path: Path
) -> Iterator[ClusterFactory]:
    """Two API processes and a pool of two workers on one Redis and one shared folder."""
    workers: list[subprocess.Popen[bytes]] = []

    def make(
        ttl_seconds: str = "4", redis: RedisDatabases | RedisServer | None = None, **more: str
    ) -> Cluster:
        """`redis`: a server of the test's own, for tests that stop it (else the shared one)."""
        redis = redis or redis_server
        data_dir = tmp_path / "shared"
        env = {
            # Each of the four processes warms its default voice up at start; espeak-ng's
            # takes a fraction of Piper's seconds, and these tests name their voices.
            "default_voice": "espeak:en-us",
            **more,
            "store_url": redis.url(0),
            "queue_url": redis.url(1),
            "worker_timeout_seconds": "3",
            "sweep_interval_seconds": "0.5",
            "ttl_seconds": ttl_seconds,
            # One test client stands for many clients here.
            "rate_limit": "",
            "max_active_per_client": "1000",
        }
        workers.append(start_worker(2, data_dir=str(data_dir), **env))
        # Both started side by side (and beside the worker), then waited for.
        starting = [server_factory(data_dir, ready=False, **env) for _ in range(2)]
        apis = [api.ready() for api in starting]

        def more_workers() -> subprocess.Popen[bytes]:
            workers.append(start_worker(2, data_dir=str(data_dir), **env))
            return workers[-1]

        return Cluster(apis, workers[-1], data_dir, redis, more_workers)

    yield make
    for worker in workers:
        stop_worker(worker)


def _case(i: int) -> dict[str, str]:
    voice = "piper:en_US-joe-medium" if i % 10 == 0 else ("espeak:en-us", "espeak:de")[i % 2]
    fmt = ("mp3", "opus", "wav", "flac")[i % 4]
    return {"text": f"Job {i} here. " + "Some words. " * (1 + i % 5), "voice": voice, "format": fmt}


async def _request(
    urls: list[str], client: httpx.AsyncClient, i: int
) -> tuple[dict[str, str], bytes, str]:
    case = _case(i)
    here, there = urls[i % 2], urls[(i + 1) % 2]
    if i % 3 == 0:
        r = await client.post(f"{here}/speech", json=case)
    elif i % 3 == 1:
        r = await client.post(f"{here}/speech", params={"stream": "true"}, json=case)
    else:
        created = await client.post(f"{here}/jobs", json=case)
        assert created.status_code == 202, created.text
        status_url = there + created.json()["status_url"]  # follow it through the other API
        # Bounded: a finished job once stayed `running` for the stall bound (300 s) when a
        # heartbeat missed its cancellation (tests/test_lease.py has that case alone).
        deadline = time.monotonic() + 90
        while (job := (await client.get(status_url)).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, (i, job)
            await asyncio.sleep(0.1)
        assert job["status"] == "done", job
        r = await client.get(there + job["audio_url"])
    assert r.status_code == 200, (i, r.text[:300])
    return case, r.content, r.headers["content-disposition"]


@pytest.mark.usefixtures("ffmpeg")
def test_200_mixed_requests_across_two_apis_and_two_workers(make_cluster: ClusterFactory) -> None:
    # Files live long enough to be fetched on a busy machine.
    cluster = make_cluster(ttl_seconds="300")
    urls = [api.url for api in cluster.apis]

    async def run_all() -> list[tuple[dict[str, str], bytes, str]]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=180, limits=limits) as client:
            return await asyncio.gather(*(_request(urls, client, i) for i in range(200)))

    results = asyncio.run(run_all())
    for i, (case, data, disposition) in enumerate(results):
        fmt = FORMATS[case["format"]]
        assert disposition == content_disposition(stem_for(case["text"]), fmt.extension)
        words = case["text"].count("words")
        # Debian's ffmpeg (independent of the encoders) for one in seven, every format among
        # them, PyAV in process for the rest: 200 ffmpeg processes cost half a minute.
        read = decode if i % 7 == 0 else decode_in_process
        assert read(data, case["format"]).duration_s > 0.5 + 0.3 * words


def test_a_killed_worker_fails_its_job_clearly_and_leaves_no_file(
    make_cluster: ClusterFactory, request: pytest.FixtureRequest
) -> None:
    cluster = make_cluster(**WHOLE)
    api = cluster.apis[0]
    created = httpx.post(f"{api.url}/jobs", json={"text": LONG, "voice": "espeak:en-us"})
    status_url = api.url + created.json()["status_url"]
    job_id = created.json()["id"]
    _kill_its_worker(cluster, job_id, lambda record: record["progress"] > 0, request)
    part = cluster.data_dir / "audio" / f"{job_id}.mp3.unfinished"
    assert part.exists()

    with httpx.Client() as client:
        job = wait_done(client, status_url, timeout=30)
    assert job["status"] == "failed"
    assert "crashed or was killed" in job["error"]
    # The sweeper removes the files once the failure is recorded, so a client may see the
    # failure a moment before they go (seen in CI); they go within seconds.
    gone_by = time.monotonic() + 5
    while part.exists() and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not part.exists()
    r = httpx.get(api.url + job["audio_url"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "failed"

    # The worker pool replaced the dead process: new work still gets done.
    again = httpx.post(f"{api.url}/jobs", json={"text": "Still working.", "voice": "espeak:en-us"})
    with httpx.Client() as client:
        assert wait_done(client, api.url + again.json()["status_url"])["status"] == "done"
    deadline = time.monotonic() + 20
    audio = cluster.data_dir / "audio"
    while list(audio.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(audio.iterdir()) == []  # after the TTL nothing is left


BOOK = "\n\n".join(
    f"# Chapter {n}\n\n" + f"Part of chapter {n} is read here, one sentence after another. " * 30
    for n in range(1, 5)
).encode()


def _kill_its_worker(
    cluster: Cluster,
    job_id: str,
    until: Callable[[dict[str, Any]], bool],
    request: pytest.FixtureRequest,
) -> None:
    """SIGKILL the worker process its record names once the job runs and `until(record)`."""
    import redis

    records = redis.Redis.from_url(cluster.redis.url(0))
    request.addfinalizer(records.close)
    deadline = time.monotonic() + 60
    while True:
        raw = records.get(f"sayfile:job:{job_id}")
        record = json.loads(raw) if raw else {}
        if record.get("status") == "running" and record.get("worker") and until(record):
            break
        assert time.monotonic() < deadline, record
        time.sleep(0.05)
    pid = int(record["worker"].rsplit(":", 1)[1])
    assert pid != cluster.workers.pid
    os.kill(pid, signal.SIGKILL)


def _post_book(api: Server, fmt: str) -> httpx.Response:
    created = httpx.post(
        f"{api.url}/jobs",
        files={"file": ("book.md", BOOK, "text/markdown")},
        data={"voice": "espeak:en-us", "format": fmt},
    )
    assert created.status_code == 202, created.text
    return created


@pytest.mark.usefixtures("ffmpeg")
def test_a_worker_killed_mid_book_loses_only_its_part_and_the_book_is_whole(
    make_cluster: ClusterFactory, request: pytest.FixtureRequest
) -> None:
    cluster = make_cluster(ttl_seconds="300", book_part_chars="500")
    api, other = cluster.apis
    created = _post_book(api, "opus")
    job_id = created.json()["id"]
    # The process that started the book is at one of its parts: it dies without a word.
    _kill_its_worker(cluster, job_id, lambda record: True, request)

    with httpx.Client() as client:
        job = wait_done(client, other.url + created.json()["status_url"], timeout=180)
    assert job["status"] == "done", job
    audio = httpx.get(other.url + job["audio_url"]).content
    timings = httpx.get(other.url + job["timings_url"]).json()
    said = " ".join(piece["text"] for piece in timings["pieces"])
    for n in range(1, 5):  # every sentence once, in order: nothing lost, nothing twice
        assert said.count(f"Part of chapter {n} is read") == 30
    assert said.index("chapter 1 is") < said.index("chapter 2 is") < said.index("chapter 4 is")
    marks = [mark["name"] for mark in timings["marks"]]
    assert marks == [f"chapter:Chapter {n}" for n in range(1, 5)]
    assert decode(audio, "opus").duration_s == pytest.approx(timings["duration"], abs=0.1)
    assert not (cluster.data_dir / "books" / job_id).exists()


@pytest.mark.usefixtures("ffmpeg")
def test_a_book_goes_on_from_its_finished_parts_when_every_worker_died(
    make_cluster: ClusterFactory,
) -> None:
    # The book is a long text sent as JSON this time, its chapters named by "Chapter N" lines.
    cluster = make_cluster(ttl_seconds="300", book_part_chars="500", book_above_chars="1000")
    api = cluster.apis[0]
    text = BOOK.decode().replace("# Chapter", "Chapter")
    created = httpx.post(
        f"{api.url}/jobs", json={"text": text, "voice": "espeak:en-us", "format": "mp3"}
    )
    assert created.status_code == 202, created.text
    status_url = api.url + created.json()["status_url"]
    folder = cluster.data_dir / "books" / created.json()["id"]
    deadline = time.monotonic() + 60
    while not list(folder.glob("chapter-*.timings.json")):
        assert time.monotonic() < deadline, httpx.get(status_url).json()
        time.sleep(0.05)
    # The whole pool dies at once: nobody is left to hand the book on.
    os.killpg(cluster.workers.pid, signal.SIGKILL)
    cluster.workers.wait()
    kept = {path.name for path in folder.glob("chapter-*.mp3")}
    assert kept
    time.sleep(1)
    assert {path.name for path in folder.glob("chapter-*.mp3")} == kept
    # New workers: the sweeper finds the book without a heartbeat and hands it out again.
    cluster.more_workers()
    with httpx.Client() as client:
        job = wait_done(client, status_url, timeout=180)
    assert job["status"] == "done", job
    timings = httpx.get(api.url + job["timings_url"]).json()
    said = " ".join(piece["text"] for piece in timings["pieces"])
    for n in range(1, 5):
        assert said.count(f"Part of chapter {n} is read") == 30
    marks = [mark["name"] for mark in timings["marks"]]
    assert marks == [f"chapter:Chapter {n}" for n in range(1, 5)]
    audio = httpx.get(api.url + job["audio_url"]).content
    assert decode(audio, "mp3").duration_s == pytest.approx(timings["duration"], abs=0.1)


def test_api_processes_stop_when_their_supervisor_is_killed(
    redis_server: RedisDatabases, server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    """kill -9 of `sayfile serve --workers 2`'s supervisor alone: its API processes must not
    live on holding the port; they stop as on SIGTERM and hand their job back."""
    data = tmp_path / "shared"
    env = {"store_url": redis_server.url(0), "workers": "2", **WHOLE}
    server = server_factory(data, **env)
    job = job_under_way(server.url, LONG)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    deadline = time.monotonic() + 20
    while _group_alive(server.process.pid):
        assert time.monotonic() < deadline, "an API process outlived its supervisor"
        time.sleep(0.1)
    assert not list((data / "audio").glob("*.unfinished"))
    again = server_factory(data, **env)
    record = httpx.get(again.url + job["status_url"]).json()
    assert record["status"] == "failed"
    assert "server shut down" in record["error"]


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_redis_outage_gives_503_and_recovers(
    make_cluster: ClusterFactory, own_redis_server: RedisServer
) -> None:
    cluster = make_cluster(redis=own_redis_server)
    redis = own_redis_server
    urls = [api.url for api in cluster.apis]
    results: list[tuple[float, int, str]] = []

    def call(i: int) -> None:
        start = time.monotonic()
        body = {"text": f"Outage test {i}.", "voice": "espeak:en-us"}
        try:
            r = httpx.post(f"{urls[i % 2]}/speech", json=body, timeout=30)
            code = r.json()["error"]["code"] if r.status_code != 200 else ""
            results.append((time.monotonic() - start, r.status_code, code))
        except httpx.TransportError as exc:
            results.append((time.monotonic() - start, 0, repr(exc)))

    for i in range(10):
        call(i)
    redis.stop()
    for i in range(10, 20):
        call(i)
    redis.start()
    deadline = time.monotonic() + 20
    recovered = False
    i = 20
    while time.monotonic() < deadline and not recovered:
        call(i)
        recovered = results[-1][1] == 200
        i += 1
    before, during, after = results[:10], results[10:20], results[20:]
    assert all(status == 200 for _, status, _ in before)
    assert all(status == 503 and code == "store_unavailable" for _, status, code in during), during
    assert all(seconds < 10 for seconds, _, _ in during)
    assert recovered, after[-3:]
    # A job created through one API after the outage is served by the other.
    created = httpx.post(f"{urls[0]}/jobs", json={"text": "After the storm.", "format": "wav"})
    with httpx.Client() as client:
        job = wait_done(client, urls[1] + created.json()["status_url"])
    assert httpx.get(urls[1] + job["audio_url"]).status_code == 200
    deadline = time.monotonic() + 25
    audio = cluster.data_dir / "audio"
    while list(audio.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(audio.iterdir()) == []


def test_worker_processes_share_the_cores_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sayfile worker --processes N` on a machine: one sentence per core when all are busy."""
    monkeypatch.delenv("SAYFILE_PARALLEL_SENTENCES", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert parallel_sentences_per_process(Settings(), 1) == cores
    assert parallel_sentences_per_process(Settings(), cores) == 1
    assert parallel_sentences_per_process(Settings(), cores * 4) == 1
    monkeypatch.setenv("SAYFILE_PARALLEL_SENTENCES", "3")
    assert parallel_sentences_per_process(Settings(), 2) == 3
