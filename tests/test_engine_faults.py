"""With real processes: an engine call that hangs does not hold up other clients, a server
or worker asked to stop (SIGTERM) ends within its bound even with a call hung, and worker
processes go with their supervisor, even when it is killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from conftest import RedisServer, decode, free_port
from hanging import HANG_FILE_ENV

pytestmark = pytest.mark.slow

_HANGING = str(Path(__file__).resolve().parent / "hanging.py")
# `sayfile serve`: uvicorn's 10 s for open requests, 5 s for the pieces being made, and the
# store; `sayfile worker`: cli.servers.WORKER_STOP_SECONDS. A little more for a busy machine.
SERVE_STOP_S = 20
WORKER_STOP_S = 20


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "SAYFILE_DATA_DIR": str(tmp_path / "data"),
        "SAYFILE_ENGINES": "hang,espeak",
        "SAYFILE_DEFAULT_VOICE": "hang:beep",
        "SAYFILE_LOUDNESS": "off",
        "SAYFILE_RATE_LIMIT": "",
        HANG_FILE_ENV: str(tmp_path / "hang-now"),
        **{f"SAYFILE_{k.upper()}": v for k, v in settings.items()},
    }


def _launch(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, _HANGING, *command], env=env, start_new_session=True)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _serve(env: dict[str, str], started: list[subprocess.Popen[bytes]]) -> tuple[str, int]:
    port = free_port()
    process = _launch(["serve", "--port", str(port), "--log-level", "warning"], env)
    started.append(process)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "server exited during start-up"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process.pid
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)


def _hang_next_call(tmp_path: Path) -> Path:
    flag = tmp_path / "hang-now"
    flag.touch()
    return flag


def _until_taken(flag: Path, seconds: float = 30) -> None:
    """Until an engine call took the flag, i.e. hangs now."""
    deadline = time.monotonic() + seconds
    while flag.exists():
        assert time.monotonic() < deadline, "no engine call took the hang"
        time.sleep(0.05)


def test_another_client_is_answered_while_a_call_hangs_and_the_hung_one_times_out(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    url, _ = _serve(_env(tmp_path, engine_timeout_seconds="8", parallel_sentences="2"), processes)
    flag = _hang_next_call(tmp_path)
    hung: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: hung.append(
            httpx.post(
                f"{url}/speech",
                json={"text": "Stuck.", "voice": "hang:beep", "format": "wav"},
                timeout=60,
            )
        )
    )
    first.start()
    _until_taken(flag)
    other = httpx.post(
        f"{url}/speech",
        json={"text": "Good morning.", "voice": "espeak:en-us", "format": "wav"},
        timeout=60,
    )
    assert other.status_code == 200, other.text
    assert not hung, "the other client was answered only after the time-out"
    assert decode(other.content, "wav").duration_s > 0.3
    first.join(60)
    assert hung[0].status_code == 504, hung[0].text
    assert hung[0].json()["error"]["code"] == "engine_timeout"
    # The hung call still holds the old instance; the same voice works on a fresh one.
    again = httpx.post(
        f"{url}/speech",
        json={"text": "Now fine.", "voice": "hang:beep", "format": "wav"},
        timeout=60,
    )
    assert again.status_code == 200, again.text


def test_sigterm_ends_the_server_within_its_bound_with_a_call_hung(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    url, _ = _serve(_env(tmp_path), processes)  # the default time-out: 120 s
    flag = _hang_next_call(tmp_path)

    def hung_client() -> None:
        # The server drops the hung request when it stops: that is not what is measured.
        with contextlib.suppress(httpx.TransportError):
            httpx.post(f"{url}/speech", json={"text": "Stuck.", "voice": "hang:beep"}, timeout=120)

    threading.Thread(target=hung_client, daemon=True).start()
    _until_taken(flag)
    asked = time.monotonic()
    processes[-1].send_signal(signal.SIGTERM)
    processes[-1].wait(timeout=SERVE_STOP_S + 30)
    assert time.monotonic() - asked < SERVE_STOP_S


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _worker(
    tmp_path: Path, redis: RedisServer, started: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], list[int], dict[str, str]]:
    env = _env(tmp_path, store_url=redis.url(0), queue_url=redis.url(1))
    worker = _launch(["worker", "--processes", "2", "--log-level", "WARNING"], env)
    started.append(worker)
    deadline = time.monotonic() + 60
    while len(children := _children(worker.pid)) < 2:
        assert worker.poll() is None, "sayfile worker exited during start-up"
        assert time.monotonic() < deadline, "worker processes did not start"
        time.sleep(0.1)
    return worker, children, env


def test_worker_processes_end_when_their_supervisor_is_killed(
    tmp_path: Path, redis_server: RedisServer, processes: list[subprocess.Popen[bytes]]
) -> None:
    worker, children, _ = _worker(tmp_path, redis_server, processes)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    deadline = time.monotonic() + WORKER_STOP_S
    while alive := [pid for pid in children if _alive(pid)]:
        assert time.monotonic() < deadline, f"worker processes {alive} outlived their supervisor"
        time.sleep(0.1)


def test_sigterm_ends_the_worker_within_its_bound_with_a_call_hung(
    tmp_path: Path, redis_server: RedisServer, processes: list[subprocess.Popen[bytes]]
) -> None:
    worker, children, env = _worker(tmp_path, redis_server, processes)
    env["SAYFILE_BOOK_ABOVE_CHARS"] = "0"
    url, _ = _serve(env, processes)
    flag = _hang_next_call(tmp_path)
    text = "A sentence of a book that takes a while. " * 40
    created = httpx.post(
        f"{url}/jobs", json={"text": text, "voice": "hang:beep", "format": "mp3"}, timeout=30
    )
    assert created.status_code == 202, created.text
    _until_taken(flag)
    asked = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=WORKER_STOP_S + 30)
    assert time.monotonic() - asked < WORKER_STOP_S
    assert not [pid for pid in children if _alive(pid)]
