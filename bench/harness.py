"""What the benchmark scripts share: a free local port and waiting for a server to answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx


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


def start_sayfile(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`sayfile serve` on a free port, once it answers; returns the process and its URL."""
    port = free_port()
    command = [sys.executable, "-m", "sayfile", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", seconds=60)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url
