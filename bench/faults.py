"""The fault suite: a small book made by two `sayfile worker` processes against a Redis of
its own, with one fault injected at a random moment of each run; prints what became of the
books, by fault.

    PYTHONPATH=src .venv/bin/python bench/faults.py            # 8 runs of each fault (56)
    PYTHONPATH=src .venv/bin/python bench/faults.py --quick    # one run of each

Faults: Redis paused 2 s and 10 s (SIGSTOP, SIGCONT), Redis restarted (its append-only file
kept), a worker process killed -9 (its supervisor starts another), the API killed -9 (and
started again), the disk filling (the workers' file size limit set to 0 for 5 s with
prlimit, so every write that grows a file fails, as on a full disk, without a mount), and an
engine call that hangs (the test engine in tests/hanging.py, which the script's processes
register; SAYFILE_ENGINE_TIMEOUT_SECONDS is 5 here).

A run ends done whole (every sentence once, in order, in the timings; the decoded file as
long as the timings say, with one beep per word spoken), failed with the true reason and no
files left, or stuck (not finished within --stuck-after seconds). Everything listens on
127.0.0.1; every process the script starts is ended by it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import numpy as np

from sayfile.whole_files import is_unfinished

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import free_port  # noqa: E402
from hanging import HANG_FILE_ENV, SLOW_VOICE  # noqa: E402

HANGING = str(ROOT / "tests" / "hanging.py")
# The NATO alphabet: plain words that no normalisation changes.
WORDS = [
    *("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"),
    *("juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"),
    *("sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu"),
]
ENGINE_TIMEOUT_S = 5
# What a failure's message must say for each fault to count as the true reason.
TRUE_REASONS: dict[str, tuple[str, ...]] = {
    "redis paused 2 s": ("redis", "store"),
    "redis paused 10 s": ("redis", "store"),
    "redis restarted": ("redis", "store"),
    "worker killed -9": ("worker", "process"),
    "api killed -9": ("server", "process"),
    "disk filling": ("disk", "space", "file too large"),
    "engine call hangs": ("took longer than",),
}


def book_text(chapters: int, sentences: int, rng: random.Random) -> tuple[str, list[str]]:
    """A Markdown book and the sentences it should be heard saying, in order."""
    lines, said = [], []
    for c in range(chapters):
        title = f"Chapter {WORDS[c].title()}"
        lines += [f"# {title}", ""]
        said.append(f"{title}.")  # a heading is spoken as a sentence
        body = []
        for s in range(sentences):
            picked = " ".join(rng.sample(WORDS, 4))
            sentence = f"The {WORDS[s % len(WORDS)]} walks past {picked} today."
            body.append(sentence)
            said.append(sentence)
        lines += [" ".join(body), ""]
    return "\n".join(lines), said


_RATE = 8000


def pcm(data: bytes) -> np.ndarray:
    """Every sample of an audio file, decoded by Debian's ffmpeg, mono at 8 kHz."""
    command = ["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"]
    out = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.int16)


def beeps(samples: np.ndarray, rate: int) -> int:
    """Words in tone audio: runs of loud 10 ms frames, apart by at least one quiet one."""
    frame = rate // 100
    usable = len(samples) // frame * frame
    rms = np.sqrt(np.mean(samples[:usable].astype(np.float64).reshape(-1, frame) ** 2, axis=1))
    loud = rms > 0.1 * np.max(rms) if len(rms) else rms > 0
    return int(np.sum(loud[1:] & ~loud[:-1]) + (1 if len(loud) and loud[0] else 0))


