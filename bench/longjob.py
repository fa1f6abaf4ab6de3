"""Long jobs: one long text with the Piper voice, written to one file per process, in three
set-ups side by side in one run (each in fresh processes, the model loaded before timing):

- 1 process, 1 onnxruntime thread: what sayfile does today for one job (sentence by sentence);
- 1 process, 2 onnxruntime threads (SAYFILE_SYNTHESIS_THREADS=2, a setting that exists);
- 2 processes at once, each writing its half of the text: the speed-up a job split in two
  could reach on 2 cores (sayfile does not split jobs today).

Peak memory is each process's VmHWM.

    .venv/bin/python bench/longjob.py [--chars 200000] [--format opus] [--runs 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

VOICE = "piper:en_US-joe-medium"
PARAGRAPH = (
    "The river ran slowly past the mill, and the miller counted the sacks by lamplight. "
    "Nobody in the village could remember a winter as long as this one. "
    "Letters arrived twice a week, wrapped in oilcloth against the rain. "
    "She read them aloud at the kitchen table, one page at a time, while the kettle sang. "
    "In the spring they would walk to the coast and see the ships come in. "
)


@dataclass(frozen=True)
class Part:
    seconds: float
    audio_s: float
    bytes: int
    peak_mb: float


def book(chars: int) -> str:
    return (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars].rsplit(". ", 1)[0] + "."


def halves(text: str) -> list[str]:
    """Two parts of about equal length, cut after a sentence."""
    cut = text.index(". ", len(text) // 2) + 1
    return [text[:cut], text[cut:].strip()]


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write(text: str, threads: int, fmt: str, out: str, start_at: float) -> Part:
    """Runs in a child: load the voice, wait for the common start, write `text` to `out`."""
    from sayfile.service import SpeechService
    from sayfile.settings import Settings

    service = SpeechService(Settings(synthesis_threads=threads))
    plan = service.plan(text, voice=VOICE, format=fmt)
    for _ in service.samples(service.plan("Ready.", voice=VOICE)):
        pass
    time.sleep(max(0.0, start_at - time.time()))
    start = time.perf_counter()
    result = service.write(plan, Path(out))
    seconds = time.perf_counter() - start
    service.close()
    return Part(seconds, result.duration_s, result.bytes, peak_mb())


def run(parts: list[str], threads: int, fmt: str, folder: Path) -> tuple[float, list[Part]]:
    """Wall time from the common start until the last part is written, and each part."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(parts), mp_context=context) as pool:
        # Started together a little later, once every process has loaded the model.
        start_at = time.time() + 10
        futures = [
            pool.submit(write, part, threads, fmt, str(folder / f"part{i}.{fmt}"), start_at)
            for i, part in enumerate(parts)
        ]
        done = [future.result() for future in futures]
    return max(part.seconds for part in done), done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=200_000)
    parser.add_argument("--format", default="opus")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    text = book(args.chars)
    setups = (
        ("1 process, 1 thread (today)", [text], 1),
        ("1 process, 2 threads", [text], 2),
        ("2 processes, half each", halves(text), 1),
    )
    results: dict[str, list[tuple[float, list[Part]]]] = {name: [] for name, _, _ in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, parts, threads in setups:
                results[name].append(run(parts, threads, args.format, Path(tmp)))
    base = statistics.median(wall for wall, _ in results[setups[0][0]])
    audio = sum(part.audio_s for part in results[setups[0][0]][0][1])
    print(
        f"{len(text):,} characters, {VOICE}, {args.format}, {audio:,.0f} s of audio; "
        f"median of {args.runs} run(s), model loading not timed"
    )
    print(
        f"{'set-up':30} {'wall s':>8} {'speed-up':>8} {'x real time':>11} "
        f"{'peak RSS MB per process':>24}"
    )
    for name, _, _ in setups:
        wall = statistics.median(w for w, _ in results[name])
        peaks = " / ".join(f"{part.peak_mb:.0f}" for part in results[name][-1][1])
        print(f"{name:30} {wall:8.1f} {base / wall:8.2f} {audio / wall:11.1f} {peaks:>24}")


if __name__ == "__main__":
    main()
