"""A book made by several `sayfile worker` processes (issue 15): how its wall time falls with
1, 2 and 4 processes, what joining its chapters and the book costs, and each worker process's
peak memory for the book and for one of half its length. Real Redis, a real API server and
real worker processes on this machine; all traffic to 127.0.0.1.

Each configuration gets a fresh Redis (store db 0, queue db 1), data folder, `sayfile serve`
and `sayfile worker --processes N`, with SAYFILE_PARALLEL_SENTENCES=1 (one sentence at a time
per process) and SAYFILE_BOOK_TURNS=N (or --turns). Once every worker process listens, a small
book goes through the API untimed (warm-up). Then the book (Markdown, --chapters `# ` headings
over generated English sentences, --chars characters in all) is posted to POST /jobs and
GET /jobs/{id} polled every 0.5 s until it is done; the wall time runs from the POST to the
poll that sees it done. The file is downloaded and checked: its size, a plausible duration,
every chapter done in the status, and (with ffprobe) the chapters marked in the file.

- chapter joins s / book join s: the sums of the workers' INFO lines "a chapter was joined from
  N parts in X s" and "a book was joined from N chapters in X s" during the book. Chapter joins
  run alongside other parts' synthesis (on other processes, or on this one's other turns).
- book join %: the book join alone, of the wall time; assembly %: chapter joins + book join.
- peak RSS: each worker process's VmHWM over the book (reset through /proc/PID/clear_refs when
  the book is posted, so model loading does not count).
- per process: the parts it was seen writing (its files open for writing, sampled every 0.1 s;
  a part's file opens with its first sentence's encoding, so a part made quicker than that may
  be missed), the share of samples it had one open ("busy") and two or more ("2+ parts": turns
  of the book that landed on one process at once), its CPU seconds during the book (with its
  espeak-ng commands'), the joins it logged, and when its sampled RSS peaked.

The memory lines repeat the book at half its length with the fewest worker processes: the
peak should not grow with the book's length. With the defaults (Piper, 200,000 characters,
1, 2 and 4 processes, and the half book) it takes about 25 minutes on 2 quiet cores.

    .venv/bin/python bench/books.py [--chars 200000] [--workers 1,2,4] [--no-memory]
        [--voice piper:en_US-joe-medium] [--format mp3] [--turns N] [--part-chars 4000]
        [--as-text]

With --as-text the book goes to POST /jobs as JSON plain text, its headings as lines
("Chapter 3: ..."): a long text job, which the service makes as a book the same way.

A quick check of the script itself (under a minute):

    .venv/bin/python bench/books.py --chars 12000 --workers 1,2 --voice espeak:en-us
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx2 as httpx

from harness import free_port, load_env, start_sayfile, stop
from sayfile.books.parts import split_book
from sayfile.books.reading import read_book

VOICE = "piper:en_US-joe-medium"
POLL_S = 0.5
SAMPLE_S = 0.1
# Worker processes load their voices before they listen; a cold disk can take a while.
READY_S = 300.0
WARM_UP_S = 300.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024

# The workers' log (taskiq's format: "[time][logger][LEVEL  ][worker-0] message").
STARTED = re.compile(r"Started process (worker-\d+) with pid (\d+)")
RESTARTED = re.compile(r"Process (worker-\d+) restarted with pid (\d+)")
LISTENING = re.compile(r"\[(worker-\d+)\] Listening started\.")
CHAPTER_JOIN = re.compile(r"\[(worker-\d+)\] a chapter was joined from (\d+) parts in ([\d.]+) s")
BOOK_JOIN = re.compile(r"\[(worker-\d+)\] a book was joined from (\d+) chapters in ([\d.]+) s")
TROUBLE = re.compile(r"\[(?:WARNING|ERROR|CRITICAL)\s*\]|Traceback")
# A part a worker process is writing: <data>/books/<job id>/part-0007.<random>.mp3.unfinished
PART_FILE = re.compile(r"/books/[^/]+/part-(\d+)\.")

# The book's sentences: deterministic, varied in length and shape (questions, quotes, lists).
NAMES = ("Mara", "Tobias", "Ines", "Oskar", "Lena", "Hugo", "Priya", "Daniel", "Agnes", "Felix")
SUBJECTS = (
    "the miller",
    "the old ferryman",
    "a tired clerk",
    "the schoolteacher",
    "her younger brother",
    "the captain of the barge",
    "a stranger from the north",
    "the baker's daughter",
    "the night watchman",
    "our neighbour across the lane",
)
VERBS = (
    "carried",
    "repaired",
    "counted",
    "painted",
    "forgot",
    "found",
    "sold",
    "borrowed",
    "measured",
    "described",
)
OBJECTS = (
    "a basket of apples",
    "the broken lantern",
    "twelve unopened letters",
    "the map of the valley",
    "a wooden chair",
    "the harbour bell",
    "an umbrella with a green handle",
    "the last loaf of bread",
    "the keys to the chapel",
    "a small blue rowing boat",
)
PLACES = (
    "by the river",
    "behind the mill",
    "at the station",
    "in the market square",
    "on the hill above the town",
    "near the lighthouse",
    "under the railway bridge",
    "in the walled garden",
    "at the edge of the forest",
    "beside the frozen pond",
)
TIMES = (
    "Early in the morning",
    "Just before noon",
    "Late that evening",
    "On the following Tuesday",
    "After the storm had passed",
    "When the bells rang for the third time",
    "In the middle of the winter",
    "Before anyone else was awake",
)
ASKED = ("carry", "repair", "count", "paint", "find", "sell", "borrow", "measure")
MOODS = ("quiet", "cheerful", "anxious", "patient", "curious", "stubborn", "hopeful", "weary")
SAYINGS = (
    "We should leave before the rain comes",
    "Nobody told me that the ferry had stopped running",
    "It is later than you think",
    "The road is longer than it looks from here",
    "Bring the lamp, and close the door behind you",
    "I have seen that boat before, I am sure of it",
)
TITLES = (
    "The Mill",
    "A Letter from the Coast",
    "Winter Roads",
    "The Ferryman's Bell",
    "Lamps and Lanterns",
    "The Market Day",
    "A Stranger in the Lane",
    "Under the Bridge",
    "The Frozen Pond",
    "What the Captain Said",
)


def sentence(rng: random.Random) -> str:
    """One sentence in one of several shapes."""
    name, other = rng.sample(NAMES, 2)
    subject, subject2 = rng.sample(SUBJECTS, 2)
    verb, verb2 = rng.sample(VERBS, 2)
    thing, thing2 = rng.sample(OBJECTS, 2)
    place, mood, mood2 = rng.choice(PLACES), rng.choice(MOODS), rng.choice(MOODS)
    shape = rng.randrange(7)
    if shape == 0:
        text = f"{rng.choice(TIMES)}, {subject} {verb} {thing} {place}."
    elif shape == 1:
        text = f"{name} {verb} {thing}, and {subject2} {verb2} {thing2}."
    elif shape == 2:
        text = f"Why did {subject} {rng.choice(ASKED)} {thing} {place}?"
    elif shape == 3:
        text = f'"{rng.choice(SAYINGS)}," said {name}, looking {mood}.'
    elif shape == 4:
        year, count = rng.randrange(1850, 1990), rng.randrange(2, 40)
        text = f"In {year}, {count} people {verb} {thing} {place}; nobody remembered why."
    elif shape == 5:
        text = f"{name} was {mood}, but {other} was {mood2}, and {subject} said nothing at all."
    else:
        text = f"{subject} {verb} {thing}, {thing2} and a jar of honey {place}."
    return text[0].upper() + text[1:]


def make_book(chars: int, chapters: int, seed: int = 15) -> str:
    """Markdown of at most `chars` characters (headings included): `chapters` chapters of
    about equal length, each a `# ` heading and paragraphs of three to six sentences."""
    rng = random.Random(seed)
    budget = chars // chapters
    out: list[str] = []
    for number in range(1, chapters + 1):
        chapter = f"# Chapter {number}: {TITLES[(number - 1) % len(TITLES)]}\n"
        paragraph: list[str] = []
        length = rng.randrange(3, 7)
        while True:
            next_sentence = sentence(rng)
            # Sentences join with a space, paragraphs with a blank line; a newline ends it.
            room = len(chapter) + len(" ".join([*paragraph, next_sentence])) + 3
            if room > budget:
                break
            paragraph.append(next_sentence)
            if len(paragraph) == length:
                chapter += "\n" + " ".join(paragraph) + "\n"
                paragraph, length = [], rng.randrange(3, 7)
        if paragraph:
            chapter += "\n" + " ".join(paragraph) + "\n"
        out.append(chapter)
    return "\n".join(out)


@dataclass
class Process:
    """One worker process (taskiq's `worker-N`) and what it did during the book."""

    name: str
    pid: int
    rss_before_mib: float = 0.0
    peak_mib: float = 0.0
    # The largest RSS the sampler saw, and when (seconds after the POST): during the parts,
    # or at the end, while the book was joined?
    sampled_peak_mib: float = 0.0
    sampled_peak_s: float = 0.0
    cpu_s: float = 0.0
    parts: set[int] = field(default_factory=set)
    first_part_s: float | None = None
    last_part_s: float | None = None
    # Samples with at least one part open for writing, and with two or more (turns of the
    # book that landed on this process at once, made in turns on its one sentence thread).
    busy_samples: int = 0
    double_samples: int = 0
    chapter_joins: int = 0
    book_joins: int = 0


@dataclass
class Run:
    workers: int
    chars: int
    wall_s: float | None = None
    chapter_join_s: float = 0.0
    chapter_join_count: int = 0
    book_join_s: float = 0.0
    book_join_count: int = 0
    duration_s: float | None = None
    bytes: int | None = None
    processes: list[Process] = field(default_factory=list)
    samples: int = 0
    problems: list[str] = field(default_factory=list)
    log_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Book:
    markdown: str
    as_text: bool
    """Sent as a JSON job's plain text (its headings as "Chapter N: ..." lines) rather than
    uploaded as Markdown: the way a long text job becomes a book."""
    chapters: int
    text_chars: int
    parts: int


def plan_book(chars: int, chapters: int, part_chars: int, as_text: bool = False) -> Book:
    """The book's Markdown and, read as the service reads it, its chapters and parts."""
    markdown = make_book(chars, chapters)
    if as_text:
        read = read_book(plain_text(markdown).encode(), "", "text/plain")
    else:
        read = read_book(markdown.encode(), "book.md")
    parts = split_book(read, part_chars)
    return Book(markdown, as_text, len(read), sum(len(c.text) for c in read), len(parts))


def plain_text(markdown: str) -> str:
    """The book as plain text: each `# Chapter N: Title` heading a line of its own."""
    return re.sub(r"^# ", "", markdown, flags=re.MULTILINE)


# /proc


def _status(pid: int, key: str) -> float:
    """A field of /proc/PID/status in MiB (0 when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid: int) -> bool:
    """Set the process's VmHWM to its current RSS (Linux 4.0+); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used, with those of the children it has
    waited for (espeak-ng runs as a command per piece)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def open_parts(pid: int) -> set[int]:
    """The book parts the process has open for writing right now (a chapter's join opens the
    chapter's parts too, only to read them)."""
    found: set[int] = set()
    try:
        entries = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            target = str(entry.readlink())
        except OSError:
            continue
        match = PART_FILE.search(target)
        if match and _writing(pid, entry.name):
            found.add(int(match.group(1)))
    return found


def _writing(pid: int, fd: str) -> bool:
    """Whether the process opened its file descriptor `fd` for writing."""
    try:
        lines = Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE != os.O_RDONLY
    return False


class Sampler:
    """Every SAMPLE_S, in a thread: which parts each worker process has open, and its RSS
    (when the peak came, and the peak itself should clear_refs not be allowed)."""

    def __init__(self, processes: list[Process]) -> None:
        self.processes = processes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = 0.0
        self.samples = 0

    def start(self) -> None:
        self._started = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter() - self._started
            self.samples += 1
            for process in self.processes:
                parts = open_parts(process.pid)
                process.busy_samples += bool(parts)
                process.double_samples += len(parts) > 1
                if parts:
                    process.parts |= parts
                    if process.first_part_s is None:
                        process.first_part_s = now
                    process.last_part_s = now
                rss = _status(process.pid, "VmRSS")
                if rss > process.sampled_peak_mib:
                    process.sampled_peak_mib, process.sampled_peak_s = rss, now
            self._stop.wait(SAMPLE_S)


# Processes


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A fresh redis-server on 127.0.0.1 that keeps nothing on disk, once it answers."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    redis = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1) as sock,
        ):
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return redis, port
        time.sleep(0.1)
    redis.kill()
    redis.wait()
    raise RuntimeError("redis-server did not answer within 20 s")


