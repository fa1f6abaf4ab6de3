"""Fair turns against a real `sayfile serve` on 127.0.0.1 (issue 12): interactive requests
while long Piper jobs run, the jobs' own pace, a long first sentence, a full queue, and jobs
interrupted by kill -9.

    .venv/bin/python bench/fairness.py [--chars 100000] [--quick]

`--quick` gives each long job 10,000 characters instead of 100,000.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from harness import free_port, load_env
from longjob import PARAGRAPH, VOICE

PIPER = VOICE
RUNS = 5
# One sentence of 400 characters: clauses, no full stop until the end.
CLAUSE = "the ferry left the harbour late, with the tide already turning against it, "


@dataclass(frozen=True)
class Row:
    target: str
    measured: str


@dataclass
class Server:
    """`sayfile serve` in a process group of its own, so kill -9 ends all of it."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.crash()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def crash(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def launch(env: dict[str, str], port: int | None = None) -> Server:
    """Start `sayfile serve` without waiting for it."""
    port = port or free_port()
    command = [sys.executable, "-m", "sayfile", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--log-level", "warning"], env=env, start_new_session=True
    )
    return Server(process, f"http://127.0.0.1:{port}")


def serve(env: dict[str, str]) -> Server:
    """`sayfile serve` once /healthz answers 200."""
    server = launch(env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("sayfile serve exited during start-up")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.1)
    server.crash()
    raise RuntimeError("sayfile serve did not start within 60 s")


