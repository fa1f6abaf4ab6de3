"""Big files: one 1 GiB finished job downloaded from GET /jobs/{id}/audio, next to Debian's
nginx serving the same file with sendfile, in one run.

The file is made without hours of synthesis: small real WAV jobs are created through the API,
the server stopped, and one job's file grown to the size asked (its header kept, zeros after)
with its record's `bytes` updated; the one-time jobs get the same file through hard links.
Then every server is started on its own local port and the file is downloaded by curl into
/dev/null, the servers taking turns; medians of the runs.

- `sayfile serve` (uvicorn): Starlette's FileResponse reads the file in 1 MiB chunks (sayfile's
  `JobFileResponse`; Starlette's own default is 64 KiB) and hands each to the server;
- the same server for one-time links (a fresh one-time job each run), which end only when
  every byte was handed over;
- the same app under Granian, whose ASGI `http.response.pathsend` extension lets the server
  send a plain link's file itself (one-time links still go in chunks there, so that only a
  whole download ends them);
- `sayfile serve` as it was before, with Starlette's 64 KiB chunks;
- nginx with `sendfile on`, the reference.

CPU seconds (user and system, the median per download) and memory are summed over each
server's processes (the one-time rows share their server's memory): resident before the
downloads, after them, and the peak while they ran. Every one-time
download is followed by a second GET, which must be 410 Gone. While each sayfile download
runs, another client GETs /healthz from the same server one request after another: the
latency other users see while a big file goes out.

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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from harness import free_port, stop, wait_http

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


def proc_files(pid: int, name: str) -> Iterator[str]:
    """The text of /proc/<member>/<name> for each live member of the process tree."""
    for member in tree(pid):
        with suppress(FileNotFoundError):
            yield Path(f"/proc/{member}/{name}").read_text()


def memory_mb(pid: int, key: str) -> float:
    """VmRSS (now) or VmHWM (peak) summed over the process tree, in MB."""
    kib = 0
    for status in proc_files(pid, "status"):
        for line in status.splitlines():
            if line.startswith(key + ":"):
                kib += int(line.split()[1])
    return kib / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time used so far, summed over the process tree."""
    ticks = 0
    for stat in proc_files(pid, "stat"):
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


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
    target: str
    one_time: list[str] = field(default_factory=list)
    """One-time job ids, one per run; empty for a plain link."""
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    probed: bool = True
    """Whether /healthz on the same server is timed during the downloads (not for nginx)."""
    probes: list[float] = field(default_factory=list)
    gone: list[bool] = field(default_factory=list)
    rss_before: float = 0.0


def graceful(process: subprocess.Popen[bytes]) -> None:
    # nginx ends gracefully on SIGQUIT; the ASGI servers on SIGINT.
    nginx = isinstance(process.args, list) and process.args[0] == "nginx"
    stop(process, signal.SIGQUIT if nginx else signal.SIGINT)


@contextmanager
def started(args: list[str], env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, env=env)
    try:
        wait_http(health)
        yield process
    finally:
        graceful(process)


def sayfile_args(port: int) -> list[str]:
    return [sys.executable, "-m", "sayfile", "serve", "--port", str(port), "--log-level", "warning"]


def starlette_chunks_app() -> object:
    """The app as it was before: Starlette's own 64 KiB file chunks (run by uvicorn from
    here, for the "before" row)."""
    from starlette.responses import FileResponse

    from sayfile.api.audio_responses import JobFileResponse
    from sayfile.app import create_app

    JobFileResponse.chunk_size = FileResponse.chunk_size
    return create_app()


