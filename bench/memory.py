"""Peak memory of `sayfile say` for book-length text: it should not grow with the text.

Runs the real command in a fresh process per size and reads its peak RSS (ru_maxrss).

    .venv/bin/python bench/memory.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank. "
SIZES = (10_000, 100_000)


def run(chars: int, voice: str, workdir: Path) -> tuple[float, float, float]:
    source = workdir / "book.txt"
    source.write_text((SENTENCE * (chars // len(SENTENCE) + 1))[:chars], encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sayfile",
            "say",
            "-q",
            "-f",
            str(source),
            "-o",
            str(workdir / "book.opus"),
            "--voice",
            voice,
        ],
        check=True,
        env={**os.environ},
    )
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = (workdir / "book.opus").stat().st_size
    # ru_maxrss of children is the largest child so far; sizes run small to large.
    return max(peak, before) / 1024, elapsed, size / 1e6


def main() -> None:
    voice = sys.argv[1] if len(sys.argv) > 1 else "espeak:en-us"
    print(f"voice {voice}")
    print(f"{'characters':>10} {'peak RSS MB':>12} {'seconds':>8} {'opus MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for chars in SIZES:
            rss, elapsed, size = run(chars, voice, Path(tmp))
            print(f"{chars:>10} {rss:12.1f} {elapsed:8.1f} {size:8.2f}")


if __name__ == "__main__":
    main()
