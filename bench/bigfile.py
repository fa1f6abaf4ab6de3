"""Big files: one 1 GiB finished job downloaded from GET /jobs/{id}/audio, next to Debian's
nginx serving the same file with sendfile, in one run.

The file is made without hours of synthesis: a small real WAV job is created through the API,
the server stopped, and the job's file grown to the size asked (its header kept, zeros after)
with its record's `bytes` updated. Then every server is started on its own local port and the
file is downloaded by curl into /dev/null, the servers taking turns; medians of the runs.

- `sayfile serve` (uvicorn: Starlette's FileResponse reads and sends the file in chunks),
- the same app under Granian, whose ASGI `http.response.pathsend` extension lets the server
  send the file itself (measured only; sayfile's own server is not changed here),
- nginx with `sendfile on`, the reference.

Memory is summed over each server's processes: resident before the downloads, after them, and
the peak while they ran.

It also checks that a one-time link (`one_time: true`) stops working after one whole download
under each ASGI server.

    .venv/bin/python bench/bigfile.py [--mib 1024] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from harness import free_port, wait_http

CHUNK = 8 << 20
NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Granian and nginx serve from child processes)."""
    found = [pid]
    for parent in found:
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split()
            found.extend(int(child) for child in children if int(child) not in found)
        if len(found) > 64:
            break
    return found


