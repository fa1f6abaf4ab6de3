"""The sentence executor on its own: who goes first (lane, client turns, request, order),
cancelled and failed steps, closing and restarting, and the bound on steps at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from sayfile.speech.scheduler import Lane, SentenceExecutor

WAIT_S = 5.0
NAME = "test-sentence"


class Log:
    """Labels of the steps in the order they started, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.labels: list[str] = []

    def step(self, label: str) -> Callable[[], str]:
        def run() -> str:
            with self._lock:
                self.labels.append(label)
            return label

        return run


class Gate:
    """A step that holds the executor's thread until the test opens it, so that everything
    queued meanwhile is ordered by the executor alone when it is released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> str:
        self.entered.set()
        if not self.opened.wait(WAIT_S):
            raise TimeoutError("the gate was never opened")
        return "gate"

    def block(self, executor: SentenceExecutor) -> Future[str]:
        """Occupy one of `executor`'s threads; return once the gate step is running."""
        future = executor.turn(Lane.interactive, "gate").submit(self, 0)
        assert self.entered.wait(WAIT_S), "the gate step never started"
        return future

    def open(self) -> None:
        self.opened.set()


def finished(futures: list[Future[Any]]) -> list[Any]:
    return [future.result(timeout=WAIT_S) for future in futures]


