"""What even loudness and timings cost a long job: the same text written by
`Synthesizer.write` (as every job is) with SAYFILE_LOUDNESS off and at -16 LUFS, alternately
in one process, computing seconds (process CPU time, every thread) of each run. Timings are
kept in both (they are a list of a few numbers per sentence); loudness is the difference.

    .venv/bin/python bench/levels.py [--chars 20000] [--voice piper:en_US-joe-medium] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness import Pipeline
from longjob import PARAGRAPH
from sayfile.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--voice", default="piper:en_US-joe-medium")
    parser.add_argument("--format", default="mp3")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text = (PARAGRAPH * (args.chars // len(PARAGRAPH) + 1))[: args.chars]
    pipeline = Pipeline(Settings())
    seconds: dict[str, list[float]] = {"off": [], "-16": []}
    audio = 0.0
    with tempfile.TemporaryDirectory() as folder:
        # Loads the voice and measures its loudness once, before the clock starts.
        pipeline.write(
            pipeline.plan("Warming up.", voice=args.voice, loudness=-16.0), Path(folder) / "w.mp3"
        )
        for run in range(args.runs):
            for level in ("off", "-16") if run % 2 == 0 else ("-16", "off"):
                plan = pipeline.plan(text, voice=args.voice, format=args.format, loudness=level)
                started = time.process_time()
                result = pipeline.write(plan, Path(folder) / f"{level}.{args.format}")
                seconds[level].append(time.process_time() - started)
                audio = result.duration_s
    pipeline.close()
    off, on = statistics.median(seconds["off"]), statistics.median(seconds["-16"])
    print(
        f"{args.chars} characters, {args.voice}, {args.format}, {audio:.0f} s of audio; "
        f"computing seconds, median of {args.runs}"
    )
    print(f"{'loudness off':>14} {'-16 LUFS':>9} {'added':>7}")
    print(f"{off:14.1f} {on:9.1f} {on / off - 1:7.1%}")


if __name__ == "__main__":
    main()