def memory_mb(pid: int, key: str) -> float:
    """VmRSS (now) or VmHWM (peak) summed over the process tree, in MB."""
    total = 0
    for member in tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith(key + ":"):
                total += int(line.split()[1])
    return total / 1024


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh (Linux's clear_refs "5"), so the peak is the downloads' own."""
    for member in tree(pid):
        with suppress(OSError):
            Path(f"/proc/{member}/clear_refs").write_text("5")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    seconds: list[float] = field(default_factory=list)
    rss_before: float = 0.0
    one_time: str = "n/a"


def stop(process: subprocess.Popen[bytes]) -> None:
    # SIGINT ends uvicorn and Granian gracefully; nginx ends gracefully on SIGQUIT.
    nginx = isinstance(process.args, list) and process.args[0] == "nginx"
    process.send_signal(signal.SIGQUIT if nginx else signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def started(args: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, env=env)
    try:
        wait_http(health)
        yield process
    finally:
        stop(process)


def sayfile_args(port: int) -> list[str]:
    return [sys.executable, "-m", "sayfile", "serve", "--port", str(port), "--log-level", "warning"]


def granian_args(port: int) -> list[str]:
    granian = Path(sys.executable).with_name("granian")
    return [
        str(granian),
        *("--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning", "--no-ws", "sayfile.app:create_app"),
    ]


def make_jobs(env: dict[str, str]) -> tuple[str, list[str]]:
    """One small real WAV job and two one-time ones; returns their ids."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ids = []
    with started(sayfile_args(port), env, f"{url}/healthz"):
        for text, once in (
            ("This file grows to a gigabyte.", False),
            ("A one-time link for uvicorn.", True),
            ("A one-time link for Granian.", True),
        ):
            body = {"text": text, "voice": "espeak:en-us", "format": "wav", "one_time": once}
            job = httpx.post(f"{url}/jobs", json=body, timeout=30).json()
            for _ in range(600):
                state = httpx.get(f"{url}{job['status_url']}", timeout=30).json()
                if state["status"] not in ("queued", "running"):
                    break
                time.sleep(0.05)
            assert state["status"] == "done", state
            ids.append(job["id"])
    return ids[0], ids[1:]


def grow(data_dir: Path, job_id: str, size: int) -> Path:
    """Make the job's file `size` bytes (zeros after the real audio) and record its size."""
    path = data_dir / "audio" / f"{job_id}.wav"
    zeros = bytes(CHUNK)
    with path.open("ab") as out:
        left = size - out.tell()
        while left > 0:
            left -= out.write(zeros[: min(CHUNK, left)])
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        (record,) = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        data = json.loads(record)
        data["bytes"] = size
        db.execute(
            "UPDATE jobs SET bytes = ?, record = ? WHERE id = ?",
            (size, json.dumps(data), job_id),
        )
    return path


def curl(url: str, size: int) -> float:
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{size_download} %{http_code}", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout.split()
    assert out[2] == "200" and int(out[1]) == size, out
    return float(out[0])


def one_time_ends(url: str, job_id: str) -> str:
    first = httpx.get(f"{url}/jobs/{job_id}/audio", timeout=30).status_code
    time.sleep(0.2)
    second = httpx.get(f"{url}/jobs/{job_id}/audio", timeout=30).status_code
    ok = first == 200 and second == 410
    return f"{'yes' if ok else 'NO'} ({first}, then {second})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="size of the file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    size = args.mib << 20
    if shutil.which("nginx") is None or shutil.which("curl") is None:
        raise SystemExit("nginx and curl are missing: `make bench` installs them")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {
            **os.environ,
            "SAYFILE_DATA_DIR": str(data_dir),
            "SAYFILE_RATE_LIMIT": "",
            # The grown file counts against the quota of unexpired audio.
            "SAYFILE_STORAGE_QUOTA_BYTES": str(4 * size + (1 << 30)),
        }
        big, once = make_jobs(env)
        path = grow(data_dir, big, size)
        conf = Path(tmp) / "nginx.conf"
        nginx_port, uvicorn_port, granian_port = free_port(), free_port(), free_port()
        conf.write_text(
            NGINX_CONF.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                tmp=tmp,
                port=nginx_port,
                root=path.parent,
            )
        )
        audio = f"/jobs/{big}/audio"
        with (
            started(
                sayfile_args(uvicorn_port), env, f"http://127.0.0.1:{uvicorn_port}/healthz"
            ) as uvicorn,
            started(
                granian_args(granian_port), env, f"http://127.0.0.1:{granian_port}/healthz"
            ) as granian,
            started(
                ["nginx", "-p", tmp, "-c", str(conf)], env, f"http://127.0.0.1:{nginx_port}/"
            ) as nginx,
        ):
            servers = [
                Server("sayfile serve (uvicorn)", f"http://127.0.0.1:{uvicorn_port}", uvicorn),
                Server("granian (ASGI pathsend)", f"http://127.0.0.1:{granian_port}", granian),
                Server("nginx sendfile", f"http://127.0.0.1:{nginx_port}", nginx),
            ]
            # Read once, so every server finds the file in the page cache.
            curl(f"{servers[2].url}/{path.name}", size)
            for server in servers:
                server.rss_before = memory_mb(server.process.pid, "VmRSS")
                reset_peak(server.process.pid)
            for _ in range(args.runs):
                for server in servers:
                    target = f"/{path.name}" if server.name.startswith("nginx") else audio
                    server.seconds.append(curl(server.url + target, size))
            servers[0].one_time = one_time_ends(servers[0].url, once[0])
            servers[1].one_time = one_time_ends(servers[1].url, once[1])
            rss_after = [memory_mb(s.process.pid, "VmRSS") for s in servers]
            peak = [memory_mb(s.process.pid, "VmHWM") for s in servers]
    base = statistics.median(servers[2].seconds)
    print(
        f"GET of a {args.mib} MiB finished file into /dev/null (curl), median of {args.runs} "
        "runs, servers taking turns"
    )
    print(
        f"{'server':24} {'median s':>8} {'MiB/s':>7} {'vs nginx':>8} {'RSS before MB':>13} "
        f"{'RSS after MB':>12} {'peak MB':>8} {'peak growth MB':>14}  one-time link ends"
    )
    for server, after, top in zip(servers, rss_after, peak, strict=True):
        seconds = statistics.median(server.seconds)
        print(
            f"{server.name:24} {seconds:8.3f} {args.mib / seconds:7.0f} {seconds / base:8.2f} "
            f"{server.rss_before:13.1f} {after:12.1f} {top:8.1f} {top - server.rss_before:14.1f}  "
            f"{server.one_time}"
        )


if __name__ == "__main__":
    main()
