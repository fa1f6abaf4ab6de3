"""What levelling costs a long job per hour of audio, against encoding that hour: a voice's
engine audio for a few paragraphs, given again and again until it lasts an hour, levelled
piece by piece (`LoudnessLevel.apply`, as each sentence is) and encoded, CPU seconds of this
process (one thread) for each.

    .venv/bin/python bench/limiter_cost.py [--voice espeak:en-us] [--hours 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harness import Pipeline
from loudness import TEXTS
from sayfile.audio.formats import FORMATS, ChunkBuffer, open_encoder
from sayfile.settings import Settings
from sayfile.speech.loudness import LoudnessLevel
from sayfile.voices.catalogue import sample_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voice", default="espeak:en-us")
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    pipeline = Pipeline(Settings())
    try:
        plan = pipeline.plan(" ".join(TEXTS["en"]), voice=args.voice, loudness="off")
        said = pipeline.samples(plan)
        voice = plan.voice
        reference = pipeline.synthesizer.catalogue.engine(voice).synthesize(
            voice, sample_text(voice), 1.0
        )
    finally:
        pipeline.close()
    rate = voice.sample_rate
    seconds = sum(piece.size for piece in said) / rate
    pieces = said * max(1, round(args.hours * 3600 / seconds))
    hours = sum(piece.size for piece in pieces) / rate / 3600
    print(f"{args.voice}: {len(pieces)} pieces, {hours:.2f} h of audio at {rate} Hz")
    print("| step | CPU s | CPU s per audio hour |")
    print("| --- | ---: | ---: |")
    for target, fmt in ((-16.0, "mp3"), (-14.0, "mp3"), (-14.0, "opus")):
        level = LoudnessLevel(target, headroom_db=FORMATS[fmt].peak_overshoot_db)
        gain = level.gain_for(voice.id, rate, lambda: reference)
        started = time.process_time()
        for piece in pieces:
            level.apply(piece, gain, rate)
        spent = time.process_time() - started
        print(f"| levelling at {target:g} LUFS ({fmt}) | {spent:.2f} | {spent / hours:.2f} |")
    for fmt in ("mp3", "opus"):
        encoder = open_encoder(FORMATS[fmt], rate, ChunkBuffer())
        started = time.process_time()
        for piece in pieces:
            encoder.write(np.ascontiguousarray(piece))
        encoder.close()
        spent = time.process_time() - started
        print(f"| encoding {fmt} | {spent:.2f} | {spent / hours:.2f} |")


if __name__ == "__main__":
    main()
