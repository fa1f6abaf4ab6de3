"""Repeats: the same text again is a cache hit (a hard link to the finished file), next to
distinct texts that each need synthesis, against one real `sayfile serve` in one run.

POST /speech, ~80 characters, espeak:en-us, mp3, at concurrency 1, 8 and 32; medians of
several runs of each row.

    .venv/bin/python bench/repeats.py [--requests 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from harness import load_env, start_sayfile

VOICE = "espeak:en-us"
SAME = "The same order is ready for pickup at the front desk; thank you for waiting, friend."


@dataclass(frozen=True)
class Load:
    rps: float
    p50: float
    p99: float


async def load(url: str, texts: list[str], concurrency: int) -> Load:
    latencies: list[float] = []
    todo = list(texts)

    async def worker(client: httpx.AsyncClient) -> None:
        while todo:
            text = todo.pop()
            start = time.perf_counter()
            r = await client.post("/speech", json={"text": text, "voice": VOICE, "format": "mp3"})
            assert r.status_code == 200, r.text
            latencies.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(len(texts) / elapsed, statistics.median(latencies), p99)


def median_load(runs: list[Load]) -> Load:
    return Load(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50 for r in runs),
        statistics.median(r.p99 for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_sayfile(load_env(Path(tmp) / "data"))
        rows: list[tuple[int, Load, Load]] = []
        try:
            # The first request of SAME synthesizes it; every later one is a cache hit.
            asyncio.run(load(url, [SAME, "warm up."], 1))
            serial = 0
            for concurrency in (1, 8, 32):
                count = args.requests if concurrency > 1 else args.requests // 4
                distinct: list[Load] = []
                repeated: list[Load] = []
                for _ in range(args.runs):
                    texts = [
                        f"Order {serial + i} is ready for pickup at the front desk; thank you, "
                        "friend."
                        for i in range(count)
                    ]
                    serial += count
                    distinct.append(asyncio.run(load(url, texts, concurrency)))
                    repeated.append(asyncio.run(load(url, [SAME] * count, concurrency)))
                rows.append((concurrency, median_load(distinct), median_load(repeated)))
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print(
        f"POST /speech, ~80 characters, {VOICE}, mp3: distinct texts vs the same text again, "
        f"{args.requests} requests ({args.requests // 4} at c=1), median of {args.runs} runs"
    )
    print(
        f"{'concurrency':>11} {'distinct req/s':>14} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'repeat req/s':>12} {'p50 ms':>7} {'p99 ms':>7} {'repeat/distinct':>15}"
    )
    for concurrency, d, r in rows:
        print(
            f"{concurrency:>11} {d.rps:14.1f} {d.p50 * 1000:7.0f} {d.p99 * 1000:7.0f} "
            f"{r.rps:12.1f} {r.p50 * 1000:7.1f} {r.p99 * 1000:7.1f} {r.rps / d.rps:15.1f}"
        )


if __name__ == "__main__":
    main()
