"""Long jobs: one long text with the Piper voice written by `Synthesizer.write` (the path
every job, `sayfile say` and a worker take), in fresh processes with the model loaded before
the clock starts, set-ups side by side in one run:

- SAYFILE_PARALLEL_SENTENCES=1: one sentence at a time, as before sentences ran in parallel;
- SAYFILE_PARALLEL_SENTENCES=2: the same job, two sentences at once on the process's executor;
- 2 processes at once, each writing its half of the text with 1: the ceiling on 2 cores,
  with nothing shared between the halves;
- the floor: the same engine calls (the pieces sayfile cuts) and the same encoder into a
  file, called directly on one thread, with nothing of sayfile's between them (no executor,
  pipeline, loudness levelling or timings). "1 process, parallel 1" against it is what
  sayfile's own work costs.

Peak memory is each process's VmHWM.

    .venv/bin/python bench/longjob.py [--chars 200000] [--format opus] [--runs 1]

With `--against-floor ROUNDS`, instead: one process, parallel 1, writing the text through
sayfile and then through the floor, in turn, ROUNDS times; CPU seconds of each, and per
second of audio. Taking turns in one process, the two meet the same load, so the ratio holds
on a busy machine where the set-ups' wall times do not. `--voice` names another voice, and
`--book` reads real files instead of the made-up paragraph (through sayfile's book reader:
every chapter not skipped as front matter, joined):

    PYTHONPATH=src:bench .venv/bin/python bench/longjob.py --against-floor 3 \
        --voice kokoro:zm_yunjian --book tests/data/lu-xun-nahan.gb18030.txt --format mp3
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness import Pipeline
    from sayfile.speech.plan import SpeechPlan

VOICE = "piper:en_US-joe-medium"
PARAGRAPH = (
    "The river ran slowly past the mill, and the miller counted the sacks by lamplight. "
    "Nobody in the village could remember a winter as long as this one. "
    "Letters arrived twice a week, wrapped in oilcloth against the rain. "
    "She read them aloud at the kitchen table, one page at a time, while the kettle sang. "
    "In the spring they would walk to the coast and see the ships come in. "
)


@dataclass(frozen=True)
class Setup:
    name: str
    parallel: int
    split: bool
    floor: bool = False


SETUPS = (
    Setup("1 process, parallel 1", 1, split=False),
    Setup("1 process, parallel 2", 2, split=False),
    Setup("2 processes, half each", 1, split=True),
    Setup("floor: engine + encoder", 1, split=False, floor=True),
)


@dataclass(frozen=True)
class Part:
    seconds: float
    cpu_seconds: float
    audio_s: float
    bytes: int
    peak_mb: float


def book(chars: int) -> str:
    return (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars].rsplit(". ", 1)[0] + "."


def read_books(paths: list[Path], chars: int) -> str:
    """The chapters of `paths` that are not front matter, as sayfile's book reader finds them,
    joined, up to `chars` characters."""
    from sayfile.books.reading import open_book

    texts = []
    for path in paths:
        read = open_book(path, path.name, max_chars=None)
        texts += [chapter.text for chapter in read.chapters if not chapter.skipped]
    return "\n\n".join(texts)[:chars]


def halves(text: str) -> list[str]:
    """Two parts of about equal length, cut after a sentence."""
    cut = text.index(". ", len(text) // 2) + 1
    return [text[:cut], text[cut:].strip()]


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write(text: str, parallel: int, fmt: str, out: str, start_at: float, floor: bool) -> Part:
    """Runs in a child: load the voice (and start the executor's threads), wait for the common
    start, write `text` to `out` (with `floor`, by the engine and the encoder alone)."""
    from harness import Pipeline
    from sayfile.settings import Settings

    service = Pipeline(Settings(parallel_sentences=parallel))
    plan = service.plan(text, voice=VOICE, format=fmt)
    service.samples(service.plan("Ready. Steady.", voice=VOICE))
    time.sleep(max(0.0, start_at - time.time()))
    start, cpu = time.perf_counter(), time.process_time()
    if floor:
        audio_s, size = engine_and_encoder(service, plan, Path(out))
    else:
        result = service.write(plan, Path(out))
        audio_s, size = result.duration_s, result.bytes
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    service.close()
    return Part(seconds, cpu_seconds, audio_s, size, peak_mb())


def engine_and_encoder(service: Pipeline, plan: SpeechPlan, out: Path) -> tuple[float, int]:
    """The floor: each piece sayfile would ask the engine for, spoken and encoded in turn on
    this thread; the seconds of audio and the file's bytes."""
    from sayfile.audio.formats import open_encoder

    synthesizer = service.synthesizer
    voice = plan.voice
    engine = synthesizer.catalogue.engine(voice)
    with out.open("wb") as sink:
        encoder = open_encoder(plan.format, voice.sample_rate, sink)
        for words in synthesizer.piece_words(plan):
            encoder.write(engine.synthesize(voice, words, plan.speed))
        encoder.close()
        audio_s = float(encoder.duration)
    return audio_s, out.stat().st_size


def against_floor(text: str, fmt: str, rounds: int, voice: str = VOICE) -> None:
    """Print the CPU seconds of sayfile's write and of the floor, taking turns."""
    from harness import Pipeline
    from sayfile.settings import Settings

    service = Pipeline(Settings(parallel_sentences=1))
    plan = service.plan(text, voice=voice, format=fmt)
    service.samples(service.plan("Ready. Steady.", voice=voice))
    ours: list[float] = []
    floor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            cpu = time.process_time()
            result = service.write(plan, Path(tmp) / f"sayfile.{fmt}")
            ours.append(time.process_time() - cpu)
            cpu = time.process_time()
            engine_and_encoder(service, plan, Path(tmp) / f"floor.{fmt}")
            floor.append(time.process_time() - cpu)
            print(f"round {n + 1}: sayfile {ours[-1]:.2f} CPU-s, floor {floor[-1]:.2f} CPU-s")
    service.close()
    mine, least = statistics.median(ours), statistics.median(floor)
    audio = result.duration_s
    print(
        f"{len(text):,} characters, {voice}, {audio:,.0f} s of audio, {fmt}: sayfile "
        f"{mine:.2f} CPU-s ({mine / audio:.3f} per audio s), the floor {least:.2f} "
        f"({least / audio:.3f}) (median of {rounds}): {mine / least:.3f}x"
    )


def run(setup: Setup, text: str, fmt: str, folder: Path) -> tuple[float, list[Part]]:
    """Wall time from the common start until the last part is written, and each part."""
    parts = halves(text) if setup.split else [text]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(parts), mp_context=context) as pool:
        # Started together a little later, once every process has loaded the model.
        start_at = time.time() + 10
        futures = [
            pool.submit(
                write,
                part,
                setup.parallel,
                fmt,
                str(folder / f"part{i}.{fmt}"),
                start_at,
                setup.floor,
            )
            for i, part in enumerate(parts)
        ]
        done = [future.result() for future in futures]
    return max(part.seconds for part in done), done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=200_000)
    parser.add_argument("--format", default="opus")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--against-floor", type=int, metavar="ROUNDS")
    parser.add_argument("--voice", default=VOICE, help="with --against-floor")
    parser.add_argument("--book", type=Path, nargs="+", help="real text, with --against-floor")
    args = parser.parse_args()
    text = read_books(args.book, args.chars) if args.book else book(args.chars)
    if args.against_floor:
        against_floor(text, args.format, args.against_floor, args.voice)
        return
    results: dict[str, list[tuple[float, list[Part]]]] = {s.name: [] for s in SETUPS}
    with tempfile.TemporaryDirectory() as tmp:
        # Each run goes through every set-up, so a busy spell on the machine hits them alike.
        for n in range(args.runs):
            for setup in SETUPS:
                wall, parts = run(setup, text, args.format, Path(tmp))
                results[setup.name].append((wall, parts))
                # As it comes, so that a run cut short still says what it measured.
                cpu = sum(part.cpu_seconds for part in parts)
                print(f"run {n + 1}: {setup.name}: {wall:.1f} s, {cpu:.1f} CPU-s", flush=True)
    base = statistics.median(wall for wall, _ in results[SETUPS[0].name])
    audio = sum(part.audio_s for part in results[SETUPS[0].name][0][1])
    print(
        f"{len(text):,} characters, {VOICE}, {args.format}, {audio:,.0f} s of audio; "
        f"median of {args.runs} run(s), model loading not timed"
    )
    print(
        f"{'set-up':24} {'wall s':>8} {'speed-up':>8} {'x real time':>11} {'cores':>6} "
        f"{'peak RSS MB per process':>24}  runs (wall s)"
    )
    for setup in SETUPS:
        walls = [wall for wall, _ in results[setup.name]]
        wall = statistics.median(walls)
        # CPU seconds per wall second: how many cores the set-up kept busy.
        cores = statistics.median(
            sum(p.cpu_seconds for p in parts) / w for w, parts in results[setup.name]
        )
        peaks = " / ".join(f"{part.peak_mb:.0f}" for part in results[setup.name][-1][1])
        each = ", ".join(f"{w:.1f}" for w in walls)
        print(
            f"{setup.name:24} {wall:8.1f} {base / wall:8.2f} {audio / wall:11.1f} {cores:6.2f} "
            f"{peaks:>24}  {each}"
        )
    floor = statistics.median(wall for wall, _ in results[SETUPS[-1].name])
    print(f"1 process, parallel 1 against the floor: {base / floor:.2f}x its time")


if __name__ == "__main__":
    main()
