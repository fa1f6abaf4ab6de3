"""What espeak-ng's word timings cost (issue 25): each piece said by the command (a process per
piece, no words) against the library in a helper kept running (a child forked per piece, words
mapped to the text), the same pieces interleaved in one process. CPU seconds of sayfile's
process and of every process it starts (the machine is shared: wall time says little), and
wall seconds, medians of `--repeats` batches of 20 per piece; the helper's start is measured apart.

    PYTHONPATH=src .venv/bin/python bench/espeak_words.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sayfile.engines.espeak import EspeakEngine
from sayfile.models import Voice

# Pieces as sayfile cuts them for espeak-ng (sentences under 60 characters joined).
PIECES = {
    "espeak:en-us": [
        "Saturday morning was come, and all the summer world was bright and fresh, and "
        "brimming with life.",
        "There was a song in every heart; and if the heart was young the music issued at the lips.",
        "Yes. Go on.",
    ],
    "espeak:ru": [
        "Говорили, что на набережной появилось новое лицо: дама с собачкой.",
    ],
    "espeak:cmn": ["我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。"],
}
_TICK = os.sysconf("SC_CLK_TCK")
_BATCH = 20


def _batch(say: Callable[[Voice, str, float], object], voice: Voice, text: str) -> None:
    for _ in range(_BATCH):
        say(voice, text, 1.0)


def _helper_cpu(engine: EspeakEngine) -> float:
    """CPU seconds of the engine's waiting helpers and the children they reaped."""
    helpers = engine.helpers
    total = 0.0
    for pid in helpers.waiting if helpers is not None else []:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15]) / _TICK
    return total


def _cost(engine: EspeakEngine, call: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, its reaped children and the engine's helpers; wall
    seconds) of `call`."""

    def cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime + _helper_cpu(engine)

    cpu_before, wall_before = cpu(), time.perf_counter()
    call()
    return cpu() - cpu_before, time.perf_counter() - wall_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    command, library = EspeakEngine(library=False), EspeakEngine()
    voices = {voice.id: voice for voice in library.voices()}
    command.voices()
    first = voices["espeak:en-us"]
    start_cpu, start_wall = _cost(library, lambda: library.synthesize_timed(first, "Hi.", 1.0))
    print(f"helper start and first piece: CPU {start_cpu:.3f} s, wall {start_wall:.3f} s\n")
    print("| voice | piece | command CPU (s) | library CPU (s) | command wall (s) | "
          "library wall (s) | words |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for voice_id, pieces in PIECES.items():
        voice = voices[voice_id]
        for text in pieces:
            runs: list[list[float]] = [[], [], [], []]
            said = library.synthesize_timed(voice, text, 1.0)
            for _ in range(args.repeats):
                # A batch at a time: the helpers' CPU is counted in 10 ms ticks.
                cpu, wall = _cost(command, lambda: _batch(command.synthesize, voice, text))  # noqa: B023
                runs[0].append(cpu / _BATCH)
                runs[2].append(wall / _BATCH)
                cpu, wall = _cost(library, lambda: _batch(library.synthesize_timed, voice, text))  # noqa: B023
                runs[1].append(cpu / _BATCH)
                runs[3].append(wall / _BATCH)
            words = len(said[1] or [])
            medians = [statistics.median(run) for run in runs]
            print(
                f"| {voice_id} | {len(text)} chars | {medians[0]:.4f} | {medians[1]:.4f} | "
                f"{medians[2]:.4f} | {medians[3]:.4f} | {words} |"
            )
    command.close()
    library.close()


if __name__ == "__main__":
    main()