def when_done(future: Future[Any]) -> threading.Event:
    """An event set when `future` is done, cancelled included (which `concurrent.futures.wait`
    does not notice until a thread takes the step)."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    return done


def alive() -> int:
    return sum(thread.name.startswith(NAME) for thread in threading.enumerate())


@pytest.fixture
def executor() -> Iterator[SentenceExecutor]:
    executor = SentenceExecutor(1, NAME)
    yield executor
    executor.close()


@pytest.fixture
def gate(executor: SentenceExecutor) -> Iterator[Gate]:
    # Set up after the executor, so torn down before it: close() never waits on a shut gate.
    gate = Gate()
    yield gate
    gate.open()


def test_interactive_steps_go_before_background_ones_queued_earlier(
    executor: SentenceExecutor, gate: Gate
) -> None:
    log = Log()
    gate.block(executor)
    book = executor.turn(Lane.background, "reader")
    futures = [book.submit(log.step(f"book{n}"), n) for n in range(3)]
    listen = executor.turn(Lane.interactive, "listener")
    futures += [listen.submit(log.step(f"listen{n}"), n) for n in range(2)]
    gate.open()
    finished(futures)
    assert log.labels == ["listen0", "listen1", "book0", "book1", "book2"]


def test_background_clients_take_turns_one_step_at_a_time(
    executor: SentenceExecutor, gate: Gate
) -> None:
    log = Log()
    gate.block(executor)
    a = executor.turn(Lane.background, "a")
    futures = [a.submit(log.step(f"A{n}"), n) for n in range(10)]
    b = executor.turn(Lane.background, "b")
    futures += [b.submit(log.step(f"B{n}"), n) for n in range(3)]
    gate.open()
    finished(futures)
    assert log.labels == ["A0", "B0", "A1", "B1", "A2", "B2", *(f"A{n}" for n in range(3, 10))]


def test_a_clients_earlier_request_goes_first_and_steps_by_order(
    executor: SentenceExecutor, gate: Gate
) -> None:
    log = Log()
    gate.block(executor)
    first = executor.turn(Lane.background, "a")
    second = executor.turn(Lane.background, "a")
    # Submitted out of order on purpose: the later request and the higher orders first.
    futures = [
        second.submit(log.step("second0"), 0),
        first.submit(log.step("first2"), 2),
        second.submit(log.step("second1"), 1),
        first.submit(log.step("first0"), 0),
        first.submit(log.step("first1"), 1),
    ]
    gate.open()
    finished(futures)
    assert log.labels == ["first0", "first1", "first2", "second0", "second1"]


def test_a_cancelled_step_never_runs(executor: SentenceExecutor, gate: Gate) -> None:
    log = Log()
    gate.block(executor)
    turn = executor.turn(Lane.interactive, "a")
    futures = [turn.submit(log.step(label), n) for n, label in enumerate("xyz")]
    assert futures[1].cancel()
    gate.open()
    assert finished([futures[0], futures[2]]) == ["x", "z"]
    assert futures[1].cancelled()
    assert log.labels == ["x", "z"]


async def test_cancelling_a_wait_cancels_its_queued_step(
    executor: SentenceExecutor, gate: Gate
) -> None:
    log = Log()
    gate.block(executor)
    turn = executor.turn(Lane.interactive, "a")
    waiting = asyncio.create_task(turn.run(log.step("abandoned"), 0))
    await asyncio.sleep(0)  # the task submits its step
    assert executor.waiting() == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    later = turn.submit(log.step("later"), 1)
    gate.open()
    assert await asyncio.wrap_future(later) == "later"
    assert log.labels == ["later"]


def test_an_error_is_set_on_its_future_and_the_next_step_still_runs(
    executor: SentenceExecutor,
) -> None:
    def broken() -> str:
        raise ValueError("broken step")

    turn = executor.turn(Lane.background, "a")
    failed = turn.submit(broken, 0)
    after = turn.submit(lambda: "after", 1)
    error = failed.exception(timeout=WAIT_S)
    assert isinstance(error, ValueError)
    assert str(error) == "broken step"
    assert after.result(timeout=WAIT_S) == "after"


async def test_run_raises_the_steps_error_and_returns_its_result(
    executor: SentenceExecutor,
) -> None:
    def broken() -> str:
        raise ValueError("broken step")

    turn = executor.turn(Lane.interactive)
    with pytest.raises(ValueError, match="broken step"):
        await turn.run(broken)
    assert await turn.run(lambda: 6 * 7) == 42
    assert await executor.run(lambda: "loaded") == "loaded"


def test_close_cancels_queued_steps_and_a_later_submit_starts_again(
    executor: SentenceExecutor, gate: Gate
) -> None:
    log = Log()
    assert alive() == 0  # nothing started before the first use
    running = gate.block(executor)
    assert alive() == 1
    turn = executor.turn(Lane.background, "a")
    queued = [turn.submit(log.step(f"q{n}"), n) for n in range(3)]
    assert executor.waiting() == 3
    cancelled = [when_done(future) for future in queued]
    closing = threading.Thread(target=executor.close)
    closing.start()
    # close() cancels what is queued at once and then waits for the running gate step.
    assert all(event.wait(WAIT_S) for event in cancelled)
    assert all(future.cancelled() for future in queued)
    assert executor.waiting() == 0
    gate.open()
    closing.join(WAIT_S)
    assert not closing.is_alive()
    assert running.result(timeout=0) == "gate"
    assert alive() == 0
    assert log.labels == []

    again = executor.turn(Lane.background, "a").submit(log.step("again"), 0)
    assert again.result(timeout=WAIT_S) == "again"
    assert alive() == 1


def test_close_waits_for_an_urgent_step_on_the_spare_thread(
    executor: SentenceExecutor, gate: Gate
) -> None:
    gate.block(executor)
    spare = Gate()
    urgent = executor.turn(Lane.interactive, "stream").submit(spare, 0, urgent=True)
    assert spare.entered.wait(WAIT_S), "the urgent step did not start beside the busy thread"
    closing = threading.Thread(target=executor.close)
    closing.start()
    gate.open()
    closing.join(0.2)
    assert closing.is_alive(), "close() returned while the urgent step still ran"
    spare.open()
    closing.join(WAIT_S)
    assert not closing.is_alive()
    assert urgent.result(timeout=0) == "gate"
    assert alive() == 0


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_steps_run_threads_at_a_time_and_never_more(threads: int) -> None:
    lock = threading.Lock()
    # Every step waits for `threads - 1` others to be running with it: this only completes
    # when that many run at once.
    together = threading.Barrier(threads, timeout=WAIT_S)
    running = 0
    most = 0

    def step() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            together.wait()
            time.sleep(0.002)  # long enough for an extra thread, if any, to start a step too
        finally:
            with lock:
                running -= 1

    executor = SentenceExecutor(threads, NAME)
    try:
        turns = [executor.turn(lane, client) for lane in Lane for client in "abc"]
        futures = [turn.submit(step, n) for n in range(threads * 2) for turn in turns]
        finished(futures)
        assert alive() == threads
    finally:
        executor.close()
    assert most == threads


def test_an_interactive_step_waits_for_at_most_one_step_of_a_long_background_turn(
    executor: SentenceExecutor,
) -> None:
    lock = threading.Lock()
    # Each background step notes whether the interactive one had been submitted when it
    # started; the interactive step notes how many background steps started before it.
    started: list[bool] = []
    submitted = threading.Event()
    fourth_started = threading.Event()

    def background(number: int) -> Callable[[], None]:
        def run() -> None:
            with lock:
                started.append(submitted.is_set())
            if number == 3:
                fourth_started.set()
            time.sleep(0.02)

        return run

    def interactive() -> int:
        with lock:
            return len(started)

    book = executor.turn(Lane.background, "reader")
    for number in range(50):
        book.submit(background(number), number)
    assert fourth_started.wait(WAIT_S)
    submitted.set()
    before = executor.turn(Lane.interactive, "listener").submit(interactive, 0).result(WAIT_S)
    with lock:
        ahead = started[:before]
    assert 4 <= before < 50
    # Steps that started after it was submitted and before it ran: at most the one a thread
    # may have taken at that very moment.
    assert sum(ahead) <= 1


def test_a_voices_set_up_never_takes_the_last_free_thread() -> None:
    """One client switching voices makes a heavy step (a voice's set-up, seconds long) per
    voice; with two threads, one of those runs at a time and the other thread takes another
    client's sentence at once, and the heavy steps then go on in their order."""
    executor = SentenceExecutor(2, NAME)
    try:
        setting_up = Gate()
        switcher = executor.turn(Lane.interactive, "switcher")
        first = switcher.submit(setting_up, 0, heavy=True)
        assert setting_up.entered.wait(WAIT_S)
        log = Log()
        later = [switcher.submit(log.step(f"voice {n}"), n, heavy=True) for n in (1, 2)]
        other = executor.turn(Lane.interactive, "other").submit(log.step("one sentence"), 0)
        assert other.result(timeout=WAIT_S) == "one sentence"
        # The second voice's set-up waited for the first: only the other client ran.
        assert log.labels == ["one sentence"]
        setting_up.open()
        assert finished([first, *later]) == ["gate", "voice 1", "voice 2"]
        assert log.labels == ["one sentence", "voice 1", "voice 2"]
    finally:
        executor.close()


def test_a_heavy_step_runs_alone_on_one_thread() -> None:
    """With one thread there is no thread to keep free: a heavy step runs as any other."""
    executor = SentenceExecutor(1, NAME)
    try:
        future = executor.turn(Lane.background, "a").submit(lambda: "set up", 0, heavy=True)
        assert future.result(timeout=WAIT_S) == "set up"
    finally:
        executor.close()


def test_a_thread_is_free_only_while_running_and_queued_steps_leave_one() -> None:
    executor = SentenceExecutor(2, NAME)
    first, second = Gate(), Gate()
    try:
        assert executor.thread_free()
        first.block(executor)
        assert executor.thread_free()  # one of two threads runs a step
        second.block(executor)
        assert not executor.thread_free()
        queued = executor.turn(Lane.background, "book").submit(Log().step("x"), 1)
        assert not executor.thread_free()
        first.open()
        assert queued.result(timeout=WAIT_S) == "x"
        deadline = time.monotonic() + WAIT_S
        while not executor.thread_free() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert executor.thread_free()  # the second gate still runs: one thread of two
        second.open()
    finally:
        first.open()
        second.open()
        executor.close()


def test_a_steps_thread_is_free_by_the_time_its_result_is_seen() -> None:
    """A stream starts its next first piece alone when its last one's result arrives, if a
    thread is free: the thread that made that result must count as free by then (it did not,
    and the next piece was started beside the one after it, once in a loaded test run)."""
    executor = SentenceExecutor(1, NAME)
    seen: list[bool] = []
    try:
        turn = executor.turn(Lane.interactive, "listener")
        # The done-callback runs in the thread that settles the future, at that moment.
        future = turn.submit(lambda: "piece", 0)
        future.add_done_callback(lambda _: seen.append(executor.thread_free()))
        assert future.result(timeout=WAIT_S) == "piece"
        deadline = time.monotonic() + WAIT_S
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [True]
    finally:
        executor.close()