def before_args(port: int) -> list[str]:
    uvicorn = Path(sys.executable).with_name("uvicorn")
    return [
        str(uvicorn),
        *("--factory", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        *("--log-level", "warning", "--app-dir", str(Path(__file__).parent)),
        "bigfile:starlette_chunks_app",
    ]


def granian_args(port: int) -> list[str]:
    granian = Path(sys.executable).with_name("granian")
    return [
        str(granian),
        *("--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning", "--no-ws", "sayfile.app:create_app"),
    ]


def make_jobs(env: dict[str, str], one_time: int) -> tuple[str, list[str]]:
    """One small real WAV job and `one_time` one-time ones; returns their ids."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ids = []
    with started(sayfile_args(port), env, f"{url}/healthz"):
        for n in range(one_time + 1):
            text = f"A one-time link, number {n}." if n else "This file grows to a gigabyte."
            body = {"text": text, "voice": "espeak:en-us", "format": "wav", "one_time": n > 0}
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
    record_size(data_dir, job_id, size)
    return path


def share(data_dir: Path, job_id: str, big: Path) -> None:
    """Give the job the big file through a hard link (no more disk), and record its size."""
    path = data_dir / "audio" / f"{job_id}.wav"
    path.unlink()
    path.hardlink_to(big)
    record_size(data_dir, job_id, big.stat().st_size)


def record_size(data_dir: Path, job_id: str, size: int) -> None:
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        (record,) = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        data = json.loads(record)
        data["bytes"] = size
        db.execute(
            "UPDATE jobs SET bytes = ?, record = ? WHERE id = ?",
            (size, json.dumps(data), job_id),
        )


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


@contextmanager
def probing(url: str, latencies: list[float]) -> Iterator[None]:
    """While the block runs, GET `url` (the app's /healthz) one request after another and
    record each answer's latency: what other users of the server see during a download."""
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                start = time.perf_counter()
                client.get(url).raise_for_status()
                latencies.append(time.perf_counter() - start)
                done.wait(0.01)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def gone_after(url: str) -> bool:
    """After a whole one-time download, the link answers 410 Gone."""
    time.sleep(0.2)
    return httpx.get(url, timeout=30).status_code == 410


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
            # Hard links count once per job against the quota of unexpired audio.
            "SAYFILE_STORAGE_QUOTA_BYTES": str((2 * args.runs + 4) * size),
        }
        big, once = make_jobs(env, 2 * args.runs)
        path = grow(data_dir, big, size)
        for job_id in once:
            share(data_dir, job_id, path)
        conf = Path(tmp) / "nginx.conf"
        ports = [free_port() for _ in range(4)]
        conf.write_text(
            NGINX_CONF.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                tmp=tmp,
                port=ports[3],
                root=path.parent,
            )
        )
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        with (
            started(sayfile_args(ports[0]), env, f"{urls[0]}/healthz") as uvicorn,
            started(granian_args(ports[1]), env, f"{urls[1]}/healthz") as granian,
            started(before_args(ports[2]), env, f"{urls[2]}/healthz") as before,
            started(["nginx", "-p", tmp, "-c", str(conf)], env, f"{urls[3]}/") as nginx,
        ):
            servers = [
                Server("sayfile serve (uvicorn)", urls[0], uvicorn, f"/jobs/{big}/audio"),
                Server("  one-time link", urls[0], uvicorn, "", once[: args.runs]),
                Server("Granian (pathsend)", urls[1], granian, f"/jobs/{big}/audio"),
                Server("  one-time link", urls[1], granian, "", once[args.runs :]),
                Server("uvicorn, 64 KiB (before)", urls[2], before, f"/jobs/{big}/audio"),
                Server("nginx sendfile", urls[3], nginx, f"/{path.name}", probed=False),
            ]
            # Read once, so every server finds the file in the page cache.
            curl(servers[-1].url + servers[-1].target, size)
            for server in servers:
                server.rss_before = memory_mb(server.process.pid, "VmRSS")
                reset_peak(server.process.pid)
            for run in range(args.runs):
                for server in servers:
                    target = server.url + server.target
                    if server.one_time:
                        target = server.url + f"/jobs/{server.one_time[run]}/audio"
                    cpu = cpu_seconds(server.process.pid)
                    if server.probed:
                        with probing(server.url + "/healthz", server.probes):
                            server.seconds.append(curl(target, size))
                    else:
                        server.seconds.append(curl(target, size))
                    server.cpu.append(cpu_seconds(server.process.pid) - cpu)
                    if server.one_time:
                        server.gone.append(gone_after(target))
            rss_after = [memory_mb(s.process.pid, "VmRSS") for s in servers]
            peak = [memory_mb(s.process.pid, "VmHWM") for s in servers]
    base = statistics.median(servers[-1].seconds)
    print(
        f"GET of a {args.mib} MiB finished file into /dev/null (curl), median of {args.runs} "
        "runs, servers taking turns; memory per server process tree"
    )
    print(
        f"{'server':24} {'median s':>8} {'MiB/s':>7} {'vs nginx':>8} {'CPU s':>6} "
        f"{'RSS before MB':>13} "
        f"{'RSS after MB':>12} {'peak MB':>8} {'peak growth MB':>14} {'healthz p50/p99 ms':>18}"
        "  one-time link ends"
    )
    for server, after, top in zip(servers, rss_after, peak, strict=True):
        seconds = statistics.median(server.seconds)
        probes = sorted(server.probes)
        health = (
            f"{statistics.median(probes) * 1000:.1f} / "
            f"{probes[min(len(probes) - 1, int(len(probes) * 0.99))] * 1000:.1f}"
            if probes
            else "n/a"
        )
        ends = f"{sum(server.gone)} of {len(server.gone)} (410 after)" if server.one_time else "n/a"
        print(
            f"{server.name:24} {seconds:8.3f} {args.mib / seconds:7.0f} {seconds / base:8.2f} "
            f"{statistics.median(server.cpu):6.2f} "
            f"{server.rss_before:13.1f} {after:12.1f} {top:8.1f} {top - server.rss_before:14.1f} "
            f"{health:>18}  {ends}"
        )


if __name__ == "__main__":
    main()
