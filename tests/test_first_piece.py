"""A stream's first piece (issue 27): made by the engine's quick path (Kokoro: a session with
every core) and alone, the stream's other pieces started once it is out, and never waiting
behind busy threads; files and whole answers never take that path; Kokoro's quick session
says exactly what the shared one says."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import decode_in_process
from sayfile.audio.formats import Samples
from sayfile.engines.bounded import BoundedEngine
from sayfile.engines.tone import ToneEngine
from sayfile.models import Voice
from sayfile.settings import Settings
from sayfile.speech.pieces import FIRST_PIECES
from sayfile.speech.scheduler import Lane, SentenceExecutor
from sayfile.speech.synthesizer import Synthesizer
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import build_synthesizer

# Three sentences; the first is cut at its comma for a stream.
TEXT = "The first words come quickly, and the rest follow. Two three four. Five six seven."
# The tone voice: each word a 0.16 s beep and gap, each piece followed by a 0.2 s pause.
WORDS = len(TEXT.split())


class WatchedTone(ToneEngine):
    """The tone engine with a quick path for first pieces; it notes which path made each
    piece and when calls start and end. The quick path waits a little for another call to
    start: a stream whose look-ahead ran beside its first piece would show one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._other_started = threading.Event()

    def _note(self, what: str, text: str) -> None:
        with self._lock:
            self.calls.append((what, text))

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        self._note("start", text)
        self._other_started.set()
        try:
            return super().synthesize(voice, text, speed)
        finally:
            self._note("end", text)

    def synthesize_first(self, voice: Voice, text: str, speed: float) -> Samples:
        self._other_started.clear()
        self._note("start first", text)
        self._other_started.wait(0.3)
        samples = super().synthesize(voice, text, speed)
        self._note("end first", text)
        return samples


@pytest.fixture
def engine() -> WatchedTone:
    return WatchedTone()


@pytest.fixture
def synthesizer(engine: WatchedTone, tmp_path: Path) -> Iterator[Synthesizer]:
    settings = Settings(
        engines=["tone"], default_voice="tone:beep", parallel_sentences=2, data_dir=tmp_path
    )
    # Bounded as every engine is built, so the quick path goes through the time box too.
    catalogue = Catalogue([BoundedEngine(lambda: engine, 30.0)], "tone:beep")
    made = build_synthesizer(settings, catalogue=catalogue)
    yield made
    made.executor.close()
    made.catalogue.close()


async def streamed(synthesizer: Synthesizer, text: str) -> bytes:
    plan = synthesizer.planner.plan_of(text, "tone:beep", "mp3", 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "listener")
    return b"".join([chunk async for chunk in synthesizer.stream(plan, turn)])


def test_a_streams_first_pieces_are_made_alone_by_the_quick_path(
    synthesizer: Synthesizer, engine: WatchedTone
) -> None:
    data = asyncio.run(streamed(synthesizer, TEXT))

    plan = synthesizer.planner.plan_of(TEXT, "tone:beep", "mp3", 1.0)
    pieces = list(synthesizer.piece_words(plan, quick_start=True))
    assert pieces[:2] == ["The first words come quickly,", "and the rest follow."]
    assert len(pieces) > FIRST_PIECES == 3
    # The first pieces are the only ones made by the quick path, one after the other, and
    # nothing else of the stream started before they were made.
    assert engine.calls[: 2 * FIRST_PIECES] == [
        (what, piece) for piece in pieces[:FIRST_PIECES] for what in ("start first", "end first")
    ]
    # (the later pieces run two at a time, in either order)
    starts = [text for what, text in engine.calls if what == "start"]
    assert sorted(starts) == sorted(pieces[FIRST_PIECES:])
    # And the listener gets all of it (a streamed MP3 adds at most 0.11 s of padding).
    whole_s = WORDS * 0.16 + len(pieces) * 0.2
    assert whole_s - 0.01 <= decode_in_process(data, "mp3").duration_s <= whole_s + 0.11


def test_files_and_whole_answers_never_take_the_quick_path(
    synthesizer: Synthesizer, engine: WatchedTone, tmp_path: Path
) -> None:
    plan = synthesizer.planner.plan_of(TEXT, "tone:beep", "wav", 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "listener")
    asyncio.run(synthesizer.write(plan, tmp_path / "whole.wav", turn))
    asyncio.run(synthesizer.render(plan, synthesizer.executor.turn(Lane.interactive)))

    assert engine.calls
    assert all(what in ("start", "end") for what, _ in engine.calls)


@pytest.mark.slow
def test_kokoros_quick_session_says_exactly_what_the_shared_one_says() -> None:
    from sayfile.engines.kokoro import KokoroEngine

    kokoro = KokoroEngine(threads=1, first_piece_threads=2)
    try:
        voices = {voice.id: voice for voice in kokoro.voices()}
        if "kokoro:af_heart" not in voices:
            pytest.skip("Kokoro's voices are not installed (`make run`)")
        for voice_id, words in (
            ("kokoro:af_heart", "It was a bright cold day in April,"),
            ("kokoro:zf_xiaobei", "今天天气很好，"),
        ):
            kokoro.load_first_piece_session()
            quick = kokoro.synthesize_first(voices[voice_id], words, 1.0)
            kokoro._first_piece_threads = 1  # the same first piece on the shared session
            shared = kokoro.synthesize_first(voices[voice_id], words, 1.0)
            kokoro._first_piece_threads = 2
            assert shared.size > 24_000 // 2
            assert np.array_equal(shared, quick)
    finally:
        kokoro.close()


