"""Short-text throughput of the scale-out set-up with 1 and 2 worker processes, next to the
embedded default, all on this machine (real Redis, real processes).

POST /speech (~80 characters, espeak:en-us, mp3, distinct texts) at concurrency 16; in the
scale-out rows the API process only queues jobs and serves files, `sayfile worker` processes
synthesize.

    .venv/bin/python bench/scaleout.py [--requests 192]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import free_port, load_env, post_speech, start_sayfile, stop

VOICE = "espeak:en-us"


def run_case(
    name: str, workers: int, count: int, redis_port: int | None, folder: Path
) -> tuple[str, float, float]:
    env = load_env(folder / name)
    if redis_port is not None:
        env["SAYFILE_STORE_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        env["SAYFILE_QUEUE_URL"] = f"redis://127.0.0.1:{redis_port}/1"
    processes = []
    if workers:
        worker = [sys.executable, "-m", "sayfile", "worker", "--processes", str(workers)]
        processes.append(subprocess.Popen([*worker, "--log-level", "WARNING"], env=env))
    try:
        server, url = start_sayfile(env)
    except BaseException:
        for process in processes:
            process.kill()
        raise
    processes.append(server)
    try:
        asyncio.run(post_speech(url, orders(f"warm-{name}", 16), 8, VOICE))
        load = asyncio.run(post_speech(url, orders(name, count), 16, VOICE))
    finally:
        for process in processes:
            stop(process)
    return name, load.rps, load.p50


def orders(tag: str, count: int) -> list[str]:
    return [
        f"Order {tag}-{i} is ready for pickup at the front desk; thank you, friend."
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=192)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing: `make test` installs it")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        redis_port = free_port()
        redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                tmp,
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        try:
            rows = [
                run_case("embedded (2 threads)", 0, args.requests, None, folder),
                run_case("redis + 1 worker process", 1, args.requests, redis_port, folder),
                run_case("redis + 2 worker processes", 2, args.requests, redis_port, folder),
            ]
        finally:
            redis.terminate()
            redis.wait()
    base = rows[1][1]
    print(f"POST /speech, {args.requests} distinct ~80-character texts, concurrency 16")
    print(f"{'set-up':28} {'req/s':>7} {'p50 ms':>7} {'vs 1 worker':>11}")
    for name, rps, p50 in rows:
        print(f"{name:28} {rps:7.1f} {p50 * 1000:7.0f} {rps / base:11.2f}")


if __name__ == "__main__":
    main()
