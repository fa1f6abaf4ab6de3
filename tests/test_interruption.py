"""A stream's first piece made on every core while books are being made: the background steps
running give their cores back and run again from their start, in their place; nothing they
made is lost, none is interrupted for ever, and none waits for ever when the executor closes.
On the executor alone, and on Kokoro's real model (its call ended by onnxruntime)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future

import numpy as np
import pytest

import sayfile.speech.scheduler as scheduler
from sayfile.engines.kokoro import KokoroEngine
from sayfile.interruption import Interrupted, Interruption, current, interruptible
from sayfile.speech.scheduler import Lane, SentenceExecutor

WAIT_S = 10.0


class Work:
    """A step that works for `seconds` on its thread, giving its core back when asked (as a
    Kokoro call does); it counts its runs and how many of it run at once, and sets `started`
    once its work (after `lead_s`) has begun."""

    running = 0
    lock = threading.Lock()

    def __init__(self, seconds: float, lead_s: float = 0.0) -> None:
        self.seconds = seconds
        self.lead_s = lead_s  # first, work that cannot be ended (phonemes, say)
        self.runs = 0
        self.started = threading.Event()

    def __call__(self) -> str:
        asked = current()
        stop = threading.Event()
        with Work.lock:
            self.runs += 1
            Work.running += 1
        try:
            time.sleep(self.lead_s)
            if asked is None:
                self.started.set()
                time.sleep(self.seconds)
            else:
                # Started once it can be ended: a request before would find nothing to end
                # and not wait for the core (as for a step still in its phonemes).
                with asked.stoppable(stop.set):
                    self.started.set()
                    if stop.wait(self.seconds):
                        raise Interrupted("asked to give its core back")
        finally:
            with Work.lock:
                Work.running -= 1
        return f"made in run {self.runs}"


def urgent_step(executor: SentenceExecutor, seen: list[int]) -> Future[float]:
    """A stream's first piece: notes how many `Work` steps run beside it, gives when it
    started."""

    def piece() -> float:
        seen.append(Work.running)
        time.sleep(0.2)
        seen.append(Work.running)
        return time.monotonic()

    return executor.turn(Lane.interactive, "stream").submit(piece, 0, urgent=True)


@pytest.fixture
def executor() -> Iterator[SentenceExecutor]:
    executor = SentenceExecutor(2, "test-interrupted")
    yield executor
    executor.close(WAIT_S)


def test_a_streams_first_piece_runs_alone_and_the_books_steps_run_again_to_their_end(
    executor: SentenceExecutor,
) -> None:
    books = [Work(2.0), Work(2.0)]
    futures = [
        executor.turn(Lane.background, f"book {n}").submit(work, 0) for n, work in enumerate(books)
    ]
    assert all(work.started.wait(WAIT_S) for work in books)
    seen: list[int] = []
    asked = time.monotonic()
    started = urgent_step(executor, seen).result(WAIT_S)
    # The books' steps ended at once, and none started again until the piece was made.
    assert started - asked < 0.8
    assert seen == [0, 0]
    assert [future.result(WAIT_S) for future in futures] == ["made in run 2"] * 2


def test_a_streams_next_first_piece_runs_alone_too(executor: SentenceExecutor) -> None:
    # Between two first pieces the books' steps stay held: one started in between would be
    # in its phonemes (which cannot be ended) when the next piece came, and run beside it.
    books = [Work(2.0, lead_s=0.1), Work(2.0, lead_s=0.1)]
    futures = [
        executor.turn(Lane.background, f"book {n}").submit(work, 0) for n, work in enumerate(books)
    ]
    assert all(work.started.wait(WAIT_S) for work in books)
    time.sleep(0.2)
    seen: list[int] = []
    for _ in range(3):  # the stream's first pieces, each once the one before is made
        urgent_step(executor, seen).result(WAIT_S)
    assert seen == [0] * 6
    assert [future.result(WAIT_S) for future in futures] == ["made in run 2"] * 2


def test_a_step_someone_waits_for_takes_the_thread_of_one_books_step(
    executor: SentenceExecutor,
) -> None:
    # A stream's later piece, a download's: the book begun last gives its thread back, the
    # other goes on.
    first, last = Work(2.0), Work(2.0)
    futures = [executor.turn(Lane.background, "book 1").submit(first, 0)]
    assert first.started.wait(WAIT_S)
    futures.append(executor.turn(Lane.background, "book 2").submit(last, 0))
    assert last.started.wait(WAIT_S)
    asked = time.monotonic()
    began = executor.turn(Lane.interactive, "download").submit(time.monotonic, 0).result(WAIT_S)
    assert began - asked < 1.0
    assert [future.result(WAIT_S) for future in futures] == ["made in run 1", "made in run 2"]


def test_steps_of_people_waiting_and_a_voices_set_up_are_never_interrupted(
    executor: SentenceExecutor,
) -> None:
    download = Work(0.6)
    set_up = Work(0.6)
    futures = [
        executor.turn(Lane.interactive, "download").submit(download, 0),
        executor.turn(Lane.background, "book").submit(set_up, 0, heavy=True),
    ]
    assert download.started.wait(WAIT_S) and set_up.started.wait(WAIT_S)
    seen: list[int] = []
    urgent_step(executor, seen).result(WAIT_S)
    assert seen[0] == 2  # beside both, on the spare thread
    assert [future.result(WAIT_S) for future in futures] == ["made in run 1"] * 2


def test_a_piece_does_not_wait_for_a_step_that_cannot_give_its_core_back(
    executor: SentenceExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Piper sentence runs on to its end when asked: the piece runs beside it at once, not
    # after the wait for cores given back (made long here, so that waiting would show).
    monkeypatch.setattr(scheduler, "_GIVEN_BACK_WAIT_S", 3.0)
    started = threading.Event()

    def piper_sentence() -> str:
        started.set()
        time.sleep(1.5)
        return "made"

    future = executor.turn(Lane.background, "book").submit(piper_sentence, 0)
    assert started.wait(WAIT_S)
    asked = time.monotonic()
    assert urgent_step(executor, []).result(WAIT_S) - asked < 1.0
    assert future.result(WAIT_S) == "made"


def test_a_step_that_has_lost_enough_work_runs_to_its_end(
    executor: SentenceExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "MOST_LOST_S", 0.3)
    book = Work(1.0)
    future = executor.turn(Lane.background, "book").submit(book, 0)
    assert book.started.wait(WAIT_S)
    time.sleep(0.4)
    urgent_step(executor, []).result(WAIT_S)  # the book's step loses 0.4 s
    deadline = time.monotonic() + WAIT_S
    while book.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    seen: list[int] = []
    urgent_step(executor, seen).result(WAIT_S)
    assert seen[0] == 1  # not interrupted again: the piece was made beside it
    assert future.result(WAIT_S) == "made in run 2"


def test_closing_settles_a_step_waiting_to_run_again(executor: SentenceExecutor) -> None:
    book = Work(5.0)
    future = executor.turn(Lane.background, "book").submit(book, 0)
    assert book.started.wait(WAIT_S)
    opened = threading.Event()

    def piece() -> None:
        opened.wait(WAIT_S)

    executor.turn(Lane.interactive, "stream").submit(piece, 0, urgent=True)
    deadline = time.monotonic() + WAIT_S
    while Work.running and time.monotonic() < deadline:
        time.sleep(0.01)
    # The book's step waits to run again behind the piece; the executor closes meanwhile.
    threading.Timer(0.2, opened.set).start()
    executor.close(WAIT_S)
    with pytest.raises(CancelledError):
        future.result(WAIT_S)
    assert book.runs == 1


def test_an_interruption_asked_before_the_call_ends_it_as_it_begins() -> None:
    asked = Interruption()
    asked.request()
    with pytest.raises(Interrupted), asked.stoppable(lambda: None):
        pass


@pytest.mark.slow  # the model's tokenizer finds espeak-ng's library through ldconfig
def test_kokoros_call_ends_when_asked_and_the_next_says_the_same(kokoro: KokoroEngine) -> None:
    voice = {voice.id: voice for voice in kokoro.voices()}["kokoro:af_heart"]
    text = "The river ran slowly past the mill, and the children played on its banks until dark."
    alone = kokoro.synthesize(voice, text, 1.0)
    asked = Interruption()
    timer = threading.Timer(0.3, asked.request)
    timer.start()
    began = time.monotonic()
    with pytest.raises(Interrupted), interruptible(asked):
        kokoro.synthesize(voice, text, 1.0)
    assert time.monotonic() - began < 0.3 + 0.5  # within a node or a few of the graph
    timer.join()
    with interruptible(Interruption()):
        again = kokoro.synthesize(voice, text, 1.0)
    assert np.array_equal(again, alone)