@pytest.mark.slow
def test_kokoros_first_piece_takes_more_threads_only_when_no_other_call_runs() -> None:
    """The first piece's session loads on a thread of its own, started by the first first
    piece, which takes the shared session meanwhile rather than wait; once loaded, a first
    piece takes it only alone: beside another call every core is taken already."""
    from sayfile.engines.kokoro import KokoroEngine

    kokoro = KokoroEngine(threads=1, first_piece_threads=2)
    inside, release = threading.Event(), threading.Event()
    words = "It was a bright cold day in April,"

    def held(model: object) -> str:
        inside.set()
        release.wait(30)
        return "hˈɛloʊ"

    try:
        voice = {voice.id: voice for voice in kokoro.voices()}.get("kokoro:af_heart")
        if voice is None:
            pytest.skip("Kokoro's voices are not installed (`make run`)")
        first = kokoro.synthesize_first(voice, words, 1.0)
        for _ in range(600):
            if kokoro._quick is not None:
                break
            time.sleep(0.1)
        assert kokoro._quick is not None
        made_quick: list[str] = []
        quick_run = kokoro._quick.timed

        def counted(*args: object) -> object:
            made_quick.append("quick")
            return quick_run(*args)

        kokoro._quick.timed = counted
        other = threading.Thread(target=kokoro._speak, args=(voice, 1.0, held))
        other.start()
        assert inside.wait(60)
        beside = kokoro.synthesize_first(voice, words, 1.0)
        assert made_quick == []
        release.set()
        other.join(60)
        alone = kokoro.synthesize_first(voice, words, 1.0)
        assert made_quick == ["quick"]
        assert np.array_equal(first, beside) and np.array_equal(beside, alone)
    finally:
        release.set()
        kokoro.close()


def test_an_urgent_step_runs_beside_busy_threads_and_an_ordinary_one_waits() -> None:
    """Both threads hold a long background step (a book's sentences); a stream's first piece
    starts at once on the spare thread, while an ordinary interactive step waits its turn."""
    executor = SentenceExecutor(2, "test-urgent")
    release = threading.Event()
    try:
        books = executor.turn(Lane.background, "books")
        running = [books.submit(lambda: release.wait(30), order) for order in range(2)]
        listener = executor.turn(Lane.interactive, "listener")
        while executor.waiting():  # both background steps taken by the threads
            time.sleep(0.01)
        ordinary = listener.submit(lambda: "ordinary", 0)
        first = executor.turn(Lane.interactive, "another").submit(lambda: "first", 0, urgent=True)
        assert first.result(timeout=30) == "first"
        assert not ordinary.done() and not any(step.done() for step in running)
        release.set()
        assert ordinary.result(timeout=30) == "ordinary"
    finally:
        release.set()
        executor.close()


class LineWatchingTone(ToneEngine):
    """The tone engine whose quick path, on its first call, waits (up to 2 s) for a step of
    the stream to be queued behind it, notes how many are, and frees the executor's thread
    that `blocker` holds."""

    def __init__(self) -> None:
        self.executor: SentenceExecutor | None = None
        self.blocker = threading.Event()
        self.queued: list[int] = []

    def synthesize_first(self, voice: Voice, text: str, speed: float) -> Samples:
        if not self.queued and self.executor is not None:
            deadline = time.monotonic() + 2.0
            while self.executor.waiting() < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.queued.append(self.executor.waiting())
            self.blocker.set()
        return super().synthesize(voice, text, speed)


def test_on_a_busy_executor_the_look_ahead_waits_in_line_beside_the_first_piece(
    tmp_path: Path,
) -> None:
    """With every thread busy (a job's sentence), the stream's first piece runs on the spare
    thread and the pieces after it are queued at once, to take the first thread that frees
    up, rather than after the first pieces are made."""
    engine = LineWatchingTone()
    settings = Settings(
        engines=["tone"], default_voice="tone:beep", parallel_sentences=1, data_dir=tmp_path
    )
    catalogue = Catalogue([BoundedEngine(lambda: engine, 30.0)], "tone:beep")
    made = build_synthesizer(settings, catalogue=catalogue)
    engine.executor = made.executor
    try:
        job = made.executor.turn(Lane.background, "books").submit(engine.blocker.wait, 0)
        deadline = time.monotonic() + 5.0
        while made.executor.thread_free() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not made.executor.thread_free()
        data = asyncio.run(streamed(made, TEXT))
        assert job.result(timeout=5.0) is True
        assert engine.queued and engine.queued[0] >= 1, engine.queued
        plan = made.planner.plan_of(TEXT, "tone:beep", "mp3", 1.0)
        whole_s = WORDS * 0.16 + len(list(made.piece_words(plan, quick_start=True))) * 0.2
        assert whole_s - 0.01 <= decode_in_process(data, "mp3").duration_s <= whole_s + 0.11
    finally:
        made.executor.close()
        catalogue.close()
