"""Repeats: the same text again is a cache hit (a hard link to the finished file), next to
distinct texts that each need synthesis, against one real `sayfile serve` in one run.

POST /speech, ~80 characters, espeak:en-us, mp3, at concurrency 1, 8 and 32; medians of
several runs of each row.

The last table measures repeats again with `wrk` (Debian's, a C load generator: the Python
client's own CPU on this 2-core machine is a good part of what it measures).

    .venv/bin/python bench/repeats.py [--requests 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import Load, load_env, post_speech, start_sayfile, stop

VOICE = "espeak:en-us"
SAME = "The same order is ready for pickup at the front desk; thank you for waiting, friend."


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
            asyncio.run(post_speech(url, [SAME, "warm up."], 1, VOICE))
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
                    distinct.append(asyncio.run(post_speech(url, texts, concurrency, VOICE)))
                    repeated.append(
                        asyncio.run(post_speech(url, [SAME] * count, concurrency, VOICE))
                    )
                rows.append((concurrency, Load.median(distinct), Load.median(repeated)))
            by_wrk = [wrk_repeats(url, concurrency) for concurrency in (1, 8, 32, 128)]
        finally:
            stop(server)
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

    if shutil.which("wrk"):
        print("\nthe same text again, measured by wrk for 10 s (req/s, p50 ms, p99 ms)")
        for concurrency, row in zip((1, 8, 32, 128), by_wrk, strict=True):
            print(f"{concurrency:>11} {row}")


def wrk_repeats(url: str, concurrency: int) -> str:
    """wrk's requests per second and latencies for the same POST /speech again and again."""
    if not shutil.which("wrk"):
        return "wrk is not installed (make bench installs it)"
    script = Path(__file__).with_name("same.lua")
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            "-d10s",
            "--latency",
            "-s",
            str(script),
            f"{url}/speech",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rps is None or p50 is None or p99 is None or errors is not None:
        return f"wrk said: {out.strip()}"
    return f"{float(rps.group(1)):12.1f} {p50.group(1)}{p50.group(2)} {p99.group(1)}{p99.group(2)}"


if __name__ == "__main__":
    main()
