"""Where a word before a pause ends, against where its sound falls silent in the audio (issue
25): word_onsets.py's held-out paragraphs said by the engine (Kokoro's English, Mandarin and
Spanish voices, or Piper's English), each word's end as the durations put it ("before") and
as engines/word_ends.py puts it ("after"), from one synthesis.

The judge is the audio, not the rule under test: levels every 2 ms over 10.7 ms (as
word_onsets.py measures starts); a word's sound falls silent where the level goes more than
35 dB below the loudest and stays there until the next word begins (or, the next word's
sound rising early, for the longest such stretch of 50 ms or more after the word's start). Words
before a pause (their end short of the next word's start, or the piece's last) whose audio
never falls silent before the next word (a comma the voice runs through) are counted apart.

    PYTHONPATH=src .venv/bin/python bench/word_ends.py [--engine piper] [--speeds 1.0 1.5]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sayfile.engines.base import WordSpan
from word_onsets import ENGLISH, HOP_S, MANDARIN, SPANISH, _bands

QUIET_DB = 35.0
HELD_S = 0.050


def silent_from(level: NDArray[np.float64], loudest: float, start: int, until: int) -> int | None:
    """Where the sound falls silent in frames [start, until): the start of the quiet run
    (QUIET_DB below `loudest`, after a frame above) that reaches `until`, else of the longest
    one of at least HELD_S (the pause, not a stop's closure); None if there is none."""
    line = loudest - QUIET_DB
    runs: list[tuple[int, int]] = []  # (first quiet frame, end)
    sounded = False
    for frame in range(start, min(until, len(level))):
        if level[frame] > line:
            sounded = True
        elif sounded:
            if runs and runs[-1][1] == frame:
                runs[-1] = (runs[-1][0], frame + 1)
            else:
                runs.append((frame, frame + 1))
    if runs and runs[-1][1] >= min(until, len(level)):
        return runs[-1][0]
    long = [run for run in runs if run[1] - run[0] >= round(HELD_S / HOP_S)]
    return max(long, key=lambda run: run[1] - run[0])[0] if long else None


def measured(
    before: list[WordSpan], after: list[WordSpan], samples: Any, rate: int
) -> dict[str, list[float]]:
    """Seconds: each pre-pause word's end minus where its sound falls silent, before and
    after; how far starts and running words' ends moved; the pauses not heard."""
    level = _bands(samples.astype(np.float32) / 32768, rate)["all"]
    loudest = float(level.max())
    hop = HOP_S * rate
    found: dict[str, list[float]] = defaultdict(list)
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        found["start moved"].append(abs(new[2] - old[2]) / rate)
        following = before[index + 1][2] if index + 1 < len(before) else samples.size
        if index + 1 < len(before) and old[3] >= following:
            found["running end moved"].append(abs(new[3] - old[3]) / rate)
            continue
        frame = silent_from(level, loudest, round(old[2] / hop), round(following / hop))
        if frame is None:
            found["no silence"].append(0.0)
            continue
        heard = frame * hop
        found["before"].append((old[3] - heard) / rate)
        found["after"].append((new[3] - heard) / rate)
    return found


def _said(engine_name: str) -> list[tuple[Any, Any, str]]:
    """(engine, voice, text) for each paragraph."""
    if engine_name == "piper":
        from sayfile.engines.piper import PiperEngine

        piper = PiperEngine()
        voice = next(v for v in piper.voices() if v.id == "piper:en_US-joe-medium")
        return [(piper, voice, text) for text in ENGLISH]
    from sayfile.engines.kokoro import KokoroEngine

    kokoro = KokoroEngine(threads=2)
    voices = {voice.id: voice for voice in kokoro.voices()}
    return [
        (kokoro, voices[voice], text)
        for voice, texts in (
            ("kokoro:af_heart", ENGLISH),
            ("kokoro:zf_xiaobei", MANDARIN),
            ("kokoro:ef_dora", SPANISH),
        )
        for text in texts
    ]


def _summary(values: list[float]) -> str:
    if not values:
        return "-"
    low, high = np.percentile(values, [25, 75])
    return (
        f"{statistics.median(values) * 1000:+.0f} ({low * 1000:+.0f} to {high * 1000:+.0f}; "
        f"max {max(values) * 1000:+.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speeds", type=float, nargs="+", default=[1.0, 1.5])
    parser.add_argument("--engine", choices=["kokoro", "piper"], default="kokoro")
    args = parser.parse_args()
    import sayfile.engines.kokoro as kokoro_module
    import sayfile.engines.piper as piper_module
    from sayfile.engines.word_ends import sounded_ends

    module = kokoro_module if args.engine == "kokoro" else piper_module
    seen: list[list[WordSpan]] = []

    def recorded(words: Sequence[WordSpan], samples: Any, rate: int) -> list[WordSpan]:
        seen.append(list(words))
        return sounded_ends(words, samples, rate)

    module.sounded_ends = recorded  # type: ignore[attr-defined]
    print(
        "| voice | speed | words before a pause | pause not silent | end - silence, before: "
        "median ms (IQR; max) | after | starts moved | running ends moved |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for speed in args.speeds:
        rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for engine, voice, text in _said(args.engine):
            seen.clear()
            samples, words = engine.synthesize_timed(voice, text, speed)
            assert words is not None and len(seen) == 1
            for key, values in measured(seen[0], words, samples, voice.sample_rate).items():
                rows[voice.id][key].extend(values)
        for voice_id, found in rows.items():
            print(
                f"| {voice_id} | {speed} | {len(found['before'])} | {len(found['no silence'])} | "
                f"{_summary(found['before'])} | {_summary(found['after'])} | "
                f"{max(found['start moved'], default=0) * 1000:.0f} | "
                f"{max(found['running end moved'], default=0) * 1000:.0f} |"
            )


if __name__ == "__main__":
    main()