def start_workers(env: dict[str, str], processes: int, log: TextIO) -> subprocess.Popen[bytes]:
    """`sayfile worker --processes N` in a process group of its own, logging at INFO to `log`."""
    command = [sys.executable, "-m", "sayfile", "worker", "--processes", str(processes)]
    return subprocess.Popen(
        [*command, "--log-level", "INFO"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_workers(manager: subprocess.Popen[bytes]) -> None:
    """SIGINT to the manager (it stops its processes gracefully); whatever of its group is
    left 30 s later is killed."""
    if manager.poll() is None:
        manager.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            manager.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(manager.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(manager.pid, signal.SIGKILL)
    manager.wait()


def wait_ready(
    log: Path, manager: subprocess.Popen[bytes], count: int, seconds: float
) -> list[Process]:
    """The worker processes, once each has loaded its voices and listens."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        pids = {name: int(pid) for name, pid in STARTED.findall(text)}
        pids.update({name: int(pid) for name, pid in RESTARTED.findall(text)})
        listening = set(LISTENING.findall(text))
        if len(pids) >= count and len(listening) >= count:
            return [Process(name, pid) for name, pid in sorted(pids.items())]
        if manager.poll() is not None:
            raise RuntimeError(f"`sayfile worker` ended (exit {manager.returncode}):\n{tail(log)}")
        time.sleep(0.2)
    raise RuntimeError(f"the worker processes were not ready within {seconds:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# The API


def submit(
    client: httpx.Client, markdown: str, voice: str, fmt: str, as_text: bool = False
) -> dict[str, Any]:
    if as_text:
        body = {"text": plain_text(markdown), "voice": voice, "format": fmt}
        response = client.post("/jobs", json=body)
    else:
        files = {"file": ("book.md", markdown.encode(), "text/markdown")}
        response = client.post("/jobs", files=files, data={"voice": voice, "format": fmt})
    if response.status_code != 202:
        raise RuntimeError(f"POST /jobs answered {response.status_code}: {response.text}")
    job: dict[str, Any] = response.json()
    return job


def wait_done(client: httpx.Client, job_id: str, seconds: float) -> dict[str, Any]:
    """The job once it is done or failed; raises TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(f"/jobs/{job_id}")
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        if job["status"] in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['status']} after {seconds:.0f} s")
        time.sleep(POLL_S)


def warm_up(client: httpx.Client, workers: int, tag: str, voice: str, fmt: str) -> None:
    """A small book with a chapter (one part) per worker process, so that each likely makes
    a part and joins something before the clock starts."""
    chapters = [
        f"# Warm-up {n}\n\nThis is warm-up chapter {n} of run {tag}. The workers are ready.\n"
        for n in range(1, max(2, workers) + 1)
    ]
    job = submit(client, "\n".join(chapters), voice, fmt)
    done = wait_done(client, job["id"], WARM_UP_S)
    if done["status"] != "done":
        raise RuntimeError(f"the warm-up book failed: {done.get('error')}")


def verify(client: httpx.Client, job: dict[str, Any], book: Book, folder: Path) -> list[str]:
    """What is wrong with the finished book, if anything."""
    problems: list[str] = []
    if job["status"] != "done":
        return [f"the book {job['status']}: {job.get('error')}"]
    path = folder / "book.audio"
    with client.stream("GET", job["audio_url"]) as response, path.open("wb") as out:
        if response.status_code != 200:
            return [f"GET {job['audio_url']} answered {response.status_code}"]
        for block in response.iter_bytes():
            out.write(block)
    size = path.stat().st_size
    if size == 0 or size != job["bytes"]:
        problems.append(f"downloaded {size} bytes, the job says {job['bytes']}")
    duration = float(job["duration_s"] or 0)
    # Speech runs at about 10 to 20 characters a second; chapters add 1.5 s pauses.
    low, high = book.text_chars / 40, book.text_chars / 5 + 3 * book.chapters
    if not low <= duration <= high:
        problems.append(f"duration {duration:.0f} s is outside {low:.0f}-{high:.0f} s")
    chapters = job.get("chapters") or []
    if len(chapters) != book.chapters or not all(c["done"] for c in chapters):
        done = sum(1 for c in chapters if c["done"])
        problems.append(f"{done} of {len(chapters)} chapters done, {book.chapters} expected")
    starts = [c.get("start") for c in chapters]
    if None in starts or starts != sorted(starts):
        problems.append(f"chapter starts missing or out of order: {starts[:5]}...")
    problems += probe(path, book.chapters, duration)
    return problems


def probe(path: Path, chapters: int, duration: float) -> list[str]:
    """ffprobe's view of the file: its chapter marks and duration (nothing without ffprobe)."""
    if shutil.which("ffprobe") is None:
        return []
    command = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format"]
    result = subprocess.run(
        [*command, "-show_chapters", str(path)], capture_output=True, timeout=120, check=False
    )
    if result.returncode != 0:
        return [f"ffprobe failed: {result.stderr.decode(errors='replace').strip()[:200]}"]
    info = json.loads(result.stdout)
    problems = []
    marked = len(info.get("chapters", []))
    if chapters > 1 and marked != chapters:
        problems.append(f"ffprobe sees {marked} chapter marks, {chapters} expected")
    probed = float(info.get("format", {}).get("duration", 0))
    if abs(probed - duration) > max(1.0, 0.01 * duration):
        problems.append(f"ffprobe says {probed:.1f} s, the job {duration:.1f} s")
    return problems


# One configuration


@dataclass(frozen=True)
class Options:
    voice: str
    format: str
    turns: int | None
    part_chars: int
    timeout: float


def run_case(workers: int, book: Book, options: Options, folder: Path) -> Run:
    """Fresh Redis, API server and `workers` worker processes; the book through them."""
    run = Run(workers, len(book.markdown))
    folder.mkdir(parents=True)
    redis, port = start_redis(folder)
    env = load_env(
        folder / "data",
        SAYFILE_STORE_URL=f"redis://127.0.0.1:{port}/0",
        SAYFILE_QUEUE_URL=f"redis://127.0.0.1:{port}/1",
        SAYFILE_PARALLEL_SENTENCES="1",
        SAYFILE_BOOK_TURNS=str(options.turns or workers),
        SAYFILE_BOOK_PART_CHARS=str(options.part_chars),
        # Every worker process loads the benchmarked voice when it starts.
        SAYFILE_DEFAULT_VOICE=options.voice,
        SAYFILE_MAX_CHARS_JOB=str(max(200_000, book.text_chars)),
    )
    log_path = folder / "worker.log"
    manager: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("w") as log:
            manager = start_workers(env, workers, log)
        server, url = start_sayfile(env)
        run.processes = wait_ready(log_path, manager, workers, READY_S)
        with httpx.Client(base_url=url, timeout=60) as client:
            warm_up(client, workers, f"{workers}-{run.chars}", options.voice, options.format)
            offset = log_path.stat().st_size
            measure(client, run, book, options, folder)
        read_log(run, log_path.read_bytes()[offset:].decode(errors="replace"))
    except (RuntimeError, TimeoutError, httpx.HTTPError) as exc:
        run.wall_s = None
        run.problems.append(str(exc))
        if log_path.exists():
            run.problems.append("the workers' log ends:\n" + tail(log_path))
    finally:
        if server is not None:
            stop(server)
        if manager is not None:
            stop_workers(manager)
        redis.terminate()
        redis.wait()
    return run


def measure(client: httpx.Client, run: Run, book: Book, options: Options, folder: Path) -> None:
    """Post the book, wait for it, and fill in `run` (wall time, memory, CPU, checks)."""
    processes = run.processes
    for process in processes:
        process.rss_before_mib = _status(process.pid, "VmRSS")
    peaks_reset = all(reset_peak(p.pid) for p in processes)
    cpu_before = {p.name: cpu_seconds(p.pid) for p in processes}
    sampler = Sampler(processes)
    sampler.start()
    started = time.perf_counter()
    try:
        job = submit(client, book.markdown, options.voice, options.format, book.as_text)
        done = wait_done(client, job["id"], options.timeout)
        wall = time.perf_counter() - started
    finally:
        sampler.stop()
    run.samples = sampler.samples
    for process in processes:
        hwm = _status(process.pid, "VmHWM")
        process.peak_mib = hwm if peaks_reset else process.sampled_peak_mib
        process.cpu_s = cpu_seconds(process.pid) - cpu_before[process.name]
    if not peaks_reset:
        run.problems.append("clear_refs refused: peak RSS is sampled VmRSS, not VmHWM")
    run.problems += verify(client, done, book, folder)
    if done["status"] == "done":
        run.wall_s = wall
        run.duration_s = float(done["duration_s"])
        run.bytes = int(done["bytes"])


def read_log(run: Run, text: str) -> None:
    """The joins the workers logged during the book, and anything that went wrong."""
    by_name = {p.name: p for p in run.processes}
    for name, _, seconds in CHAPTER_JOIN.findall(text):
        run.chapter_join_s += float(seconds)
        run.chapter_join_count += 1
        if name in by_name:
            by_name[name].chapter_joins += 1
    for name, _, seconds in BOOK_JOIN.findall(text):
        run.book_join_s += float(seconds)
        run.book_join_count += 1
        if name in by_name:
            by_name[name].book_joins += 1
    for name, pid in RESTARTED.findall(text):
        run.problems.append(f"{name} was restarted during the book (new pid {pid})")
    trouble = [line for line in text.splitlines() if TROUBLE.search(line)]
    if trouble:
        run.log_notes.append(f"{len(trouble)} warning/error lines in the workers' log, e.g.:")
        run.log_notes += [f"    {line[:240]}" for line in trouble[:5]]


def sharing_notes(run: Run, book: Book) -> list[str]:
    """What looks uneven or wrong in how the processes shared the book."""
    notes = []
    seen: dict[int, list[str]] = {}
    for process in run.processes:
        for number in process.parts:
            seen.setdefault(number, []).append(process.name)
        if run.workers > 1 and not process.parts:
            notes.append(f"{process.name} was never seen writing a part")
    twice = {n: names for n, names in seen.items() if len(names) > 1}
    if twice:
        notes.append(f"parts written by more than one process: {twice}")
    if run.wall_s is not None:
        if len(seen) < book.parts:
            notes.append(f"{len(seen)} of {book.parts} parts seen being written (sampling)")
        if run.chapter_join_count != book.chapters:
            notes.append(f"{run.chapter_join_count} chapter joins for {book.chapters} chapters")
        if run.book_join_count != 1:
            notes.append(f"{run.book_join_count} book joins logged")
    if run.workers > 1:
        cpu = [p.cpu_s for p in run.processes]
        if max(cpu) - min(cpu) > 2 and min(cpu) < 0.75 * max(cpu):
            notes.append("uneven CPU: " + " / ".join(f"{c:.0f} s" for c in cpu))
    return notes


# Report


def report(
    runs: list[Run], half: Run | None, book: Book, half_book: Book | None, args: argparse.Namespace
) -> None:
    turns = f"{args.turns}" if args.turns else "the number of worker processes"
    print(
        f"Book: {len(book.markdown):,} characters of Markdown ({book.text_chars:,} of chapter "
        f"text), {book.chapters} chapters, {book.parts} parts of about {args.part_chars:,}; "
        f"{args.voice}, {args.format}; "
        + ("sent as a JSON job's plain text" if book.as_text else "uploaded as Markdown")
    )
    print(f"SAYFILE_PARALLEL_SENTENCES=1, SAYFILE_BOOK_TURNS={turns}; {os.cpu_count()} cores")
    done = [r for r in runs if r.wall_s is not None]
    if done and done[0].duration_s is not None:
        first = done[0]
        print(f"audio: {first.duration_s:,.0f} s, {(first.bytes or 0) / MIB:.1f} MiB")
    base = next((r for r in done if r.workers == 1), done[0] if done else None)
    print(f"speed-up: against {base.workers if base else '-'} worker process(es)")
    print(
        f"{'workers':>7} {'wall s':>8} {'speed-up':>8} {'chapter joins s':>15} {'book join s':>11} "
        f"{'book join %':>11} {'assembly %':>10}  peak RSS per worker MiB"
    )
    for run in runs:
        peaks = " / ".join(f"{p.peak_mib:.0f}" for p in run.processes) or "-"
        if run.wall_s is None or base is None or base.wall_s is None:
            print(f"{run.workers:>7} {'failed':>8}  {peaks}")
            continue
        joins = run.chapter_join_s + run.book_join_s
        print(
            f"{run.workers:>7} {run.wall_s:8.1f} {base.wall_s / run.wall_s:7.2f}x "
            f"{run.chapter_join_s:15.2f} {run.book_join_s:11.2f} "
            f"{100 * run.book_join_s / run.wall_s:10.2f}% {100 * joins / run.wall_s:9.2f}%  "
            f"{peaks}"
        )
    print("Per worker process: parts seen writing (first-last seen, s after the POST); CPU s")
    print("during the book; busy: share of the book's samples with a part open for writing")
    print("(2+ parts: two or more at once); chapter + book joins logged; RSS before the book")
    print("-> peak MiB (the sampled peak: when, in seconds after the POST)")
    for run in [*runs, *([half] if half else [])]:
        print(f"  {run.workers} worker(s), {run.chars:,} characters:")
        samples = max(1, run.samples)
        for p in run.processes:
            span = (
                f"{p.first_part_s:.1f}-{p.last_part_s:.1f}"
                if p.first_part_s is not None and p.last_part_s is not None
                else "-"
            )
            print(
                f"    {p.name} (pid {p.pid}): {len(p.parts):3} parts ({span}), {p.cpu_s:6.1f} "
                f"CPU s, busy {100 * p.busy_samples / samples:3.0f}% "
                f"(2+ parts {100 * p.double_samples / samples:.0f}%), "
                f"{p.chapter_joins} + {p.book_joins} joins, "
                f"{p.rss_before_mib:.0f} -> {p.peak_mib:.0f} MiB "
                f"(sampled {p.sampled_peak_mib:.0f} at {p.sampled_peak_s:.1f} s)"
            )
        notes = sharing_notes(run, half_book if run is half and half_book else book)
        for line in [*notes, *run.problems, *run.log_notes]:
            print(f"    ! {line}")
    if half is not None and half_book is not None:
        full = next((r for r in runs if r.workers == half.workers), None)
        print(f"Memory in the book's length ({half.workers} worker process(es), peak per process):")
        for length in (full, half):
            if length is not None and length.processes:
                peak = max(p.peak_mib for p in length.processes)
                before = max(p.rss_before_mib for p in length.processes)
                wall = f"{length.wall_s:.1f} s" if length.wall_s is not None else "failed"
                print(
                    f"  {length.chars:>9,} characters: peak {peak:6.0f} MiB "
                    f"(before the book {before:.0f} MiB), wall {wall}"
                )
        if full is not None and full.processes and half.processes:
            grew = max(p.peak_mib for p in full.processes) - max(p.peak_mib for p in half.processes)
            print(f"  twice the length: {grew:+.0f} MiB per worker process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chars", type=int, default=200_000, help="the book's length")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to run")
    parser.add_argument("--voice", default=VOICE)
    parser.add_argument("--format", default="mp3")
    parser.add_argument("--chapters", type=int, default=20)
    parser.add_argument("--part-chars", type=int, default=4000, help="SAYFILE_BOOK_PART_CHARS")
    parser.add_argument(
        "--turns", type=int, default=None, help="SAYFILE_BOOK_TURNS (default: the worker count)"
    )
    parser.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run half the book with the fewest workers (peak RSS in the book's length)",
    )
    parser.add_argument(
        "--as-text",
        action="store_true",
        help="send the book as a JSON job's plain text (a long text job), not a Markdown upload",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600,
        help="seconds one book may take before it counts as failed",
    )
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.workers.split(",") if n.strip()})
    if not counts or min(counts) < 1:
        raise SystemExit("--workers: comma-separated counts of 1 or more")
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing: `make test` installs it")
    book = plan_book(args.chars, args.chapters, args.part_chars, args.as_text)
    half_book = (
        plan_book(args.chars // 2, args.chapters, args.part_chars, args.as_text)
        if args.memory
        else None
    )
    options = Options(args.voice, args.format, args.turns, args.part_chars, args.timeout)
    runs: list[Run] = []
    half: Run | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for workers in counts:
            print(f"... {workers} worker process(es), {args.chars:,} characters", flush=True)
            runs.append(run_case(workers, book, options, Path(tmp) / f"w{workers}"))
        if half_book is not None:
            print(f"... {counts[0]} worker process(es), {args.chars // 2:,} characters", flush=True)
            half = run_case(counts[0], half_book, options, Path(tmp) / "half")
    report(runs, half, book, half_book, args)


if __name__ == "__main__":
    main()
