"""Kokoro on real text (issue 27): how much of what the model makes for each piece sayfile cuts
is silence trimmed away, and whether making only each piece's window (kokoro_run.py's
`first_window`: 6 frames before its first token to 8 after its last sound, as a stream's first
piece is made) pays. Each piece is made whole (as shipped) and windowed, the two ways taking
turns in one process, `--rounds` times; CPU-s per second of audio kept (medians), the frames
made against the audio kept, and each piece's loudness windowed against whole.

    PYTHONPATH=src:bench .venv/bin/python bench/kokoro_real_text.py \
        --book zh=kokoro:zm_yunjian=hongloumeng-ch2.txt --book en=kokoro:af_heart=moby-dick-ch1.txt

The texts are the ones "Kokoro on real text" in docs/benchmarks.md names (not in the repo).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 24_000
SECONDS_PER_FRAME = 0.025


class FrameCounter:
    """Stands in for the timed model's session and counts the frames each run made."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.frames = 0

    def run(self, names: Any, feeds: dict[str, Any]) -> Any:
        outputs = self.session.run(names, feeds)
        made = np.asarray(outputs[2]).ravel()
        self.frames += int(made[1] - made[0])
        return outputs


def measure(voice_id: str, path: Path, rounds: int) -> None:
    import pyloudnorm

    import longjob
    from harness import Pipeline
    from sayfile.settings import Settings
    from sayfile.text.normalisation import Normalisation

    service = Pipeline(Settings(parallel_sentences=1, first_piece_threads=1))
    text = longjob.read_books([path], 10**6)
    plan = service.plan(text, voice=voice_id, format="wav")
    synthesizer = service.synthesizer
    voice = plan.voice
    engine = synthesizer.catalogue.engine(voice)
    kokoro: Any = getattr(engine, "engine", engine)
    normalisation = Normalisation()
    pieces = [normalisation.said(w, voice.language) for w in synthesizer.piece_words(plan)]
    engine.synthesize(voice, "Ready.", 1.0)
    timed = kokoro._loaded().timed
    counter = FrameCounter(timed._session)
    timed._session = counter
    spent: dict[bool, list[float]] = {False: [], True: []}
    made: dict[bool, list[Any]] = {}
    frames: dict[bool, int] = {}
    for _ in range(rounds):
        for windowed in (False, True):
            counter.frames = 0
            began = time.process_time()
            made[windowed] = [
                kokoro.synthesize_timed(voice, words, plan.speed, first=windowed)[0]
                for words in pieces
            ]
            spent[windowed].append(time.process_time() - began)
            frames[windowed] = counter.frames
    timed._session = counter.session
    whole = statistics.median(spent[False])
    print(f"\n{voice_id}, {path.name}: {len(pieces)} pieces, medians of {rounds}")
    print("| way | made s | kept s | trimmed | CPU-s | CPU-s per kept s | against whole |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for windowed in (False, True):
        kept = sum(a.size for a in made[windowed]) / SAMPLE_RATE
        made_s = frames[windowed] * SECONDS_PER_FRAME
        cost = statistics.median(spent[windowed])
        print(
            f"| {'windowed' if windowed else 'whole'} | {made_s:.1f} | {kept:.1f} | "
            f"{1 - kept / made_s:.1%} | {cost:.1f} | {cost / kept:.3f} | {cost / whole:.3f} |"
        )
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    apart = [
        meter.integrated_loudness(b / 32768.0) - meter.integrated_loudness(a / 32768.0)
        for a, b in zip(made[False], made[True], strict=True)
        if min(a.size, b.size) > SAMPLE_RATE // 2
    ]
    print(
        f"loudness, windowed against whole, dB: median {statistics.median(apart):+.2f}, "
        f"from {min(apart):+.2f} to {max(apart):+.2f} ({len(apart)} pieces over 0.5 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", action="append", required=True, help="LANG=VOICE=FILE")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for book in args.book:
        _, voice_id, file = book.split("=", 2)
        measure(voice_id, Path(file), args.rounds)


if __name__ == "__main__":
    main()
