"""What the benchmark scripts share: free local ports, starting and stopping servers, a
POST /speech load with its throughput and latencies, and the speech pipeline driven
synchronously."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx

from sayfile.audio.formats import Samples
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import Lane, Turn
from sayfile.speech.synthesizer import SpeechResult
from sayfile.wiring import build_synthesizer

T = TypeVar("T")


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, seconds: float = 30) -> None:
    """Return once `url` answers at all; raise when it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def load_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a benchmarked sayfile: its own data folder, and no per-client
    limits, since one load generator stands for many clients."""
    return {
        **os.environ,
        "SAYFILE_DATA_DIR": str(data_dir),
        "SAYFILE_RATE_LIMIT": "",
        "SAYFILE_MAX_ACTIVE_PER_CLIENT": "100000",
        **extra,
    }


def start_sayfile(
    env: dict[str, str], log: Path | None = None, seconds: float = 60
) -> tuple[subprocess.Popen[bytes], str]:
    """`sayfile serve` on a free port, once it answers within `seconds`; returns the process
    and its URL. With `log`, its log at level info goes to that file."""
    port = free_port()
    command = [sys.executable, "-m", "sayfile", "serve", "--port", str(port)]
    if log is None:
        process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    else:
        with log.open("wb") as sink:
            process = subprocess.Popen([*command, "--log-level", "info"], env=env, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", seconds=seconds)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    """Ask a server to end (SIGINT ends sayfile, uvicorn and Granian gracefully); kill it if
    it has not within 30 s."""
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Load:
    """Requests per second, and the median and 99th-percentile latency in seconds."""

    rps: float
    p50: float
    p99: float

    @staticmethod
    def median(runs: list[Load]) -> Load:
        return Load(
            statistics.median(r.rps for r in runs),
            statistics.median(r.p50 for r in runs),
            statistics.median(r.p99 for r in runs),
        )


async def post_speech(url: str, texts: list[str], concurrency: int, voice: str) -> Load:
    """POST /speech (mp3) once for each text, from `concurrency` clients at once."""
    latencies: list[float] = []
    todo = list(texts)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while todo:
            body = {"text": todo.pop(), "voice": voice, "format": "mp3"}
            start = time.perf_counter()
            r = await client.post("/speech", json=body)
            assert r.status_code == 200, r.text
            latencies.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(len(texts) / elapsed, statistics.median(latencies), p99)


class Pipeline:
    """The speech pipeline without HTTP (validation, synthesizer, sentence executor), each
    call driven to its end with `asyncio.run`, in the interactive lane as a direct request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.synthesizer = build_synthesizer(settings)

    def plan(self, text: str, **request: Any) -> SpeechPlan:
        """The plan of `text` with SpeechRequest's other fields (voice, format, loudness...)."""
        asked = SpeechRequest(text, **request)
        return validate(asked, self.synthesizer, self.settings, None)

    def samples(self, plan: SpeechPlan) -> list[Samples]:
        """Every sentence's audio, in order."""
        return self._collect(lambda turn: self.synthesizer.samples(plan, turn))

    def stream(self, plan: SpeechPlan) -> list[bytes]:
        """The encoded file in the pieces a stream hands on (first piece cut short)."""
        return self._collect(lambda turn: self.synthesizer.stream(plan, turn))

    def write(self, plan: SpeechPlan, path: Path) -> SpeechResult:
        """The audio written to `path`, as a job writes it."""
        return asyncio.run(self.synthesizer.write(plan, path, self._turn()))

    def first_bytes(self, plan: SpeechPlan) -> float:
        """Seconds until a stream of `plan` (a short first piece) yields its first bytes."""

        async def first() -> float:
            started = time.perf_counter()
            pieces = self.synthesizer.stream(plan, self._turn())
            await anext(pieces)
            elapsed = time.perf_counter() - started
            await pieces.aclose()
            return elapsed

        return asyncio.run(first())

    def close(self) -> None:
        self.synthesizer.executor.close()
        self.synthesizer.catalogue.close()

    def _turn(self) -> Turn:
        return self.synthesizer.executor.turn(Lane.interactive)

    def _collect(self, pieces: Callable[[Turn], AsyncIterator[T]]) -> list[T]:
        async def collect() -> list[T]:
            return [piece async for piece in pieces(self._turn())]

        return asyncio.run(collect())
