"""The speech orchestrator: validates a request once, then synthesizes it sentence by sentence
(several sentences at once on the process's sentence pool) into an encoder, for the CLI and
every HTTP route alike."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from sayfile import text as textmod
from sayfile.audio import AudioFormat, ChunkBuffer, Encoder, Samples, audio_format
from sayfile.catalogue import Catalogue
from sayfile.engines import build_engines
from sayfile.errors import InvalidInput, TextTooLong
from sayfile.models import Voice
from sayfile.pool import OrderedPool
from sayfile.settings import Settings

MIN_SPEED = 0.25
MAX_SPEED = 4.0

Progress = Callable[[float], None]
"""Called with the fraction of the text (0..1) spoken so far."""

Observer = Callable[[str, float, float], None]
"""Called after each sentence with the engine, its computing seconds and the audio seconds."""

# Sentences of one request queued or running on the pool, per pool thread: a thread that
# finishes a short sentence starts on the next one instead of idling until a longer neighbour
# (which must come out first) is done.
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


class SpeechService:
    """Turns text into audio. Engines are loaded on first use and kept until `close()`.

    With `settings.parallel_sentences` above 1, sentences are synthesized on one pool of that
    many threads, shared by every request this service handles (started on first use).
    """

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or Catalogue(build_engines(settings), settings.default_voice)
        self.observer = observer
        workers = settings.parallel_sentences
        self._pool = OrderedPool(workers, "sentence") if workers > 1 else None

    def plan(
        self,
        text: str,
        *,
        voice: str | None = None,
        language: str | None = None,
        format: str | None = None,
        speed: float = 1.0,
        max_chars: int | None = None,
        engine: str | None = None,
    ) -> SpeechPlan:
        """Validate a request. Raises InvalidInput (or a subclass such as TextTooLong) naming
        what is wrong."""
        fmt = audio_format(format or self.settings.default_format)
        if not isinstance(speed, int | float) or not math.isfinite(speed):
            raise InvalidInput("speed must be a number.", field="speed")
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise InvalidInput(
                f"speed {speed} is out of range; allowed: {MIN_SPEED} to {MAX_SPEED}.",
                field="speed",
            )
        clean = textmod.normalize(text)
        if not clean:
            raise InvalidInput("Text is empty; give some words to speak.", field="text")
        if max_chars is not None and len(clean) > max_chars:
            raise TextTooLong(len(clean), max_chars)
        chosen = self.catalogue.resolve(voice=voice, language=language, engine=engine)
        return SpeechPlan(clean, chosen, fmt, float(speed))

    def samples(
        self, plan: SpeechPlan, progress: Progress | None = None
    ) -> Generator[Samples, None, None]:
        """Yield the audio of each sentence in order, at `plan.voice.sample_rate`.

        Later sentences are synthesized ahead on the sentence pool while the caller uses
        earlier ones; `progress` and the observer are still called once per sentence, in
        order. An engine error is raised when its sentence's turn comes. Closing the generator
        (a cancelled job, a client gone) cancels the sentences queued ahead.
        """
        engine = self.catalogue.engine(plan.voice)
        total = len(plan.text)
        done = 0
        rate = plan.voice.sample_rate

        def speak(sentence: str) -> tuple[str, Samples, float]:
            started = time.perf_counter()
            samples = engine.synthesize(plan.voice, sentence, plan.speed)
            return sentence, samples, time.perf_counter() - started

        sentences = textmod.sentences(plan.text, self.settings.max_sentence_chars)
        if self._pool is None:
            spoken = (speak(sentence) for sentence in sentences)
        else:
            spoken = self._pool.map(speak, sentences, self._pool.workers * _AHEAD_PER_THREAD)
        with contextlib.closing(spoken):
            for sentence, samples, seconds in spoken:
                if self.observer is not None:
                    self.observer(engine.name, seconds, samples.size / rate)
                yield samples
                done += len(sentence) + 1
                if progress is not None:
                    progress(min(done / total, 1.0))

    def stream(
        self, plan: SpeechPlan, progress: Progress | None = None
    ) -> Generator[bytes, None, None]:
        """Yield the encoded file piece by piece as sentences are synthesized; the pieces
        together are one valid file in a streamable layout."""
        buffer = ChunkBuffer()
        encoder = Encoder(plan.format, plan.voice.sample_rate, buffer, streaming=True)
        # Closed explicitly, not when garbage is collected: a stream stopped early must stop
        # the sentences synthesized ahead now.
        with contextlib.closing(self.samples(plan, progress)) as chunks:
            for chunk in chunks:
                encoder.write(chunk)
                if data := buffer.drain():
                    yield data
        encoder.close()
        if tail := buffer.drain():
            yield tail

    def write(self, plan: SpeechPlan, path: Path, progress: Progress | None = None) -> SpeechResult:
        """Write the audio to `path` atomically: it appears complete or not at all."""
        part = path.with_name(path.name + ".part")
        try:
            with (
                part.open("wb") as sink,
                contextlib.closing(self.samples(plan, progress)) as chunks,
            ):
                encoder = Encoder(plan.format, plan.voice.sample_rate, sink)
                for chunk in chunks:
                    encoder.write(chunk)
                encoder.close()
                sink.flush()
                os.fsync(sink.fileno())
            part.replace(path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return SpeechResult(encoder.duration, path.stat().st_size)

    def warm_up(self) -> None:
        """List every voice and load the default one, so the first request pays nothing."""
        self.catalogue.voices()
        plan = self.plan("Ready.")
        for _ in self.samples(plan):
            pass

    def close(self) -> None:
        """Stop the sentence pool (waiting for sentences being synthesized) and release the
        engines' models."""
        if self._pool is not None:
            self._pool.close()
        self.catalogue.close()