@dataclass
class Cluster:
    """Redis, one API and two `sayfile worker` supervisors (one process each), on 127.0.0.1."""

    folder: Path
    redis_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    redis: subprocess.Popen[bytes] | None = None
    api: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def hang_file(self) -> Path:
        return self.folder / "hang-now"

    def env(self) -> dict[str, str]:
        redis = f"redis://127.0.0.1:{self.redis_port}"
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "SAYFILE_DATA_DIR": str(self.data),
            "SAYFILE_STORE_URL": f"{redis}/0",
            "SAYFILE_QUEUE_URL": f"{redis}/1",
            "SAYFILE_ENGINES": "hang",
            "SAYFILE_DEFAULT_VOICE": SLOW_VOICE,
            "SAYFILE_LOUDNESS": "off",
            "SAYFILE_RATE_LIMIT": "",
            "SAYFILE_MAX_ACTIVE_PER_CLIENT": "1000",
            "SAYFILE_WORKER_TIMEOUT_SECONDS": "5",
            "SAYFILE_SWEEP_INTERVAL_SECONDS": "0.5",
            "SAYFILE_BOOK_PART_CHARS": "400",
            "SAYFILE_ENGINE_TIMEOUT_SECONDS": str(ENGINE_TIMEOUT_S),
            "SAYFILE_LOG_FORMAT": "text",
            HANG_FILE_ENV: str(self.hang_file),
        }

    def log(self, name: str) -> int:
        path = self.folder / f"{name}.log"
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def start_redis(self) -> None:
        (self.folder / "redis").mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.folder / "redis"), "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "everysec"]
        self.redis = subprocess.Popen(command, stdout=self.log("redis"), stderr=subprocess.STDOUT)
        _wait(lambda: _redis_answers(self.redis_port), 20, "redis-server did not start")

    def stop_redis(self) -> None:
        if self.redis is not None:
            self.redis.send_signal(signal.SIGCONT)
            self.redis.terminate()
            self.redis.wait(timeout=20)

    def start_api(self) -> None:
        command = [sys.executable, HANGING, "serve", "--port", str(self.api_port)]
        self.api = subprocess.Popen(
            [*command, "--log-level", "warning"],
            env=self.env(),
            stdout=self.log("api"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(lambda: _answers(f"{self.url}/healthz"), 60, "the API did not start")

    def start_workers(self) -> None:
        for number in range(2):
            command = [sys.executable, HANGING, "worker", "--processes", "1"]
            self.workers.append(
                subprocess.Popen(
                    [*command, "--log-level", "WARNING"],
                    env=self.env(),
                    stdout=self.log(f"worker-{number}"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        _wait(lambda: len(self.worker_processes()) == 2, 60, "the workers did not start")

    def worker_processes(self) -> list[int]:
        """The processes that do the work (the supervisors' children)."""
        return [pid for worker in self.workers for pid in _children(worker.pid)]

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.start_api()
        self.start_workers()

    def close(self) -> None:
        for process in [*self.workers, self.api]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.api]:
            if process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=30)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.stop_redis()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                after = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(after[1]) == pid and after[0] != "Z":
                    found.append(int(entry.name))
    return found


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _redis_answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(ready: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.1)


# The faults: each is given the cluster and runs in the foreground (its own pauses).
def pause_redis(seconds: float) -> Callable[[Cluster], None]:
    def fault(cluster: Cluster) -> None:
        assert cluster.redis is not None
        cluster.redis.send_signal(signal.SIGSTOP)
        time.sleep(seconds)
        cluster.redis.send_signal(signal.SIGCONT)

    return fault


def restart_redis(cluster: Cluster) -> None:
    cluster.stop_redis()
    cluster.start_redis()


def kill_worker(cluster: Cluster) -> None:
    pids = cluster.worker_processes()
    if pids:
        os.kill(random.choice(pids), signal.SIGKILL)


def kill_api(cluster: Cluster) -> None:
    assert cluster.api is not None
    os.killpg(cluster.api.pid, signal.SIGKILL)
    cluster.api.wait()
    cluster.start_api()


def fill_disk(cluster: Cluster) -> None:
    pids = cluster.worker_processes()
    limits = {}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            limits[pid] = resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    time.sleep(5)
    for pid, before in limits.items():
        with contextlib.suppress(ProcessLookupError):
            resource.prlimit(pid, resource.RLIMIT_FSIZE, before)


def hang_engine(cluster: Cluster) -> None:
    cluster.hang_file.touch()


FAULTS: dict[str, Callable[[Cluster], None]] = {
    "redis paused 2 s": pause_redis(2),
    "redis paused 10 s": pause_redis(10),
    "redis restarted": restart_redis,
    "worker killed -9": kill_worker,
    "api killed -9": kill_api,
    "disk filling": fill_disk,
    "engine call hangs": hang_engine,
}


@dataclass
class Outcome:
    fault: str
    result: str  # done whole, failed true, failed other, stuck, lost
    seconds: float
    orphans: int
    note: str = ""


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None  # the API or Redis is away for the moment


def submit(cluster: Cluster, text: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.TransportError):
            r = httpx.post(
                f"{cluster.url}/jobs",
                files={"file": ("book.md", text.encode(), "text/markdown")},
                data={"voice": SLOW_VOICE, "format": "mp3"},
                timeout=30,
            )
            if r.status_code == 202:
                job_id: str = r.json()["id"]
                return job_id
        if time.monotonic() > deadline:
            raise RuntimeError("the API took no book for 60 s")
        time.sleep(0.5)


def wait_finished(cluster: Cluster, job_id: str, stuck_after: float) -> dict[str, object] | None:
    """The job's last JSON once done or failed; {"status": "gone"} when it is not known any
    more; None when it is still unfinished after `stuck_after` seconds."""
    deadline = time.monotonic() + stuck_after
    while time.monotonic() < deadline:
        r = _get(f"{cluster.url}/jobs/{job_id}")
        if r is not None and r.status_code == 404:
            return {"status": "gone"}
        if r is not None and r.status_code == 200:
            job: dict[str, object] = r.json()
            if job["status"] in ("done", "failed"):
                return job
        time.sleep(0.2)
    return None


def whole(cluster: Cluster, job_id: str, said: list[str]) -> str:
    """Empty when the book is whole; else what is wrong."""
    audio = _get(f"{cluster.url}/jobs/{job_id}/audio")
    timings = _get(f"{cluster.url}/jobs/{job_id}/timings")
    if audio is None or audio.status_code != 200:
        return f"audio: {None if audio is None else audio.status_code}"
    if timings is None or timings.status_code != 200:
        return f"timings: {None if timings is None else timings.status_code}"
    record = timings.json()
    entries = record["pieces"]
    heard = [entry["text"].strip() for entry in entries]
    if heard != said:
        missing = len([s for s in said if s not in heard])
        extra = len(heard) - len(said)
        return f"timings differ: {missing} missing, {extra:+d} sentences"
    samples = pcm(audio.content)
    end = float(record["duration"])
    if abs(len(samples) / _RATE - end) > 0.5:
        return f"file {len(samples) / _RATE:.1f} s, timings {end:.1f} s"
    words = sum(len(text.split()) for text in heard)
    counted = beeps(samples, _RATE)
    if counted != words:
        return f"{counted} beeps for {words} words"
    return ""


def orphans(cluster: Cluster, job_id: str, done: bool) -> list[Path]:
    """Files of the job that should not be there: any, once failed; once done, anything
    but its audio and timings."""
    left = [path for path in cluster.data.rglob(f"*{job_id}*")]
    if done:
        left = [path for path in left if is_unfinished(path.name) or path.is_dir()]
    return left


def run_once(
    cluster: Cluster, fault: str, at: float, said: list[str], text: str, stuck_after: float
) -> Outcome:
    start = time.monotonic()
    job_id = submit(cluster, text)
    time.sleep(at)
    FAULTS[fault](cluster)
    job = wait_finished(cluster, job_id, stuck_after)
    seconds = time.monotonic() - start
    if job is None:  # its files are those of a book under way, not orphans
        held = len(orphans(cluster, job_id, False))
        return Outcome(fault, "stuck", seconds, 0, f"{held} files of the book under way")
    if job["status"] == "gone":
        return Outcome(fault, "lost", seconds, len(orphans(cluster, job_id, False)), "404")
    if job["status"] == "done":
        wrong = whole(cluster, job_id, said)
        left = len(orphans(cluster, job_id, True))
        return Outcome(fault, "lost" if wrong else "done whole", seconds, left, wrong)
    message = str(job.get("error") or "")
    true = any(word in message.lower() for word in TRUE_REASONS[fault])
    time.sleep(1)  # a failed book's files go right after its record says so
    left = len(orphans(cluster, job_id, False))
    return Outcome(fault, "failed true" if true else "failed other", seconds, left, message)


def settle(cluster: Cluster) -> None:
    """Back to a healthy cluster between runs: Redis and the API up, the hang taken back,
    both workers running."""
    with contextlib.suppress(FileNotFoundError):
        cluster.hang_file.unlink()
    if cluster.redis is None or cluster.redis.poll() is not None:
        cluster.start_redis()
    if cluster.api is None or cluster.api.poll() is not None:
        cluster.start_api()
    _wait(lambda: _answers(f"{cluster.url}/healthz"), 60, "the API is not back")
    _wait(lambda: len(cluster.worker_processes()) == 2, 60, "a worker is not back")


def table(outcomes: list[Outcome], baseline: float) -> str:
    head = (
        "| fault | runs | done whole | failed, true reason | failed, other reason | stuck | "
        "lost | orphan files | time cost (median) |"
    )
    rows = [head, "|" + " --- |" * 9]
    for fault in FAULTS:
        mine = [o for o in outcomes if o.fault == fault]
        if not mine:
            continue

        def count(result: str, mine: list[Outcome] = mine) -> int:
            return sum(o.result == result for o in mine)

        cost = statistics.median(o.seconds for o in mine) - baseline
        rows.append(
            f"| {fault} | {len(mine)} | {count('done whole')} | {count('failed true')} | "
            f"{count('failed other')} | {count('stuck')} | {count('lost')} | "
            f"{sum(o.orphans for o in mine)} | {cost:+.1f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each fault")
    parser.add_argument("--runs", type=int, default=8, help="runs of each fault")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--chapters", type=int, default=6)
    parser.add_argument("--sentences", type=int, default=50, help="sentences per chapter")
    parser.add_argument("--stuck-after", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs)")
    parser.add_argument("--json", type=Path, help="write every run's outcome here")
    parser.add_argument("--only", choices=list(FAULTS), help="inject this fault alone")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is needed (apt-get install redis-server)")
    # Ended by SIGTERM too (a background job ignores SIGINT): everything started is stopped.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(1))
    runs = 1 if args.quick else args.runs
    rng = random.Random(args.seed)
    random.seed(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="sayfile-faults-"))
    cluster = Cluster(folder)
    outcomes: list[Outcome] = []
    try:
        cluster.start()
        times = []
        for _ in range(2):  # the book without faults: how long it takes, and that it is whole
            # A new book each time: an identical one would be the finished file again.
            text, said = book_text(args.chapters, args.sentences, rng)
            start = time.monotonic()
            job_id = submit(cluster, text)
            job = wait_finished(cluster, job_id, args.stuck_after)
            times.append(time.monotonic() - start)
            if job is None or job["status"] != "done" or whole(cluster, job_id, said):
                raise RuntimeError(f"the book without faults is not whole: {job}")
        baseline = statistics.median(times)
        print(f"book: {len(said)} sentences, {baseline:.1f} s without faults", flush=True)
        plan = [fault for fault in FAULTS if args.only in (None, fault) for _ in range(runs)]
        rng.shuffle(plan)
        for number, fault in enumerate(plan, 1):
            settle(cluster)
            at = rng.uniform(0.3, max(0.5, baseline * 0.8))
            text, said = book_text(args.chapters, args.sentences, rng)
            outcome = run_once(cluster, fault, at, said, text, args.stuck_after)
            outcomes.append(outcome)
            print(
                f"{number:3d}/{len(plan)} {fault:18s} at {at:4.1f} s: {outcome.result:12s} "
                f"{outcome.seconds:6.1f} s, {outcome.orphans} orphan files  {outcome.note[:90]}",
                flush=True,
            )
        print()
        print(table(outcomes, baseline))
        if args.json:
            args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    finally:
        cluster.close()
        if args.keep:
            print(f"logs in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
