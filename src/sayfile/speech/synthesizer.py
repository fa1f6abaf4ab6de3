"""The speech pipeline: a validated plan in, audio out, sentence by sentence through an engine
and an encoder, every blocking step taking its turn on the process's sentence executor."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import itertools
import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

import numpy as np

import sayfile.text.sentences as textmod
from sayfile.audio.formats import (
    AudioFormat,
    ChunkBuffer,
    Encoder,
    Samples,
    audio_format,
    open_encoder,
    resample,
)
from sayfile.audio.timings import Timing, Timings
from sayfile.engines import Engine
from sayfile.lru_map import LruMap
from sayfile.models import Voice
from sayfile.speech.loudness import LoudnessLevel
from sayfile.speech.scheduler import Lane, SentenceExecutor, Turn
from sayfile.text.language_detection import SentenceLanguages
from sayfile.text.lexicon import Lexicon
from sayfile.text.normalisation import Normalisation
from sayfile.text.ssml import Span
from sayfile.voices.catalogue import Catalogue, sample_text
from sayfile.whole_files import unfinished_name

T = TypeVar("T")

Progress = Callable[[float], Awaitable[None]]
"""Awaited with the fraction of the text (0..1) spoken so far, after each sentence."""

Observer = Callable[[str, float, float], None]
"""Called after each sentence with the engine, its computing seconds and the audio seconds."""

# A stream's first piece is cut this short (at a clause, else a space) so that its first
# audio comes after a couple of seconds of speech are synthesized, not a whole long
# sentence: about 30 Latin characters, or 8 Chinese or Japanese ones (each a syllable).
FIRST_PIECE_CHARS = 30
FIRST_PIECE_CJK_CHARS = 8
# Chinese or Japanese characters per Latin one, for lengths in engines' `join_below`.
_CJK_PER_LATIN = 3
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_NOTHING: Any = object()
_NO_WORDS = (
    "times of single words are not known: sayfile's engines do not report them; each piece "
    "(a sentence, or a short run of them) is timed exactly, to the sample"
)
# Steps of one request queued or running ahead of the one it waits for, per executor thread:
# a thread that finishes a short sentence starts the next instead of idling.
_AHEAD_PER_THREAD = 2


# Loudness targets whose per-voice gains are kept at once.
_KEPT_LEVELS = 64
_KEPT_LEXICONS = 8


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """A validated request: its text (normalised, or an SSML document), the chosen voice,
    format and speed; what is said (`spans`: from SSML and lexicons, empty for plain text
    said as it is), the loudness target (None: off), the request's own lexicon entries, and
    whether its sentences were routed to their languages' voices."""

    text: str
    voice: Voice
    format: AudioFormat
    speed: float
    spans: tuple[Span, ...] = ()
    loudness: float | None = None
    lexicon: tuple[dict[str, str], ...] = ()
    # `text` is an SSML document (else the words as said, Markdown and addresses read already).
    ssml: bool = False
    routed: bool = False
    """Nobody named a voice or language: sentences go to their languages' voices."""

    @property
    def script(self) -> tuple[Span, ...]:
        """What is said, in order."""
        return self.spans or (Span(self.text),)

    @property
    def words(self) -> str:
        """What is said, as plain text (an SSML document's words)."""
        if not self.spans:
            return self.text
        return " ".join(span.text for span in self.spans if span.text)

    def at_rate_of(self, voice: Voice) -> SpeechPlan:
        """The same speech made at `voice`'s sample rate (a routed part of a book, which is
        joined with the others without encoding again): what the plan's own voice said, it
        still says."""
        if voice == self.voice:
            return self
        script = tuple(
            s if s.voice else dataclasses.replace(s, voice=self.voice.id) for s in self.script
        )
        return dataclasses.replace(self, voice=voice, spans=script)

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices spans name (a <voice>, or sentences routed to their language's voice)."""
        return tuple(sorted({span.voice for span in self.spans if span.voice}))

    @property
    def spoken_chars(self) -> int:
        """Characters the engines are given, after SSML, say-as and lexicon expansion: a
        span's pronunciation where it has one, else its words (one separator between)."""
        sizes = [len(s.phonemes or s.pinyin or s.text) for s in self.script]
        return sum(sizes) + max(0, sum(1 for size in sizes if size) - 1)

    @property
    def silence_s(self) -> float:
        """Seconds of silence the spans ask for (<break>s, paragraph pauses), at any speed."""
        return sum(span.pause_before_s for span in self.spans)


@dataclass(frozen=True, slots=True)
class Piece:
    """One engine call: the words (or a pronunciation of them), in a voice and at a speed,
    after a pause."""

    text: str
    voice: Voice
    speed: float
    pause_s: float = 0.0
    phonemes: str | None = None
    alphabet: str = "ipa"
    marks: tuple[str, ...] = ()
    """Names of SSML marks at the start of the words (after the pause)."""


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
    """Turns plans into audio with the catalogue's engines on one SentenceExecutor."""

    def __init__(
        self,
        catalogue: Catalogue,
        executor: SentenceExecutor,
        max_sentence_chars: int,
        observer: Observer | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.executor = executor
        self.lexicon = lexicon or Lexicon()
        self._max_chars = max_sentence_chars
        self._observer = observer
        self._levels: dict[float | None, LoudnessLevel] = {}
        self._levels_lock = threading.Lock()
        self._lexicons: LruMap[str, Lexicon] = LruMap(_KEPT_LEXICONS)
        self._lexicons_lock = threading.Lock()
        self.languages = SentenceLanguages(catalogue)
        """The language of each sentence nobody labelled (its identifier built on first use)."""
        self._references = _References()
        self.normalisation = Normalisation()

    def plan_of(self, text: str, voice_id: str, fmt: str, speed: float) -> SpeechPlan:
        """A plan of plain `text` said as it is (warming up, tests). Raises UnknownVoice when
        this process does not have the voice."""
        return SpeechPlan(text, self.catalogue.resolve(voice=voice_id), audio_format(fmt), speed)

    def pronounced(
        self, spans: list[Span], language: str, entries: tuple[dict[str, str], ...]
    ) -> tuple[Span, ...]:
        """`spans` with the configured lexicons and the request's `entries` (which win)
        applied, in `language` where a span does not say its own. Raises InvalidLexicon."""
        return tuple(self._lexicon_with(entries).apply_spans(spans, language))

    def _lexicon_with(self, entries: tuple[dict[str, str], ...]) -> Lexicon:
        """The configured lexicon with a request's `entries`, its matchers built once for the
        same entries however many requests bring them (the last `_KEPT_LEXICONS` kept: a
        matcher of 10,000 terms is about 10 MB and 0.1 s of building). Raises InvalidLexicon."""
        if not entries:
            return self.lexicon
        key = json.dumps(entries, sort_keys=True)
        with self._lexicons_lock:
            merged = self._lexicons.get(key)
        if merged is None:
            merged = self.lexicon.merged(Lexicon.from_request(entries))
            with self._lexicons_lock:
                self._lexicons[key] = merged
        return merged

    def voice_of(self, span: Span, default: Voice) -> Voice:
        """The voice a span is said in: its own (<voice name>), else the best for its language
        when that is not the default voice's, else the default. Raises UnknownVoice,
        UnknownLanguage."""
        if span.voice:
            return self.catalogue.resolve(voice=span.voice)
        if span.language and _primary(span.language) != _primary(default.language):
            return self.catalogue.resolve(language=span.language)
        return default

    def pieces(self, plan: SpeechPlan, quick_start: bool = False) -> Iterator[str]:
        """The words of each engine call, in order (see `_pieces`)."""
        return (piece.text for piece in self._pieces(plan, quick_start))

    def _pieces(self, plan: SpeechPlan, quick_start: bool = False) -> Iterator[Piece]:
        """The engine calls of a plan: sentences, none longer than the configured limit, one
        shorter than the engine's `join_below` joined to the next; with `quick_start`, a long
        first one cut short at a clause. Each span keeps its voice, speed and pause; a
        pronunciation is a call of its own; a pause at the very end is a call of silence."""
        pause = 0.0
        marks: tuple[str, ...] = ()
        first = True
        for span in plan.script:
            pause += span.pause_before_s
            if span.mark is not None:
                marks = (*marks, span.mark)
            pronunciation = span.phonemes or span.pinyin
            if not span.text and not pronunciation:
                continue
            voice = self.voice_of(span, plan.voice)
            speed = min(max(plan.speed * span.rate, 0.25), 4.0)
            if pronunciation:
                alphabet = "ipa" if span.phonemes else "x-pinyin"
                yield Piece(span.text, voice, speed, pause, pronunciation, alphabet, marks)
            else:
                join_below = self.catalogue.engine(voice).join_below
                for text in self._sentences(span.text, join_below, quick_start and first):
                    yield Piece(text, voice, speed, pause, marks=marks)
                    pause, marks = 0.0, ()
            pause, marks = 0.0, ()
            first = False
        if pause > 0 or marks:
            yield Piece("", plan.voice, plan.speed, pause, marks=marks)

    def _sentences(self, text: str, join_below: int, quick_start: bool) -> Iterator[str]:
        sentences = textmod.sentences(text, self._max_chars)
        first = next(sentences, None)
        if first is None:
            return
        budget = FIRST_PIECE_CJK_CHARS if _CJK.search(first) else FIRST_PIECE_CHARS
        if quick_start and len(first) > budget:
            head = next(textmod.sentences(first, budget), first)
            rest = first[len(head) :].strip()
            if first.startswith(head) and rest:
                yield head
                first = rest
        yield from self._joined(itertools.chain([first], sentences), join_below)

    def level(self, target: float | None) -> LoudnessLevel:
        """The loudness levelling to `target` LUFS (None: off), one per target."""
        with self._levels_lock:
            level = self._levels.pop(target, None) or LoudnessLevel(target)
            self._levels[target] = level  # the most recently used last
            if len(self._levels) > _KEPT_LEVELS:
                # Every request may name its own target: the least recently used go (their
                # gains are measured again, in milliseconds, from the kept references).
                del self._levels[next(iter(self._levels))]
            return level

    def _joined(self, sentences: Iterator[str], join_below: int) -> Iterator[str]:
        """Each sentence shorter than `join_below` characters (a third of that in Chinese or
        Japanese) goes to the engine with the next, within the sentence limit."""
        piece: str | None = None
        for sentence in sentences:
            if piece is None:
                piece = sentence
                continue
            cjk = _CJK.search(piece) is not None
            short = len(piece) < (join_below // _CJK_PER_LATIN if cjk else join_below)
            gap = "" if cjk and _CJK.match(sentence) else " "
            if short and len(piece) + len(gap) + len(sentence) <= self._max_chars:
                piece = piece + gap + sentence
            else:
                yield piece
                piece = sentence
        if piece is not None:
            yield piece

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
            self._produce(plan, turn, _keep, progress, quick_start)
        ) as pieces:
            async for samples in pieces:
                yield samples

    async def _produce(
        self,
        plan: SpeechPlan,
        turn: Turn,
        consume: Callable[[Samples], T],
        progress: Progress | None,
        quick_start: bool,
        last: Callable[[T], T] | None = None,
        heard: list[Timing] | None = None,
        marked: list[Timing] | None = None,
        abandon: Callable[[], None] | None = None,
    ) -> AsyncGenerator[T, None]:
        """Yield `consume(samples)` for each piece in order, all at `plan.voice`'s rate.
        `consume` (an encoder's step) runs on the thread that synthesized the piece due next,
        right after it, so that no step has to wait behind a later piece's synthesis for a
        thread; `last` (finishing the file) runs there too after the last piece, on what
        `consume` gave for it. Each piece's words and where they are heard in the audio (to
        the sample) go to `heard`, and the moments of its marks to `marked`. If it ends
        before the last piece (an error, a cancellation), `abandon` runs on a thread once no
        thread is encoding any more: the event loop never waits for an encoder or an fsync."""
        rate = plan.voice.sample_rate
        level = self.level(plan.loudness)
        # Levelled audio is made that much louder than the target as the format's decoders
        # will take off, so that what is heard is at the target.
        lift = 10 ** (-plan.format.decoded_gain_db / 20)
        ahead = self.executor.threads * _AHEAD_PER_THREAD
        source = _marked_last(enumerate(self._pieces(plan, quick_start)))
        in_order = _InOrder(consume, last)
        pending: deque[tuple[Piece, Future[tuple[int, int, float]]]] = deque()

        def refill() -> None:
            for (index, piece), final in itertools.islice(source, ahead - len(pending)):
                engine = self.catalogue.engine(piece.voice)
                work = _Speak(
                    engine,
                    piece,
                    rate,
                    level,
                    lift,
                    index,
                    final,
                    in_order,
                    self._references,
                    self.normalisation,
                )
                # A voice not set up yet (its loudness reference, its engine's model or
                # reader) makes this step heavy: it runs in this client's turns like any
                # other, but never on the last thread free for other clients.
                heavy = not self._references.has(piece.voice.id) and level.target_lufs is not None
                heavy = heavy or not engine_ready(engine, piece.voice)
                pending.append((piece, turn.submit(work, index, heavy)))

        total = len(plan.words)
        done = 0
        cursor = 0
        whole = False
        try:
            refill()
            index = 0
            while pending:
                piece, future = pending[0]
                size, lead, seconds = await asyncio.wrap_future(future)
                pending.popleft()
                refill()
                if self._observer is not None:
                    self._observer(piece.voice.engine, seconds, size / rate)
                begins = (cursor + lead) / rate
                if heard is not None and piece.text:
                    end = (cursor + size) / rate
                    heard.append(Timing(begins, end, piece.text, piece.voice.id))
                if marked is not None:
                    marked.extend(Timing(begins, begins, name) for name in piece.marks)
                cursor += size
                yield in_order.result(index)
                index += 1
                done += len(piece.text) + 1
                if progress is not None:
                    await progress(min(done / total, 1.0))
            whole = True
        finally:
            in_order.close()
            for _, future in pending:
                future.cancel()
            if not whole and abandon is not None:
                # Shielded: it runs (and the file is closed) even if this task is cancelled
                # again meanwhile, which would otherwise take it out of the pool's queue.
                await asyncio.shield(asyncio.to_thread(in_order.after_consumers, abandon))

    async def stream(
        self,
        plan: SpeechPlan,
        turn: Turn,
        progress: Progress | None = None,
        quick_start: bool = True,
        heard: list[Timing] | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """Yield the encoded file piece by piece as pieces are synthesized; together they are
        one valid file in a streamable layout. Each piece's timing goes to `heard` before its
        bytes are yielded."""
        encoding = _StreamEncoding(plan.format, plan.voice.sample_rate)
        async with contextlib.aclosing(
            self._produce(plan, turn, encoding.add, progress, quick_start, encoding.last, heard)
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
        encoding = _FileEncoding(plan.format, plan.voice.sample_rate, path)
        timings = await self._encode_all(plan, turn, encoding, progress)
        return SpeechResult(encoding.duration, encoding.size, timings)

    async def render(self, plan: SpeechPlan, turn: Turn) -> RenderedAudio:
        """The whole file in memory, for an answer nobody will fetch again."""
        encoding = _MemoryEncoding(plan.format, plan.voice.sample_rate)
        timings = await self._encode_all(plan, turn, encoding, None)
        return RenderedAudio(encoding.buffer.getvalue(), encoding.duration, timings)

    async def _encode_all(
        self, plan: SpeechPlan, turn: Turn, encoding: _Encoding, progress: Progress | None
    ) -> Timings:
        heard: list[Timing] = []
        marked: list[Timing] = []
        async with contextlib.aclosing(
            self._produce(
                plan,
                turn,
                encoding.add,
                progress,
                False,
                encoding.last,
                heard,
                marked,
                encoding.abandon,
            )
        ) as pieces:
            async for _ in pieces:
                pass
        return timings_of(heard, encoding.duration, marked)

    async def warm_up(self, plan: SpeechPlan) -> None:
        """Load `plan`'s voice by speaking its text once, so the first request pays nothing."""
        await self.executor.run(self.catalogue.voices)
        async with contextlib.aclosing(
            self.samples(plan, self.executor.turn(Lane.interactive))
        ) as chunks:
            async for _ in chunks:
                pass


def engine_ready(engine: Engine, voice: Voice) -> bool:
    """Whether `engine` has what `voice` needs loaded (an engine that does not say, has)."""
    ready: Callable[[Voice], bool] | None = getattr(engine, "ready", None)
    return ready is None or ready(voice)


def _keep(samples: Samples) -> Samples:
    return samples


def timings_of(heard: list[Timing], duration: float, marked: list[Timing] | None = None) -> Timings:
    """The timings of a finished file: its pieces, its marks, and a note where words are not
    known."""
    return Timings(tuple(heard), None, duration, _NO_WORDS, tuple(marked or ()))


def _primary(language: str) -> str:
    return language.split("-", 1)[0].lower()


def _marked_last(items: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """Each item with whether it is the last one (known by looking one item ahead)."""
    previous = next(items, _NOTHING)
    for item in items:
        yield previous, False
        previous = item
    if previous is not _NOTHING:
        yield previous, True


class _InOrder(Generic[T]):
    """Hands pieces to `consume` in their order, on whichever thread finishes the piece that
    is due (no thread ever waits for another's step); keeps what each call gives back.

    `_lock` is held across `consume` (encoding, and the last piece's fsync and rename), so
    the event loop never takes it: `result` and `close` use `_results_lock`, held for a dict
    operation only, and a flag."""

    def __init__(self, consume: Callable[[Samples], T], last: Callable[[T], T] | None) -> None:
        self._consume = consume
        self._last = last
        self._final: int | None = None
        self._lock = threading.Lock()
        self._results_lock = threading.Lock()
        self._due = 0
        self._ready: dict[int, Samples] = {}
        self._results: dict[int, T] = {}
        self._closed = False

    def offer(self, index: int, samples: Samples, final: bool) -> None:
        with self._lock:
            if self._closed:
                return  # the request has ended: nothing more goes to its encoder
            self._ready[index] = samples
            if final:
                self._final = index
            while not self._closed and self._due in self._ready:
                result = self._consume(self._ready.pop(self._due))
                if self._due == self._final and self._last is not None:
                    result = self._last(result)
                with self._results_lock:
                    self._results[self._due] = result
                self._due += 1
            if self._closed:
                self._ready.clear()

    def result(self, index: int) -> T:
        """What `consume` gave for piece `index`; ready once that piece's step is done and
        those before it have been taken."""
        with self._results_lock:
            return self._results.pop(index)

    def close(self) -> None:
        """Nothing more goes to `consume` once the piece being encoded now (if any) is done;
        never waits for it (called on the event loop)."""
        self._closed = True

    def after_consumers(self, then: Callable[[], None]) -> None:
        """Wait until no thread is in `consume`, then run `then` (on an executor thread)."""
        with self._lock:
            self._ready.clear()
            then()


@dataclass(frozen=True, slots=True)
class _Speak:
    """One piece through the engine, timed, levelled, brought to the file's rate and its pause
    put before it, then offered for encoding in order (runs on an executor thread); gives the
    piece's sample count, the pause's, and the engine's computing seconds. The engine gets the
    words as its voice's language says them (`Normalisation`); timings keep them as written."""

    engine: Engine
    piece: Piece
    rate: int
    level: LoudnessLevel
    lift: float
    index: int
    final: bool
    in_order: _InOrder[Any]
    references: _References
    normalisation: Normalisation

    def __call__(self) -> tuple[int, int, float]:
        piece, voice = self.piece, self.piece.voice
        started = time.perf_counter()
        samples = self._spoken()
        seconds = time.perf_counter() - started
        if samples.size:
            gain = self.level.gain_for(voice.id, voice.sample_rate, self._reference)
            levelled = self.level.apply(samples, gain, voice.sample_rate, self.lift)
            samples = resample(levelled, voice.sample_rate, self.rate)
        lead = round(piece.pause_s * self.rate)
        if lead:
            samples = np.concatenate([np.zeros(lead, dtype=np.int16), samples])
        self.in_order.offer(self.index, samples, self.final)
        return samples.size, lead, seconds

    def _spoken(self) -> Samples:
        piece = self.piece
        if piece.phonemes is not None:
            said = self.engine.speak_phonemes(
                piece.voice, piece.phonemes, piece.alphabet, piece.speed
            )
            if said is not None:
                return said
        if not piece.text:
            return np.zeros(0, dtype=np.int16)
        words = self.normalisation.said(piece.text, piece.voice.language)
        return self.engine.synthesize(piece.voice, words, piece.speed)

    def _reference(self) -> Samples:
        """What the voice's loudness is measured on: its own sample sentence."""
        return self.references.of(self.engine, self.piece.voice)


class _References:
    """Each voice's sample sentence as the voice says it, made once per voice (however many
    threads ask at once) and kept for every loudness target: a request with a new `loudness`
    value measures again, in milliseconds, without making the sentence again."""

    def __init__(self) -> None:
        self._made: dict[str, Samples] = {}
        self._making: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def has(self, voice_id: str) -> bool:
        """Whether the voice's sample sentence is made already."""
        return voice_id in self._made

    def of(self, engine: Engine, voice: Voice) -> Samples:
        """The voice's sample sentence, made on the first call. An engine's exception
        propagates, and nothing is kept."""
        with self._lock:
            made = self._made.get(voice.id)
            if made is not None:
                return made
            making = self._making.setdefault(voice.id, threading.Lock())
        with making:
            with self._lock:
                made = self._made.get(voice.id)
            if made is None:
                made = engine.synthesize(voice, sample_text(voice), 1.0)
                with self._lock:
                    self._made[voice.id] = made
        return made


class _Encoding:
    """One output being encoded; the encoder (and a file's sink) is made by the first piece's
    thread. `add` gives the bytes ready so far (for a stream), `finish` the last ones."""

    streaming = False

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        self._format = fmt
        self._rate = rate
        self._encoder: Encoder | None = None

    def _sink(self) -> BinaryIO | ChunkBuffer:
        raise NotImplementedError

    def _started(self) -> Encoder:
        if self._encoder is None:
            self._encoder = open_encoder(self._format, self._rate, self._sink(), self.streaming)
        return self._encoder

    def add(self, samples: Samples) -> bytes:
        """Encode one piece."""
        self._started().write(samples)
        return b""

    def finish(self) -> bytes:
        """Flush the encoder and finish the container."""
        self._started().close()
        return b""

    def last(self, data: bytes) -> bytes:
        """After the last piece (`data`, what encoding it gave): the file is finished."""
        return data + self.finish()

    def abandon(self) -> None:
        """Stop writing."""

    @property
    def duration(self) -> float:
        return self._encoder.duration if self._encoder is not None else 0.0


class _StreamEncoding(_Encoding):
    """A stream: bytes handed on as each piece is encoded, in a streamable layout."""

    streaming = True

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        super().__init__(fmt, rate)
        self._buffer = ChunkBuffer()

    def _sink(self) -> ChunkBuffer:
        return self._buffer

    def add(self, samples: Samples) -> bytes:
        super().add(samples)
        return self._buffer.drain()

    def finish(self) -> bytes:
        super().finish()
        return self._buffer.drain()


class _MemoryEncoding(_Encoding):
    """A whole file in memory, seekable so that WAV and FLAC headers state the length."""

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        super().__init__(fmt, rate)
        self.buffer = io.BytesIO()

    def _sink(self) -> BinaryIO:
        return self.buffer


class _FileEncoding(_Encoding):
    """An unfinished file beside `path`, renamed to `path` when whole."""

    def __init__(self, fmt: AudioFormat, rate: int, path: Path) -> None:
        super().__init__(fmt, rate)
        self._path = path
        self._unfinished = unfinished_name(path)
        self._file: BinaryIO | None = None
        self.size = 0
        """Bytes of the finished file (set by `finish`, on the executor's thread)."""

    def _sink(self) -> BinaryIO:
        self._file = self._unfinished.open("wb")
        return self._file

    def finish(self) -> bytes:
        """The file is flushed to disk before the rename: a job's link promises the file for
        its whole life, and a machine that crashes (not just the process) could otherwise
        bring back a renamed but empty file under a record that says done."""
        super().finish()
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._unfinished.replace(self._path)
        self.size = self._path.stat().st_size
        return b""

    def abandon(self) -> None:
        """The unfinished file goes."""
        if self._file is not None:
            self._file.close()
        self._unfinished.unlink(missing_ok=True)
