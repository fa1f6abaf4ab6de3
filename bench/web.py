"""Short requests and streaming, against a real `sayfile serve` on a local port.

1. POST /speech with short distinct texts (~80 characters, espeak-ng, mp3) at concurrency
   1, 8, 32 and 128, side by side in one run with
   - the true floor (bench/floor.py): espeak-ng and LAME and nothing else, one process per
     core, no HTTP;
   - the seed design (bench/seed_design.py): one process synthesizing and encoding each
     request on its event loop.
2. A 20,000-character text per engine: time to first byte and total time, streamed
   (POST /speech?stream=true) and not (POST /jobs, its progress events, download).

    .venv/bin/python bench/web.py [--requests 256] [--only-short] [--baseline OLD/src]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from floor import floor_rate
from harness import free_port, load_env, post_speech, start_sayfile, stop, wait_http

VOICE = "espeak:en-us"
LONG = "Streaming starts with the first sentence, not the last one. " * 340


def short_text(i: int) -> str:
    return f"Order {i} is ready for pickup at the front desk; thank you for waiting, friend."


def start_seed_design() -> tuple[subprocess.Popen[bytes], str]:
    """bench/seed_design.py on a free port, once it answers."""
    port = free_port()
    script = Path(__file__).with_name("seed_design.py")
    process = subprocess.Popen([sys.executable, str(script), "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz")
    return process, url


def short_requests(sayfile: str, seed: str, requests: int) -> None:
    print("POST /speech, ~80 characters, espeak:en-us, mp3, distinct texts")
    print(
        f"{'concurrency':>11} {'req/s':>7} {'floor':>7} {'of floor':>8} {'seed':>7} "
        f"{'x seed':>6} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7}"
    )
    offset = 0
    for concurrency in (1, 8, 32, 128):
        count = requests if concurrency > 1 else requests // 4
        count = max(count, concurrency * 2)
        texts = [short_text(offset + i) for i in range(count)]
        load = asyncio.run(post_speech(sayfile, texts, concurrency, VOICE))
        floor = floor_rate([short_text(offset + 100_000 + i) for i in range(count)])
        seeded = asyncio.run(
            post_speech(
                seed, [short_text(offset + 200_000 + i) for i in range(count)], concurrency, VOICE
            )
        )
        offset += count
        print(
            f"{concurrency:>11} {load.rps:7.1f} {floor:7.1f} {load.rps / floor:8.2f} "
            f"{seeded.rps:7.1f} {load.rps / seeded.rps:6.2f} {load.p50 * 1000:7.0f} "
            f"{load.p99 * 1000:7.0f} {load.p99 / load.p50:7.2f}"
        )


def first_bytes(url: str, voice: str, runs: int) -> list[float]:
    """Time to the first audio byte of `runs` streamed long texts, each closed once its first
    bytes are in (which also stops its synthesis)."""
    times = []
    body = {"text": LONG, "voice": voice, "format": "mp3"}  # streams are never cached
    for _ in range(runs):
        start = time.perf_counter()
        with httpx.stream(
            "POST", f"{url}/speech", params={"stream": "true"}, json=body, timeout=60
        ) as r:
            next(r.iter_raw())
            times.append(time.perf_counter() - start)
        time.sleep(0.5)  # the closed stream's sentences in flight finish
    return times


def long_text(url: str, voice: str) -> dict[str, float]:
    body = {"text": LONG, "voice": voice, "format": "mp3"}
    start = time.perf_counter()
    first = 0.0
    with httpx.stream(
        "POST", f"{url}/speech", params={"stream": "true"}, json=body, timeout=600
    ) as r:
        for _chunk in r.iter_raw():
            first = first or time.perf_counter() - start
    streamed_total = time.perf_counter() - start
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as client:
        job = client.post("/jobs", json={**body, "speed": 1.01}).json()
        # Followed as the page follows it: server-sent events until the last one. (Polling
        # the status every 50 ms, a new client each time, cost this process 15 ms of CPU a
        # poll, ~10% of the job's time on two cores the job keeps busy; the server spends
        # about 0.5 ms on a status request.)
        with client.stream("GET", f"/jobs/{job['id']}/events") as events:
            for _line in events.iter_lines():
                pass
        audio = client.get(job["audio_url"])
        assert audio.status_code == 200, audio.text
    return {"ttfb": first, "streamed": streamed_total, "job": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--only-short", action="store_true", help="part 1 only")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="the src/ folder of an earlier sayfile (a git worktree of an older commit): "
        "part 2 runs against it too, side by side, to show what got slower or faster",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_sayfile(load_env(Path(tmp) / "data"))
        seed, seed_url = start_seed_design()
        try:
            short_requests(url, seed_url, args.requests)
        finally:
            stop(seed)
        try:
            if args.only_short:
                return
            if args.baseline is None:
                long_texts(url, "")
                return
            env = load_env(Path(tmp) / "baseline", PYTHONPATH=str(args.baseline.resolve()))
            old, old_url = start_sayfile(env)
            try:
                # Alternately, so that a noisy minute hurts both alike.
                for voice in ("piper:en_US-joe-medium", "espeak:en-us"):
                    long_texts(url, voice, "this code")
                    long_texts(old_url, voice, f"baseline {args.baseline}")
            finally:
                stop(old)
        finally:
            stop(server)


def long_texts(url: str, only: str = "", label: str = "") -> None:
    print(f"\n{label} {len(LONG)} characters, mp3; first byte: median (max) of 5 streams")
    print(f"{'voice':24} {'stream TTFB s':>15} {'stream total s':>14} {'job total s':>11}")
    for voice in (only,) if only else ("piper:en_US-joe-medium", "espeak:en-us"):
        firsts = first_bytes(url, voice, 5)
        t = long_text(url, voice)
        ttfb = f"{statistics.median(firsts):.3f} ({max(firsts):.3f})"
        print(f"{voice:24} {ttfb:>15} {t['streamed']:14.1f} {t['job']:11.1f}")


if __name__ == "__main__":
    main()
