"""A Kokoro stream's first byte (issue 27): where its time goes, and the first-piece policies
measured against each other in one process, taking turns, medians of several rounds.

    PYTHONPATH=src:bench .venv/bin/python bench/first_byte.py [--rounds 5] [--busy]

Each round streams an English and a Mandarin paragraph (raw PCM, in the interactive lane, as
`Speaker.stream` does) once per variant:

- "1 thread": the first piece on the shared one-thread session, the look-ahead beside it
  (sayfile before issue 27's first-byte work);
- "1 thread, alone": the same, the look-ahead started once the first piece is out;
- "N threads": the first piece on the session with every core, the look-ahead beside it;
- "N threads, alone": every core for each of the first pieces, the look-ahead after them
  (the default: speech/pieces.py's FIRST_PIECES, three);
- "N threads, alone, two first pieces": the first two so (FIRST_PIECES before it was three);
- "N threads, alone, one first piece": only the first piece so (before FIRST_PIECES);
- "N threads, alone, whole piece, one first piece": that, with the first piece's every frame
  made (before the window: engines/kokoro_run.py's `first_window`).

Every variant but the first lets the first piece take the executor's spare thread when every
thread is busy ("urgent"); with `--busy`, the variants are "1 thread", "N threads, alone"
without the spare thread, and with it, and with it for two first pieces.

For each: seconds to the first bytes, the first piece's audio seconds, and the stall a
listener playing the stream in real time from its first bytes would hear (seconds of waiting
for audio after the first). `--busy` runs two long jobs in the background lane of the same
sentence executor throughout, as a server making two books would. The stages of the first
piece (plan, phonemes, the model on each session, levelling, encoding) are timed apart first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sayfile.speech.pieces as pieces_module
from harness import Pipeline
from sayfile.engines.kokoro_run import KokoroRun
from sayfile.settings import Settings
from sayfile.speech.outputs import StreamOutput
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane

PARAGRAPHS = {
    "en": (
        "kokoro:af_heart",
        "It was a bright cold day in April, and the clocks were striking thirteen. The "
        "hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured "
        "poster, too large for indoor display, had been tacked to the wall.",
    ),
    "zh": (
        "kokoro:zf_xiaobei",
        "今天天气很好，我们下午去公园散步吧。公园里的花都开了，有红的，有黄的，还有白的。"
        "孩子们在草地上跑来跑去，笑得特别开心。",
    ),
}
KOKORO = "kokoro:af_heart"
# A book's sentences, about 6 s of audio each.
LONG_JOB = " ".join(
    ["The river ran slowly past the mill, and the children played on its banks until dark."] * 60
)


def variants(threads: int, busy: bool) -> dict[str, tuple[int, bool, int, bool, bool, bool]]:
    """Name: (first pieces' threads, first pieces alone, how many first pieces, first pieces
    urgent, first piece windowed, the books' steps interrupted for urgent ones)."""
    firsts = pieces_module.FIRST_PIECES
    if busy:
        return {
            "1 thread": (1, False, firsts, False, True, False),
            f"{threads} threads, alone": (threads, True, firsts, False, True, False),
            f"{threads} threads, alone, urgent": (threads, True, firsts, True, True, False),
            f"{threads} threads, alone, urgent, books interrupted": (
                *(threads, True, firsts, True, True, True),
            ),
        }
    return {
        "1 thread": (1, False, firsts, False, True, True),
        "1 thread, alone": (1, True, firsts, True, True, True),
        f"{threads} threads, alone": (threads, True, firsts, True, True, True),
        f"{threads} threads, alone, two first pieces": (threads, True, 2, True, True, True),
        f"{threads} threads, alone, one first piece": (threads, True, 1, True, True, True),
        f"{threads} threads, alone, whole piece, one first piece": (
            *(threads, True, 1, True, False, True),
        ),
    }


@contextlib.contextmanager
def windowed(allowed: bool) -> Iterator[None]:
    """Whether Kokoro's first pieces have only their window of frames made (the runner is
    told of no first piece and nothing that follows otherwise; the session is still the
    first pieces')."""
    made = KokoroRun.__call__
    if not allowed:

        def whole(run: KokoroRun, phonemes: str, styles: Any, speed: float, *_: Any) -> Any:
            return made(run, phonemes, styles, speed)

        KokoroRun.__call__ = whole  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        KokoroRun.__call__ = made  # type: ignore[method-assign]


@contextlib.contextmanager
def first_piece_threads(pipeline: Pipeline, threads: int) -> Iterator[None]:
    """Kokoro's first pieces on `threads` threads: the shared session's one, or the quick
    session's (both are loaded)."""
    bounded: Any = pipeline.synthesizer.catalogue.engine(pipeline.plan("a", voice=KOKORO).voice)
    engine = bounded.engine
    before, engine._first_piece_threads = engine._first_piece_threads, threads
    try:
        yield
    finally:
        engine._first_piece_threads = before


@contextlib.contextmanager
def urgent(pipeline: Pipeline, allowed: bool) -> Iterator[None]:
    """Whether the stream's first piece may take the executor's spare thread (the bench
    takes the spare itself to stop it)."""
    executor: Any = pipeline.synthesizer.executor
    executor._spare_busy = not allowed
    try:
        yield
    finally:
        executor._spare_busy = False


@contextlib.contextmanager
def first_pieces(count: int) -> Iterator[None]:
    """A stream's first `count` pieces made alone on the first-piece path."""
    before, pieces_module.FIRST_PIECES = pieces_module.FIRST_PIECES, count
    try:
        yield
    finally:
        pieces_module.FIRST_PIECES = before


async def stream_once(pipeline: Pipeline, plan: SpeechPlan) -> tuple[float, float, float]:
    """Seconds to the first bytes, the first piece's audio seconds, and the stall heard when
    playing from the first bytes in real time."""
    bytes_per_s = plan.voice.sample_rate * 2
    turn = pipeline.synthesizer.executor.turn(Lane.interactive, "bench")
    began = time.perf_counter()
    arrivals: list[tuple[float, float]] = []
    async with contextlib.aclosing(pipeline.synthesizer.stream(plan, turn)) as chunks:
        async for data in chunks:
            arrivals.append((time.perf_counter() - began, len(data) / bytes_per_s))
    first, first_audio = arrivals[0]
    playing_until = first + first_audio
    stall = 0.0
    for came, seconds in arrivals[1:]:
        if came > playing_until:
            stall += came - playing_until
            playing_until = came
        playing_until += seconds
    return first, first_audio, stall


def timed(work: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = work(*args)
    return time.perf_counter() - began, result


def stages(pipeline: Pipeline, threads: int, rounds: int) -> None:
    """The first piece's steps, one at a time on this thread (medians of `rounds`)."""
    audio = pipeline.synthesizer.pipeline.audio
    rows: dict[str, dict[str, list[float]]] = {}
    for _ in range(rounds):
        for language, (voice_id, text) in PARAGRAPHS.items():
            row = rows.setdefault(language, {})

            def note(stage: str, work: Callable[..., Any], *args: Any) -> Any:
                took, result = timed(work, *args)
                row.setdefault(stage, []).append(took)  # noqa: B023 (called in this turn)
                return result

            plan = note("plan (validate)", plan_of, pipeline, text, voice_id)
            words = note("cut the first piece", first_words, pipeline, plan)
            said = note("normalisation", audio.normalisation.said, words, plan.voice.language)
            bounded: Any = pipeline.synthesizer.catalogue.engine(plan.voice)
            engine = bounded.engine
            note("phonemes", engine.phonemes, plan.voice, said)
            for n in sorted({1, threads}):
                with first_piece_threads(pipeline, n):
                    model = f"the model, {n} thread(s)"
                    samples = note(model, engine.synthesize_first, plan.voice, said, 1.0)
            row.setdefault("first piece's audio s", []).append(samples.size / 24_000)
            level = audio.level(plan.loudness)
            gain = level.gain_for(plan.voice.id, 24_000, lambda: samples)  # noqa: B023
            note("levelling", level.apply, samples, gain, 24_000, 1.0)
            note("encoding (pcm)", StreamOutput(plan.format, 24_000).add, samples)
    print("| stage of the first piece, wall s (median) | " + " | ".join(rows) + " |")
    print("| --- |" + " ---: |" * len(rows))
    for stage in next(iter(rows.values())):
        cells = " | ".join(f"{statistics.median(row[stage]):.3f}" for row in rows.values())
        print(f"| {stage} | {cells} |")


def plan_of(pipeline: Pipeline, text: str, voice_id: str) -> SpeechPlan:
    return pipeline.plan(text, voice=voice_id, format="pcm")


def first_words(pipeline: Pipeline, plan: SpeechPlan) -> str:
    return next(pipeline.synthesizer.piece_words(plan, quick_start=True))


async def compare(pipeline: Pipeline, threads: int, rounds: int, busy: bool) -> None:
    table = variants(threads, busy)
    plans = {
        language: pipeline.plan(text, voice=voice_id, format="pcm")
        for language, (voice_id, text) in PARAGRAPHS.items()
    }
    jobs: list[asyncio.Task[None]] = []
    # The books' audio seconds made, and the seconds each variant's streams took, with the
    # books' audio made meanwhile.
    books_made = [0.0]
    books: dict[str, list[float]] = {}
    if busy:
        long_plan = pipeline.plan(LONG_JOB, voice=KOKORO, format="pcm")

        async def long_job() -> None:
            while True:
                turn = pipeline.synthesizer.executor.turn(Lane.background, "books")
                async for samples in pipeline.synthesizer.samples(long_plan, turn):
                    books_made[0] += samples.size / long_plan.voice.sample_rate

        jobs = [asyncio.create_task(long_job()) for _ in range(2)]
        await asyncio.sleep(5)
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    try:
        for _ in range(rounds):
            for name, (first_threads, alone, firsts, spare, window, stop) in table.items():
                pipeline.synthesizer.pipeline.first_alone = alone
                executor: Any = pipeline.synthesizer.executor
                executor.interrupting = stop
                began, made = time.perf_counter(), books_made[0]
                for language, plan in plans.items():
                    with (
                        first_piece_threads(pipeline, first_threads),
                        first_pieces(firsts),
                        urgent(pipeline, spare),
                        windowed(window),
                    ):
                        results.setdefault((name, language), []).append(
                            await stream_once(pipeline, plan)
                        )
                    await asyncio.sleep(0.5)
                took = books.setdefault(name, [0.0, 0.0])
                took[0] += time.perf_counter() - began
                took[1] += books_made[0] - made
    finally:
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
    base = {lang: statistics.median(r[0] for r in results[("1 thread", lang)]) for lang in plans}
    print()
    print(f"{rounds} rounds{', beside two long jobs' if busy else ''}, medians (largest)")
    print(
        "| variant | language | first byte s | against 1 thread | first piece's audio s | stall s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (name, language), runs in results.items():
        first = statistics.median(r[0] for r in runs)
        print(
            f"| {name} | {language} | {first:.3f} ({max(r[0] for r in runs):.3f}) | "
            f"{first / base[language]:.2f} | {statistics.median(r[1] for r in runs):.2f} | "
            f"{statistics.median(r[2] for r in runs):.3f} ({max(r[2] for r in runs):.3f}) |"
        )
    if busy:
        print()
        print("| variant | the books' audio s per wall s while the streams ran |")
        print("| --- | ---: |")
        for name, (seconds, made) in books.items():
            print(f"| {name} | {made / seconds:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="the first piece's threads")
    parser.add_argument("--busy", action="store_true", help="beside two long jobs")
    parser.add_argument("--no-stages", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), first_piece_threads=args.threads)
        pipeline = Pipeline(settings)
        try:
            for voice_id, text in PARAGRAPHS.values():  # the voices and both sessions loaded
                pipeline.stream(pipeline.plan(text[:40], voice=voice_id, format="pcm"))
            if not args.no_stages:
                stages(pipeline, args.threads, args.rounds)
            asyncio.run(compare(pipeline, args.threads, args.rounds, args.busy))
        finally:
            pipeline.close()


if __name__ == "__main__":
    main()
