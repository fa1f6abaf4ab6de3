"""The ordered pipeline: a plan's pieces made on the process's sentence executor a few ahead,
in the request's turns, each handed to its consumer in order as soon as it is due; what is
said when (each piece to the sample, each mark), progress after each piece, and the unfinished
output abandoned off the event loop."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from sayfile.audio.formats import Samples
from sayfile.audio.timings import Timing, Timings
from sayfile.errors import NoSpeech
from sayfile.speech.in_order import InOrder, with_last_flag
from sayfile.speech.piece_audio import PieceAudio, StepResult
from sayfile.speech.pieces import Piece, PieceCutter
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Turn
from sayfile.speech.word_times import SpokenWords
from sayfile.voices.catalogue import Catalogue

T = TypeVar("T")

Progress = Callable[[float], Awaitable[None]]
"""Awaited with the fraction of the text (0..1) spoken so far, after each sentence."""

Observer = Callable[[str, float, float], None]
"""Called after each sentence with the engine, its computing seconds and the audio seconds."""

_NO_WORDS = (
    "times of single words are not known: only Kokoro's voices, Piper's and espeak-ng's "
    "report them; each piece (a sentence, or a short run of them) is timed exactly, to the "
    "sample"
)


class Pipeline:
    """Runs plans' pieces (`cutter`) through their engines (`audio`), at most `ahead` steps
    of one request queued or running at once; `observer` hears of each piece."""

    def __init__(
        self, cutter: PieceCutter, catalogue: Catalogue, ahead: int, observer: Observer | None
    ) -> None:
        self._cutter = cutter
        self.audio = PieceAudio(catalogue)
        """Each piece's audio: engines, loudness levels, each language's way of saying words."""
        self._ahead = ahead
        self._observer = observer
        self.first_alone = True
        """Whether each of a stream's first pieces (`Piece.first`) is made alone, its
        look-ahead not started beside it while a thread is free, so that the stream's own
        next pieces do not take the cores it needs (bench/first_byte.py measures both
        ways)."""

    async def run(
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
        words: SpokenWords | None = None,
    ) -> AsyncGenerator[T, None]:
        """Yield `consume(samples)` for each piece in order, all at `plan.voice`'s rate.
        `consume` (an encoder's step) runs on the thread that synthesized the piece due next,
        right after it, so that no step has to wait behind a later piece's synthesis for a
        thread; `last` (finishing the file) runs there too after the last piece, on what
        `consume` gave for it. Each piece's words and where they are heard in the audio (to
        the sample) go to `heard`, its words to `words`, and the moments of its marks to
        `marked`. If it ends
        before the last piece (an error, a cancellation), `abandon` runs on a thread once no
        thread is encoding any more: the event loop never waits for an encoder or an fsync."""
        finishing = self.audio.finishing(plan)
        rate = finishing.rate
        source = with_last_flag(enumerate(self._cutter.pieces(plan, quick_start)))
        in_order = InOrder(consume, last)
        pending: deque[tuple[Piece, Future[StepResult]]] = deque()

        def refill() -> None:
            # A stream's first pieces run alone: the look-ahead is not started beside one on
            # a free thread. Where no thread is free (a server busy with jobs' sentences) it
            # is queued at once, to take the first thread that frees up (docs/benchmarks.md,
            # "First byte on a quiet machine, and the first two pieces alone").
            while len(pending) < self._ahead:
                if self.first_alone and pending and pending[-1][0].first and turn.thread_free():
                    return
                taken = next(source, None)
                if taken is None:
                    return
                (index, piece), final = taken
                step = self.audio.step(piece, index, final, finishing, in_order)
                # A voice not set up yet makes this step heavy: it runs in this client's turns
                # like any other, but never on the last thread free for other clients. A
                # stream's first piece is urgent: it never waits behind pieces running.
                pending.append((piece, turn.submit(step, index, step.heavy, piece.first)))

        total = len(plan.words)
        done = 0
        cursor = 0
        whole = False
        sentence = 0
        try:
            refill()
            index = 0
            while pending:
                piece, future = pending[0]
                made = await asyncio.wrap_future(future)
                size, lead, seconds, said = made.size, made.lead, made.seconds, made.words
                pending.popleft()
                refill()
                if self._observer is not None:
                    self._observer(piece.voice.engine, seconds, size / rate)
                begins = (cursor + lead) / rate
                if heard is not None and piece.text:
                    end = (cursor + size) / rate
                    heard.append(Timing(begins, end, piece.text, piece.voice.id))
                if words is not None and piece.text:
                    words.add(piece.text, sentence, cursor / rate, said)
                    sentence += 1
                if marked is not None:
                    marked.extend(Timing(begins, begins, name) for name in piece.marks)
                    for after, name in made.marks_within:
                        marked.append(Timing(cursor / rate + after, cursor / rate + after, name))
                cursor += size
                yield in_order.result(index)
                index += 1
                done += len(piece.text) + 1
                if progress is not None:
                    await progress(min(done / total, 1.0))
            if not cursor:
                raise NoSpeech(plan.voice.id)  # a file of nothing is no answer
            whole = True
        finally:
            in_order.close()
            for _, future in pending:
                future.cancel()
            if not whole and abandon is not None:
                # Shielded: it runs (and the file is closed) even if this task is cancelled
                # again meanwhile, which would otherwise take it out of the pool's queue.
                await asyncio.shield(asyncio.to_thread(in_order.after_consumers, abandon))


def timings_of(
    heard: list[Timing],
    duration: float,
    marked: list[Timing] | None = None,
    words: SpokenWords | None = None,
) -> Timings:
    """The timings of a finished file: its pieces (each an alias changed with its text as
    written), its marks, and its words, or a note where they are not known."""
    pieces = tuple(heard) if words is None else words.pieces(heard)
    if words is not None and words.known:
        return Timings(pieces, tuple(words.words), duration, None, tuple(marked or ()))
    return Timings(pieces, None, duration, _NO_WORDS, tuple(marked or ()))
