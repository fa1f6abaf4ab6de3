"""The speech pipeline: a validated plan in, audio out, sentence by sentence through an engine
and an encoder, every blocking step taking its turn on the process's sentence executor."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sayfile import text as textmod
from sayfile.audio import AudioFormat, ChunkBuffer, Encoder, Samples, audio_format
from sayfile.catalogue import Catalogue
from sayfile.engines import Engine
from sayfile.models import Voice
from sayfile.scheduler import Lane, SentenceExecutor, Turn

Progress = Callable[[float], Awaitable[None]]
"""Awaited with the fraction of the text (0..1) spoken so far, after each sentence."""

Observer = Callable[[str, float, float], None]
"""Called after each sentence with the engine, its computing seconds and the audio seconds."""

# A stream's first piece is cut this short (at a clause, else a space) so that its first
# audio comes after a few words' synthesis rather than a whole long sentence's.
FIRST_PIECE_CHARS = 60
# Steps of one request queued or running ahead of the one it waits for, per executor thread:
# a thread that finishes a short sentence starts the next instead of idling.
_AHEAD_PER_THREAD = 2


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """A validated request: normalised text, the chosen voice, format and speed."""

    text: str
    voice: Voice
    format: AudioFormat
    speed: float


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """What was written: seconds of audio and bytes on disk."""

    duration_s: float
    bytes: int


class Synthesizer:
    """Turns plans into audio with the catalogue's engines on one SentenceExecutor."""

    def __init__(
        self,
        catalogue: Catalogue,
        executor: SentenceExecutor,
        max_sentence_chars: int,
        observer: Observer | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.executor = executor
        self._max_chars = max_sentence_chars
        self._observer = observer

    def plan_of(self, text: str, voice_id: str, fmt: str, speed: float) -> SpeechPlan:
        """The plan of a request validated earlier (a job handed to a worker). Raises
        UnknownVoice when this process does not have the voice."""
        return SpeechPlan(text, self.catalogue.resolve(voice=voice_id), audio_format(fmt), speed)

    def pieces(self, plan: SpeechPlan, quick_start: bool = False) -> Iterator[str]:
        """The pieces of text handed to the engine one at a time: sentences, none longer than
        the configured limit; with `quick_start`, a long first one cut short at a clause."""
        sentences = textmod.sentences(plan.text, self._max_chars)
        first = next(sentences, None)
        if first is None:
            return
        if quick_start and len(first) > FIRST_PIECE_CHARS:
            head = next(textmod.sentences(first, FIRST_PIECE_CHARS), first)
            rest = first[len(head) :].strip()
            if first.startswith(head) and rest:
                yield head
                first = rest
        yield first
        yield from sentences

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
        engine = self.catalogue.engine(plan.voice)
        ahead = self.executor.threads * _AHEAD_PER_THREAD
        source = self.pieces(plan, quick_start)
        numbers = itertools.count(0, 2)  # odd numbers are left for each piece's encoding
        pending: deque[tuple[str, Future[tuple[Samples, float]]]] = deque()

        def refill() -> None:
            for piece in itertools.islice(source, ahead - len(pending)):
                work = _Speak(engine, plan.voice, piece, plan.speed)
                pending.append((piece, turn.submit(work, next(numbers))))

        total = len(plan.text)
        done = 0
        try:
            refill()
            while pending:
                piece, future = pending[0]
                samples, seconds = await asyncio.wrap_future(future)
                pending.popleft()
                refill()
                if self._observer is not None:
                    self._observer(engine.name, seconds, samples.size / plan.voice.sample_rate)
                yield samples
                done += len(piece) + 1
                if progress is not None:
                    await progress(min(done / total, 1.0))
        finally:
            for _, future in pending:
                future.cancel()

    async def stream(
        self,
        plan: SpeechPlan,
        turn: Turn,
        progress: Progress | None = None,
        quick_start: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Yield the encoded file piece by piece as pieces are synthesized; together they are
        one valid file in a streamable layout."""
        buffer = ChunkBuffer()
        rate = plan.voice.sample_rate
        encoder = await turn.run(lambda: Encoder(plan.format, rate, buffer, streaming=True))
        number = 1
        async with contextlib.aclosing(self.samples(plan, turn, progress, quick_start)) as chunks:
            async for chunk in chunks:
                data = await turn.run(_Encode(encoder, buffer, chunk), number)
                number += 2
                if data:
                    yield data
        if tail := await turn.run(_Encode(encoder, buffer, None), number):
            yield tail

    async def write(
        self, plan: SpeechPlan, path: Path, turn: Turn, progress: Progress | None = None
    ) -> SpeechResult:
        """Write the audio to `path` atomically: it appears complete or not at all (a `.part`
        file renamed when whole, flushed to disk first so a crash cannot leave a short file
        under the final name)."""
        part = path.with_name(path.name + ".part")
        sink: BinaryIO = await turn.run(lambda: part.open("wb"))
        try:
            rate = plan.voice.sample_rate
            encoder = await turn.run(lambda: Encoder(plan.format, rate, sink))
            number = 1
            async with contextlib.aclosing(self.samples(plan, turn, progress)) as chunks:
                async for chunk in chunks:
                    await turn.run(_Encode(encoder, None, chunk), number)
                    number += 2
            size = await turn.run(lambda: _finish(encoder, sink, part, path), number)
        except BaseException:
            sink.close()
            part.unlink(missing_ok=True)
            raise
        return SpeechResult(encoder.duration, size)

    async def warm_up(self, plan: SpeechPlan) -> None:
        """Load `plan`'s voice by speaking its text once, so the first request pays nothing."""
        await self.executor.run(self.catalogue.voices)
        async with contextlib.aclosing(
            self.samples(plan, self.executor.turn(Lane.interactive))
        ) as chunks:
            async for _ in chunks:
                pass


@dataclass(frozen=True, slots=True)
class _Speak:
    """One piece through the engine, timed (runs on an executor thread)."""

    engine: Engine
    voice: Voice
    text: str
    speed: float

    def __call__(self) -> tuple[Samples, float]:
        started = time.perf_counter()
        samples = self.engine.synthesize(self.voice, self.text, self.speed)
        return samples, time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class _Encode:
    """One chunk into the encoder (None: flush and finish), returning what a stream's buffer
    holds now (runs on an executor thread)."""

    encoder: Encoder
    buffer: ChunkBuffer | None
    chunk: Samples | None

    def __call__(self) -> bytes:
        if self.chunk is None:
            self.encoder.close()
        else:
            self.encoder.write(self.chunk)
        return self.buffer.drain() if self.buffer is not None else b""


def _finish(encoder: Encoder, sink: BinaryIO, part: Path, path: Path) -> int:
    encoder.close()
    sink.flush()
    os.fsync(sink.fileno())
    sink.close()
    part.replace(path)
    return path.stat().st_size
