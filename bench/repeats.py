"""Repeats: the same text again is a cache hit (a hard link to the finished file), next to
distinct texts that each need synthesis, against one real `sayfile serve` in one run.

POST /speech, ~80 characters, espeak:en-us, mp3, at concurrency 1, 8 and 32; medians of
several runs of each row.

    .venv/bin/python bench/repeats.py [--requests 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
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


if __name__ == "__main__":
    main()