def book(chars: int, tag: str) -> str:
    """About `chars` characters of prose, opened by `tag` so that no two jobs are alike."""
    text = f"{tag}. " + PARAGRAPH * (chars // len(PARAGRAPH) + 1)
    return text[:chars].rsplit(". ", 1)[0] + "."


def long_first_sentence(i: int) -> str:
    head = f"On day {i} "
    sentence = (head + CLAUSE * 6)[:399].rsplit(" ", 1)[0].rstrip(",") + "."
    return f"{sentence} Then everyone went home."


def submit(client: httpx.Client, text: str) -> str:
    r = client.post("/jobs", json={"text": text, "voice": PIPER, "format": "mp3"})
    assert r.status_code in (200, 201, 202), r.text
    job_id: str = r.json()["id"]
    return job_id


def wait_status(client: httpx.Client, job_id: str, wanted: set[str], seconds: float) -> str:
    """Poll a job until its status is one of `wanted`; returns it."""
    deadline = time.monotonic() + seconds
    while True:
        status: str = client.get(f"/jobs/{job_id}").json()["status"]
        if status in wanted:
            return status
        if status == "failed":
            raise RuntimeError(f"job {job_id} failed")
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {status} after {seconds:.0f} s")
        time.sleep(0.1)


Timings = tuple[list[float], list[float]]


def run_jobs(
    client: httpx.Client, texts: list[str], during: Callable[[], Timings] | None = None
) -> tuple[float, Timings | None]:
    """Submit `texts` as jobs at once and wait for all; returns the wall seconds until the
    last is done, and what `during()` returned, called once every job is running."""
    start = time.perf_counter()
    ids = [submit(client, text) for text in texts]
    measured = None
    if during is not None:
        for job_id in ids:
            wait_status(client, job_id, {"running", "done"}, 120)
        measured = during()
        states = [client.get(f"/jobs/{job_id}").json()["status"] for job_id in ids]
        if any(state != "running" for state in states):
            print(f"note: jobs were {states} when the interactive requests had finished")
    for job_id in ids:
        wait_status(client, job_id, {"done"}, 3600)
    return time.perf_counter() - start, measured


def first_byte(url: str, text: str) -> float:
    """Seconds until the first audio byte of a streamed POST /speech (read to its end)."""
    body = {"text": text, "voice": PIPER, "format": "mp3"}
    start = time.perf_counter()
    first = 0.0
    with httpx.stream(
        "POST", f"{url}/speech", params={"stream": "true"}, json=body, timeout=120
    ) as r:
        assert r.status_code == 200, r.read()
        for _chunk in r.iter_raw():
            first = first or time.perf_counter() - start
    return first


def direct(url: str, text: str) -> float:
    """Seconds for a whole direct POST /speech."""
    start = time.perf_counter()
    r = httpx.post(
        f"{url}/speech", json={"text": text, "voice": PIPER, "format": "mp3"}, timeout=120
    )
    assert r.status_code == 200, r.text
    return time.perf_counter() - start


def interactive(url: str) -> Timings:
    """First bytes of one-sentence streams, then totals of short direct requests."""
    firsts, totals = [], []
    for i in range(RUNS):
        firsts.append(first_byte(url, f"Stream number {i} starts right away."))
        time.sleep(0.3)
    for i in range(RUNS):
        totals.append(direct(url, f"Direct request number {i} is short."))
        time.sleep(0.3)
    return firsts, totals


def shared(url: str, chars: int) -> list[Row]:
    """(a) two long jobs alone, one after the other, then at once with interactive requests
    in between; (b) first byte of a 400-character first sentence on the idle server."""
    with httpx.Client(base_url=url, timeout=60) as client:
        direct(url, "Warm up.")
        idle = [first_byte(url, long_first_sentence(i)) for i in range(RUNS)]
        alone = [run_jobs(client, [book(chars, f"Alone {k}")])[0] for k in "AB"]
        both, measured = run_jobs(
            client, [book(chars, f"Both {k}") for k in "AB"], lambda: interactive(url)
        )
    assert measured is not None
    firsts, totals = measured
    ratio = both / sum(alone)
    return [
        Row(
            "stream first byte, one sentence, 2 long jobs running: ≤ 1 s",
            f"{statistics.median(firsts):.3f} s (max {max(firsts):.3f})",
        ),
        Row(
            "direct POST /speech, one short sentence, 2 long jobs running: ≤ 1.5 s",
            f"{statistics.median(totals):.3f} s (max {max(totals):.3f})",
        ),
        Row(
            f"2 jobs of {chars:,} characters at once vs alone one after the other: ratio ≤ 1.1",
            f"{both:.1f} s vs {alone[0]:.1f} + {alone[1]:.1f} s = {ratio:.2f}",
        ),
        Row(
            "stream first byte, 400-character first sentence, idle server: ≤ 0.3 s",
            f"{statistics.median(idle):.3f} s (max {max(idle):.3f})",
        ),
    ]


def queue_full(env: dict[str, str], chars: int) -> Row:
    """(c) SAYFILE_MAX_QUEUE=1 and one long job: both speech routes turned away."""
    server = serve({**env, "SAYFILE_MAX_QUEUE": "1"})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            job_id = submit(client, book(chars, "Queue"))
            wait_status(client, job_id, {"running"}, 120)
            body = {"text": "Am I in?", "voice": PIPER, "format": "mp3"}
            stream = client.post("/speech", params={"stream": "true"}, json=body)
            openai = client.post(
                "/v1/audio/speech", json={"model": "tts-1", "input": "Am I in?", "voice": PIPER}
            )
            still = client.get(f"/jobs/{job_id}").json()["status"]
            client.delete(f"/jobs/{job_id}")
    finally:
        server.stop()
    measured = ", ".join(
        f"{name} {r.status_code} Retry-After {r.headers.get('retry-after', '-')}"
        for name, r in (("stream", stream), ("OpenAI", openai))
    )
    if still != "running":
        measured += f" (job was {still})"
    return Row(
        "queue full (SAYFILE_MAX_QUEUE=1, one long job): POST /speech?stream=true and "
        "POST /v1/audio/speech 503 with Retry-After",
        measured,
    )


def restart(env: dict[str, str], chars: int) -> Row:
    """(d) kill -9 with a job running, then start again on the same data folder."""
    server = serve(env)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        job_id = submit(client, book(chars, "Crash"))
        wait_status(client, job_id, {"running"}, 120)
    server.crash()
    start = time.perf_counter()
    again = launch(env)
    try:
        deadline = start + 120
        status = ""
        while status != "failed":
            if time.perf_counter() > deadline:
                raise RuntimeError(f"job still {status or 'unknown'} 120 s after the restart")
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(f"{again.url}/jobs/{job_id}", timeout=1).json()["status"]
            if status != "failed":
                time.sleep(0.05)
        seconds = time.perf_counter() - start
    finally:
        again.stop()
    return Row(
        "kill -9 with a job running, restart: job shows failed ≤ 3 s after the restart starts",
        f"{seconds:.2f} s",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=100_000, help="characters per long job")
    parser.add_argument("--quick", action="store_true", help="long jobs of 10,000 characters")
    args = parser.parse_args()
    chars = 10_000 if args.quick else args.chars
    command = ".venv/bin/python bench/fairness.py " + (
        "--quick" if args.quick else f"--chars {chars}"
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = load_env(Path(tmp) / "data")
        server = serve(env)
        try:
            rows += shared(server.url, chars)
        finally:
            server.stop()
        rows.append(queue_full(load_env(Path(tmp) / "queue"), chars))
        rows.append(restart(load_env(Path(tmp) / "restart"), chars))
    print(f"Piper ({PIPER}), mp3; medians of {RUNS}; {os.cpu_count()} cores\n")
    print("| target | measured | command |")
    print("| --- | --- | --- |")
    for row in rows:
        print(f"| {row.target} | {row.measured} | `{command}` |")


if __name__ == "__main__":
    main()
