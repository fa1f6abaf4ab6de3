"""Real-time factor of each engine, and of each encoder, on this machine.

RTF = seconds of computing / seconds of audio produced (lower is faster; 0.05 means 20x faster
than real time). Medians of several runs; one process, one thread, run side by side.

    .venv/bin/python bench/engines.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from harness import Pipeline
from sayfile.audio.formats import FORMATS, ChunkBuffer, open_encoder
from sayfile.settings import Settings

TEXT = (
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "The hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured "
    "poster, too large for indoor display, had been tacked to the wall. It depicted simply "
    "an enormous face, more than a metre wide: the face of a man of about forty-five, with a "
    "heavy black moustache and ruggedly handsome features. "
)
VOICES = (
    "kokoro:af_heart",
    "kokoro:zm_yunjian",
    "piper:en_US-joe-medium",
    "espeak:en-us",
    "espeak:cmn",
)
MANDARIN = ("espeak:cmn", "kokoro:zm_yunjian")
CHINESE = "今天天气很好，我们一起去公园散步吧。公园里有很多花，红的，黄的，白的，非常漂亮。" * 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # One sentence at a time: the real-time factor of one core.
    service = Pipeline(Settings(parallel_sentences=1))
    print(
        f"{'voice':28} {'audio s':>8} {'synth RTF':>10}  " + "  ".join(f"{f:>6}" for f in FORMATS)
    )
    for voice in VOICES:
        text = CHINESE if voice in MANDARIN else TEXT
        plan = service.plan(text, voice=voice)
        service.samples(plan)  # load the model once, outside the timing
        synth: list[float] = []
        audio: list[np.ndarray] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            audio = service.samples(plan)
            synth.append(time.perf_counter() - start)
        seconds = sum(a.size for a in audio) / plan.voice.sample_rate
        encode = {}
        for name, fmt in FORMATS.items():
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                encoder = open_encoder(fmt, plan.voice.sample_rate, ChunkBuffer())
                for chunk in audio:
                    encoder.write(chunk)
                encoder.close()
                times.append(time.perf_counter() - start)
            encode[name] = statistics.median(times) / seconds
        row = "  ".join(f"{encode[f]:6.4f}" for f in FORMATS)
        print(f"{voice:28} {seconds:8.1f} {statistics.median(synth) / seconds:10.4f}  {row}")
    service.close()
    kokoro(args.runs)


def kokoro(runs: int) -> None:
    """Kokoro with two sentences at a time (the machine's two cores), as a long job runs:
    computing seconds per second of audio (wall clock), and the first bytes of a stream."""
    print()
    print(f"{'voice':28} {'audio s':>8} {'2 at once RTF':>14} {'stream first byte s':>20}")
    service = Pipeline(Settings(parallel_sentences=2))
    for voice in ("kokoro:af_heart", "kokoro:zm_yunjian"):
        text = CHINESE if voice in MANDARIN else TEXT
        plan = service.plan(text, voice=voice)
        service.samples(plan)  # load the model once, outside the timing
        walls: list[float] = []
        firsts: list[float] = []
        seconds = 0.0
        for _ in range(runs):
            start = time.perf_counter()
            audio = service.samples(plan)
            walls.append(time.perf_counter() - start)
            seconds = sum(a.size for a in audio) / plan.voice.sample_rate
            firsts.append(service.first_bytes(plan))
        rtf = statistics.median(walls) / seconds
        print(f"{voice:28} {seconds:8.1f} {rtf:14.4f} {statistics.median(firsts):20.3f}")
    service.close()


if __name__ == "__main__":
    main()
