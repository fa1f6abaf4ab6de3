"""Speaking plans: a validated plan in, audio out (samples, a stream, a whole file in memory or
on disk), sentence by sentence through the ordered pipeline, every blocking step taking its
turn on the process's sentence executor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from pathlib import Path

from sayfile.audio.formats import Samples
from sayfile.audio.timings import Timing, Timings
from sayfile.speech.loudness import load_measures
from sayfile.speech.outputs import FileOutput, MemoryOutput, Output, StreamOutput
from sayfile.speech.pieces import PieceCutter
from sayfile.speech.pipeline import Observer, Pipeline, Progress, timings_of
from sayfile.speech.plan import Planner, SpeechPlan
from sayfile.speech.scheduler import Lane, SentenceExecutor, Turn
from sayfile.speech.word_times import SpokenWords
from sayfile.text.language_detection import SentenceLanguages
from sayfile.text.lexicon import Lexicon
from sayfile.voices.catalogue import Catalogue

# Steps of one request queued or running ahead of the one it waits for, per executor thread:
# a thread that finishes a short sentence starts the next instead of idling.
_AHEAD_PER_THREAD = 2


@dataclass(frozen=True, slots=True)
class RenderedAudio:
    """A whole file made in memory, its seconds of audio and what is said when."""

    data: bytes
    duration_s: float
    timings: Timings


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """What was written: seconds of audio, bytes on disk, and what is said when."""

    duration_s: float
    bytes: int
    timings: Timings


class Synthesizer:
    """Turns plans into audio with the catalogue's engines on one SentenceExecutor; holds the
    process's `planner`, which `plan.validate` asks what requests mean."""

    def __init__(
        self,
        catalogue: Catalogue,
        executor: SentenceExecutor,
        max_sentence_chars: int,
        observer: Observer | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.executor = executor
        self.planner = Planner(catalogue, lexicon)
        self._cutter = PieceCutter(self.planner, max_sentence_chars)
        ahead = executor.threads * _AHEAD_PER_THREAD
        self.pipeline = Pipeline(self._cutter, catalogue, ahead, observer)

    @property
    def catalogue(self) -> Catalogue:
        """The engines and their voices (the planner's; fixed for the synthesizer's life, since
        the pipeline holds it too: a test wanting other engines passes a catalogue to
        `wiring.build_synthesizer`)."""
        return self.planner.catalogue

    @property
    def lexicon(self) -> Lexicon:
        """The configured pronunciation lexicons (the planner's)."""
        return self.planner.lexicon

    @property
    def languages(self) -> SentenceLanguages:
        """The language of each sentence nobody labelled (the planner's)."""
        return self.planner.languages

    def piece_words(self, plan: SpeechPlan, quick_start: bool = False) -> Iterator[str]:
        """The words of each engine call, in order (`PieceCutter.pieces`)."""
        return (piece.text for piece in self._cutter.pieces(plan, quick_start))

    async def samples(
        self,
        plan: SpeechPlan,
        turn: Turn,
        progress: Progress | None = None,
        quick_start: bool = False,
    ) -> AsyncGenerator[Samples, None]:
        """Yield the audio of each piece in order, at `plan.voice.sample_rate`.

        Later pieces are synthesized ahead while the caller uses earlier ones. An engine
        error is raised when its piece's turn comes. Closing the generator (a cancelled job,
        a client gone) cancels the pieces queued ahead.
        """
        async with contextlib.aclosing(
            self.pipeline.run(plan, turn, _as_is, progress, quick_start)
        ) as pieces:
            async for samples in pieces:
                yield samples

    async def stream(
        self,
        plan: SpeechPlan,
        turn: Turn,
        progress: Progress | None = None,
        quick_start: bool = True,
        heard: list[Timing] | None = None,
        words: SpokenWords | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """Yield the encoded file piece by piece as pieces are synthesized; together they are
        one valid file in a streamable layout. Each piece's timing goes to `heard`, and its
        words to `words`, before its bytes are yielded."""
        output = StreamOutput(plan.format, plan.voice.sample_rate)
        async with contextlib.aclosing(
            self.pipeline.run(
                plan, turn, output.add, progress, quick_start, output.last, heard, words=words
            )
        ) as pieces:
            async for data in pieces:
                if data:
                    yield data

    async def write(
        self, plan: SpeechPlan, path: Path, turn: Turn, progress: Progress | None = None
    ) -> SpeechResult:
        """Write the audio to `path` atomically: it appears complete or not at all (an
        unfinished file renamed when whole, flushed to disk first so a crash cannot leave a
        short file under the final name)."""
        output = FileOutput(plan.format, plan.voice.sample_rate, path)
        timings = await self._encode_all(plan, turn, output, progress)
        return SpeechResult(output.duration, output.size, timings)

    async def render(self, plan: SpeechPlan, turn: Turn) -> RenderedAudio:
        """The whole file in memory, for an answer nobody will fetch again."""
        output = MemoryOutput(plan.format, plan.voice.sample_rate)
        timings = await self._encode_all(plan, turn, output, None)
        return RenderedAudio(output.buffer.getvalue(), output.duration, timings)

    async def _encode_all(
        self, plan: SpeechPlan, turn: Turn, output: Output, progress: Progress | None
    ) -> Timings:
        heard: list[Timing] = []
        marked: list[Timing] = []
        # Off the event loop: where a book-size text's characters are (43 ms for 200,000).
        words = await asyncio.to_thread(SpokenWords, plan.written_words, plan.aliases)
        async with contextlib.aclosing(
            self.pipeline.run(
                plan,
                turn,
                output.add,
                progress,
                False,
                output.last,
                heard,
                marked,
                output.abandon,
                words,
            )
        ) as pieces:
            async for _ in pieces:
                pass
        # Off the event loop: a book has a timing for each of its words.
        return await asyncio.to_thread(timings_of, heard, output.duration, marked, words)

    async def warm_up(self, plan: SpeechPlan, streams: bool = False) -> None:
        """Load `plan`'s voice by speaking its text once, so the first request pays nothing;
        as a stream's first piece where this process `streams` (an engine's first-piece path
        is then loaded too), and what levelling loudness imports."""
        await self.executor.run(self.catalogue.voices)
        await self.executor.run(load_measures)
        turn = self.executor.turn(Lane.interactive)
        async with contextlib.aclosing(self.samples(plan, turn, quick_start=streams)) as chunks:
            async for _ in chunks:
                pass


def _as_is(samples: Samples) -> Samples:
    return samples
