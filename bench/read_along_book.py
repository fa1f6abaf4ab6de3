"""A whole novel as a read-along EPUB (issue 25): a public-domain book of about a million
characters uploaded to a real `sayfile serve` (POST /jobs, `format=epub`) and made with a fast
voice (espeak-ng by default), as a user would: the wall time, the server's peak memory over
the whole book and over its last stretch (once every chapter is done, when the EPUB is
joined), the joins' own times from the server's log, the EPUB's size, its SMIL and XHTML
documents' sizes, and epubcheck's verdict on the file.

The book is the text file given, uploaded as it is (a Project Gutenberg `.txt` keeps its
licence header and footer, as people have it). Peak memory is the server process's VmHWM
(reset through /proc/PID/clear_refs once the job says every chapter is done, so the last
figure is the book's join and what ran after the reset); espeak-ng's helper processes are
sampled every 0.5 s apart. Only 127.0.0.1 is used.

    curl -o pg2701.txt https://www.gutenberg.org/cache/epub/2701/pg2701.txt  # Moby-Dick
    PYTHONPATH=src .venv/bin/python bench/read_along_book.py pg2701.txt

A quick check of the script (a minute): `--chars 20000` uploads the book's first 20,000
characters only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from harness import load_env, start_sayfile, stop
from sayfile.text.encodings import decode_text

MIB = 1024 * 1024
POLL_S = 0.5
STACK = "256m"
CHAPTER_JOIN = re.compile(r"a chapter was joined from \d+ parts in ([\d.]+) s")
BOOK_JOIN = re.compile(r"a book was joined from (\d+) chapters in ([\d.]+) s")


@dataclass
class Memory:
    """Peak resident memory of the server (its own VmHWM) and of its helper processes
    (sampled), in bytes."""

    pid: int
    helpers_peak: int = 0
    joining: bool = False
    making_peak: int = 0  # the server's RSS, sampled, before every chapter was done
    stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        while not self.stop.wait(POLL_S / 5):
            helpers = [p for p in _descendants(self.pid) if p != self.pid]
            self.helpers_peak = max(self.helpers_peak, sum(map(_rss, helpers)))
            if not self.joining:
                self.making_peak = max(self.making_peak, _rss(self.pid))

    def server_peak(self) -> int:
        return _status(self.pid, "VmHWM:")

    def reset(self) -> None:
        """From now on, VmHWM is the peak since now (every chapter is done)."""
        self.joining = True
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _rss(pid: int) -> int:
    return _status(pid, "VmRSS:")


def _descendants(pid: int) -> list[int]:
    """`pid` and every process under it (children of any of its threads)."""
    found = [pid]
    for each in found:
        for task in Path(f"/proc/{each}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def _serve(data: Path, log: Path, voice: str) -> tuple[subprocess.Popen[bytes], str]:
    env = load_env(
        data,
        SAYFILE_ENGINES=voice.split(":", 1)[0],
        SAYFILE_DEFAULT_VOICE=voice,
        SAYFILE_STORAGE_QUOTA_BYTES=str(8 * 1024**3),
        SAYFILE_MIN_FREE_BYTES="0",
    )
    return start_sayfile(env, log, seconds=120)


def _epubcheck(path: Path) -> tuple[str, float]:
    """epubcheck's verdict on the file (its summary line) and how long it took."""
    found, java = shutil.which("epubcheck"), shutil.which("java")
    if found is None or java is None:
        return "epubcheck not installed", 0.0
    began = time.perf_counter()
    checked = subprocess.run(
        # epubcheck 4.2.6 follows a book's reading order recursively, a frame per overlay
        # reference: a novel's 200,000 overflow Java's default stack (StackOverflowError).
        [java, f"-Xss{STACK}", "-jar", str(Path(found).resolve()), "--failonwarnings", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    report = (checked.stdout + checked.stderr).strip().splitlines()
    problems = [line for line in report if line.startswith(("ERROR", "WARNING", "FATAL"))]
    summary = next((line for line in report if "error" in line.lower()), "")
    verdict = "passed" if checked.returncode == 0 else f"failed ({len(problems)} messages)"
    for line in (problems or report[-10:] if checked.returncode else [])[:10]:
        print("  epubcheck:", line[:300])
    return f"{verdict}: {summary}", seconds


def _documents(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        smil = [m for m in members if m.filename.endswith(".smil")]
        xhtml = [m for m in members if m.filename.endswith(".xhtml")]
        audio = [m for m in members if "/audio/" in m.filename]
        pars = sum(archive.read(m).count(b"<par ") for m in smil)
    return {
        "documents": len(smil),
        "pars": pars,
        "smil": smil,
        "xhtml": xhtml,
        "audio": sum(m.file_size for m in audio),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path, help="the novel, a text file (as people have it)")
    parser.add_argument("--voice", default="espeak:en-us")
    parser.add_argument("--chars", type=int, help="upload only the first N characters")
    parser.add_argument("--keep", type=Path, help="keep the EPUB at this path")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="upload it as Markdown (book.md): with no `#` headings, the novel is one chapter",
    )
    args = parser.parse_args()
    raw = args.book.read_bytes()
    text = decode_text(raw).text
    upload = raw if args.chars is None else text[: args.chars].encode()
    name = args.book.name if args.chars is None else "excerpt.txt"
    if args.markdown:
        name = name.rsplit(".", 1)[0] + ".md"
    chars = len(text) if args.chars is None else len(text[: args.chars])
    with tempfile.TemporaryDirectory(prefix="read-along-book-") as folder:
        root = Path(folder)
        log = root / "serve.log"
        process, url = _serve(root / "data", log, args.voice)
        memory = Memory(process.pid)
        sampler = threading.Thread(target=memory.sample, daemon=True)
        sampler.start()
        try:
            began = time.perf_counter()
            with httpx.Client(base_url=url, timeout=600) as client:
                r = client.post(
                    "/jobs",
                    files={
                        "file": (name, upload, "text/markdown" if args.markdown else "text/plain")
                    },
                    data={"format": "epub", "voice": args.voice},
                )
                r.raise_for_status()
                status_url = r.json()["status_url"]
                joining_since: float | None = None
                while True:
                    job = client.get(status_url).json()
                    if job["status"] not in ("queued", "running"):
                        break
                    chapters = job.get("chapters") or []
                    made = [c for c in chapters if not c.get("skipped")]
                    if joining_since is None and made and all(c["done"] for c in made):
                        memory.reset()
                        joining_since = time.perf_counter()
                    time.sleep(POLL_S)
                wall = time.perf_counter() - began
                last_peak = memory.server_peak()
                if job["status"] != "done":
                    raise SystemExit(f"the book did not finish: {job}")
                epub = Path(args.keep or root / "book.epub")
                with client.stream("GET", job["audio_url"]) as download, epub.open("wb") as f:
                    for block in download.iter_bytes(1 << 20):
                        f.write(block)
        finally:
            memory.stop.set()
            whole_peak = max(memory.server_peak(), 0)
            stop(process)
        logged = log.read_text("utf-8", "replace")
        chapter_joins = sum(float(s) for s in CHAPTER_JOIN.findall(logged))
        book_join = BOOK_JOIN.search(logged)
        docs = _documents(epub)
        verdict, check_s = _epubcheck(epub)
        smil, xhtml = docs["smil"], docs["xhtml"]
        biggest = max(smil, key=lambda m: m.file_size)
        rows = [
            ("book", f"{args.book.name}: {chars:,} characters, {len(upload) / MIB:.2f} MiB"),
            ("voice", args.voice),
            ("audio", f"{job['duration_s'] / 3600:.2f} h"),
            ("wall time (POST to done)", f"{wall:.1f} s"),
            ("chapter joins (sum, log)", f"{chapter_joins:.1f} s"),
            (
                "book join (EPUB written, log)",
                f"{float(book_join[2]):.1f} s" if book_join else "not logged",
            ),
            ("peak RSS, server, whole book", f"{whole_peak / MIB:.0f} MiB"),
            ("peak RSS, server, making (sampled)", f"{memory.making_peak / MIB:.0f} MiB"),
            ("peak RSS, server, from all chapters done", f"{last_peak / MIB:.0f} MiB"),
            ("peak RSS, espeak helpers (sampled)", f"{memory.helpers_peak / MIB:.0f} MiB"),
            ("EPUB size", f"{epub.stat().st_size / MIB:.1f} MiB"),
            ("audio in it", f"{docs['audio'] / MIB:.1f} MiB"),
            ("content documents / <par>s", f"{docs['documents']} / {docs['pars']:,}"),
            (
                "SMIL: total, largest (chapter)",
                f"{sum(m.file_size for m in smil) / MIB:.1f} MiB, "
                f"{biggest.file_size / 1024:.0f} KiB ({biggest.filename.rsplit('/', 1)[1]})",
            ),
            (
                "SMIL compressed in the EPUB",
                f"{sum(m.compress_size for m in smil) / 1024:.0f} KiB",
            ),
            (
                "XHTML: total, largest",
                f"{sum(m.file_size for m in xhtml) / MIB:.1f} MiB, "
                f"{max(m.file_size for m in xhtml) / 1024:.0f} KiB",
            ),
            ("epubcheck --failonwarnings", f"{verdict} ({check_s:.0f} s)"),
        ]
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | --- |")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value} |")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
