"""Wall-clock seconds a job takes per character of text, for each engine, on this machine:
the priors `sayfile.speech.pace` starts from before it has measured a voice itself.

A job's whole path is timed (sentences, levels, encoding to mp3, the file written), with the
default sentence threads, once the voice is loaded; medians of several runs.

    .venv/bin/python bench/pace.py [--runs 3] [--chars 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from harness import Pipeline
from sayfile.settings import Settings

ENGLISH = (
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "The hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured "
    "poster, too large for indoor display, had been tacked to the wall. "
)
CHINESE = "今天天气很好，我们一起去公园散步吧。公园里有很多花，红的，黄的，白的，非常漂亮。"
VOICES = (
    ("kokoro:af_heart", ENGLISH),
    ("kokoro:zm_yunjian", CHINESE),
    ("piper:en_US-joe-medium", ENGLISH),
    ("espeak:en-us", ENGLISH),
    ("espeak:cmn", CHINESE),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chars", type=int, default=2000)
    args = parser.parse_args()
    service = Pipeline(Settings())
    print(f"{'voice':26} {'chars':>6} {'audio s':>8} {'wall s':>7} {'s per char':>11}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.mp3"
        for voice, sample in VOICES:
            text = (sample * (args.chars // len(sample) + 1))[: args.chars]
            service.write(service.plan(sample[:60], voice=voice), path)  # load the voice
            plan = service.plan(text, voice=voice, format="mp3")
            walls: list[float] = []
            audio = 0.0
            for _ in range(args.runs):
                started = time.perf_counter()
                audio = service.write(plan, path).duration_s
                walls.append(time.perf_counter() - started)
            wall = statistics.median(walls)
            print(f"{voice:26} {len(text):6d} {audio:8.1f} {wall:7.2f} {wall / len(text):11.5f}")
    service.close()


if __name__ == "__main__":
    main()
