"""The process's one sentence executor: a few threads that run every blocking step of speech
(a sentence through an engine, a piece through an encoder) in fair turns.

Interactive work (someone waiting for the answer now: a direct download, a stream) goes
before background work (jobs fetched later by link). Within a lane, clients take turns one
step at a time, so one client's ten books do not starve another client's one; a client's own
requests go in the order they came. No request holds a thread between its steps.

A step that sets a voice up (its first loudness measurement, a model or reader loaded) takes
seconds rather than one sentence's time; such `heavy` steps run on all threads but one, so a
client switching through every voice never keeps another client's one sentence waiting for
more than an ordinary step.

An `urgent` step (a stream's first piece: someone waits for the first word) that finds every
thread busy does not wait behind steps that take seconds each with a neural voice: it runs at
once on one spare thread. It runs alone, on every core: the background steps running are
asked to give their cores back (interruption.py: a Kokoro call ends within 20-60 ms), and no
background step starts until it is done. Any other interactive step that finds no thread
waiting takes the thread of one background step so. An interrupted step runs again from its
start, its place in line kept; a step that has lost `MOST_LOST_S` of work so is not
interrupted again, so that books slow down beside people waiting but never stop.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from sayfile.interruption import Interrupted, Interruption, interruptible

T = TypeVar("T")
# A background step is interrupted only while it has lost less work so (seconds: a sentence).
MOST_LOST_S = 4.0
# After an urgent step, background steps wait this long more: a stream's next first piece comes
# right after it, and a book's step begun in between would run beside that in its phonemes.
_HELD_AFTER_S = 0.25
# How long an urgent step waits for the engine calls it asked to end (within a node or two).
_GIVEN_BACK_WAIT_S = 0.3


def _nothing_to_settle() -> None:
    """For a step cancelled before it ran: its future is settled already."""


def _cancel(step: _Step) -> None:
    """Cancel a step that will not run; one interrupted before, whose future was set running
    then, gets CancelledError as its outcome."""
    if not step.future.cancel() and not step.future.done():
        step.future.set_exception(CancelledError("the sentence executor was closed"))


class Lane(IntEnum):
    """Which work goes first: a lower lane always wins."""

    interactive = 0
    background = 1


@dataclass(order=True)
class _Step:
    # Ordered by the request's place in its client's line, then the step's place in the
    # request (a sentence's number), then when it was submitted.
    key: tuple[int, int, int]
    future: Future[Any] = field(compare=False)
    fn: Callable[[], Any] = field(compare=False)
    heavy: bool = field(default=False, compare=False)
    lane: Lane = field(default=Lane.interactive, compare=False)
    client: str = field(default="", compare=False)
    urgent: bool = field(default=False, compare=False)
    # In the background lane: how it is asked to give its core back, when it began, and the
    # seconds of work it lost to interruptions before.
    interruption: Interruption | None = field(default=None, compare=False)
    giving_back: bool = field(default=False, compare=False)  # asked, in a call that ends so
    began: float = field(default=0.0, compare=False)
    lost_s: float = field(default=0.0, compare=False)


class _LaneQueue:
    """One lane: a heap of steps per client, and the clients with steps in turn order."""

    def __init__(self) -> None:
        self.steps: dict[str, list[_Step]] = {}
        self.turns: deque[str] = deque()

    def put(self, client: str, step: _Step) -> None:
        heap = self.steps.get(client)
        if heap is None:
            heap = self.steps[client] = []
            self.turns.append(client)
        heapq.heappush(heap, step)

    def take(self, heavy: bool = True) -> _Step | None:
        """The next step in turn; with `heavy` False, of the first client in turn whose next
        step is not heavy (the clients passed over keep their places)."""
        client = next((c for c in self.turns if heavy or not self.steps[c][0].heavy), None)
        if client is None:
            return None
        self.turns.remove(client)
        heap = self.steps[client]
        step = heapq.heappop(heap)
        if heap:
            self.turns.append(client)
        else:
            del self.steps[client]
        return step

    def drain(self) -> list[_Step]:
        steps = [step for heap in self.steps.values() for step in heap]
        self.steps.clear()
        self.turns.clear()
        return steps


class Turn:
    """One request's place in line: its steps run in order of submission (their `order`),
    in its lane, in its client's turns."""

    def __init__(self, executor: SentenceExecutor, lane: Lane, client: str, place: int) -> None:
        self.executor = executor
        self.lane = lane
        self.client = client
        self._place = place

    def submit(
        self, fn: Callable[[], T], order: int, heavy: bool = False, urgent: bool = False
    ) -> Future[T]:
        """Queue `fn()`; `order` ranks it among this request's steps (lower first). A
        `heavy` step (a voice's set-up) never takes the last thread free for other steps; an
        `urgent` one runs on the spare thread when no thread is free (and the spare is)."""
        return self.executor._put(self, (self._place, order), fn, heavy, urgent)

    async def run(self, fn: Callable[[], T], order: int = 0) -> T:
        """Run `fn()` on the executor and wait for it; cancelling the wait cancels the step
        unless it has started."""
        return await asyncio.wrap_future(self.submit(fn, order))

    def thread_free(self) -> bool:
        """Whether a thread waits for work: a step submitted now would start at once rather
        than wait in line."""
        return self.executor.thread_free()


class SentenceExecutor:
    """`threads` threads, started on first use; however many requests there are, at most
    `threads` steps run at a time, and one urgent step more. `close()` stops them; a later
    submit starts them again."""

    def __init__(self, threads: int, name: str = "sentence") -> None:
        if threads < 1:
            raise ValueError("a sentence executor needs at least one thread")
        self.threads = threads
        self._name = name
        self._lanes = {lane: _LaneQueue() for lane in Lane}
        self._ready = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._stopping = False
        self._places = itertools.count()
        self._submitted = itertools.count()
        # Heavy steps running now, and how many may (one thread is kept for the others).
        self._heavy = 0
        self._most_heavy = max(1, threads - 1)
        # Steps the threads run now (the spare's not counted), threads waiting for a step,
        # and whether the spare thread runs an urgent one.
        self._running = 0
        self._idle = 0
        self._spare_busy = False
        self._spare_thread: threading.Thread | None = None
        # Whether background steps are interrupted (a bench compares without); the steps the
        # threads run, by id; urgent steps not done; steps asked to give their cores back.
        self.interrupting = True
        self._active: dict[int, _Step] = {}
        self._urgent = 0
        self._held_until = 0.0
        self._giving_back = 0

    def turn(self, lane: Lane, client: str = "") -> Turn:
        """A new request's place in line, behind the client's earlier requests."""
        return Turn(self, lane, client, next(self._places))

    async def run(self, fn: Callable[[], T], lane: Lane = Lane.interactive) -> T:
        """Run one blocking call (loading voices at start-up) and wait for it."""
        return await self.turn(lane).run(fn)

    def _put(
        self,
        turn: Turn,
        key: tuple[int, int],
        fn: Callable[[], T],
        heavy: bool = False,
        urgent: bool = False,
    ) -> Future[T]:
        future: Future[T] = Future()
        with self._ready:
            if not self._workers:
                self._start()
            step = _Step((*key, next(self._submitted)), future, fn, heavy, turn.lane, turn.client)
            if urgent and self.interrupting:
                step.urgent = True
                self._urgent += 1
                self._interrupt_background(len(self._active))
            elif turn.lane is Lane.interactive and self.interrupting and not self._idle:
                # Someone waits for it (a stream's next piece, a download's): the thread of
                # one book's step, the one begun last, which loses least.
                self._interrupt_background(1)
            if urgent and not self._idle and not self._spare_busy:
                self._spare_busy = True
                name = f"{self._name}-spare"
                spare = threading.Thread(target=self._spare, args=(step,), name=name, daemon=True)
                self._spare_thread = spare
                spare.start()
                return future
            self._lanes[turn.lane].put(turn.client, step)
            self._ready.notify()
        return future

    def _interrupt_background(self, most: int) -> None:
        """Ask up to `most` of the background steps running to give their cores back, the
        last begun first, of those that have not lost `MOST_LOST_S` of work so already (call
        with `_ready` held)."""
        found = [
            (step.began, step, asked)
            for step in self._active.values()
            if (asked := step.interruption) and not asked.requested and step.lost_s < MOST_LOST_S
        ]
        for _, step, asked in sorted(found, key=lambda found: found[0], reverse=True)[:most]:
            step.giving_back = asked.request()
            self._giving_back += step.giving_back

    def _wait_for_cores(self) -> None:
        """Before an urgent step: wait (a little) for the engine calls it asked to end."""
        deadline = time.monotonic() + _GIVEN_BACK_WAIT_S
        with self._ready:
            while self._giving_back and (left := deadline - time.monotonic()) > 0:
                self._ready.wait(left)

    def _spare(self, step: _Step) -> None:
        settle: Callable[[], None] | None = _nothing_to_settle
        try:
            self._wait_for_cores()
            settle = self._run(step)
        finally:
            with self._ready:
                self._spare_busy = False
                self._urgent_done(step)
            if settle is not None:
                settle()

    def _start(self) -> None:
        self._stopping = False
        for number in range(self.threads):
            thread = threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def _take(self) -> _Step | None:
        with self._ready:
            while True:
                if self._stopping:
                    return None
                for lane in self._open_lanes():
                    step = self._lanes[lane].take(heavy=self._heavy < self._most_heavy)
                    if step is not None:
                        self._heavy += step.heavy
                        self._running += 1
                        self._active[id(step)] = step
                        step.began = time.monotonic()
                        if lane is Lane.background and not step.heavy:
                            step.interruption = Interruption()
                        return step
                self._idle += 1
                try:
                    # Held for `_HELD_AFTER_S` only: looked at again when that is over.
                    held = self._held_until - time.monotonic() if not self._urgent else 0.0
                    self._ready.wait(held if held > 0 else None)
                finally:
                    self._idle -= 1

    def _open_lanes(self) -> tuple[Lane, ...]:
        """The lanes steps may be taken from now: not the background while an urgent step
        is to run, nor for `_HELD_AFTER_S` after one (call with `_ready` held)."""
        held = self._urgent or time.monotonic() < self._held_until
        return (Lane.interactive,) if held else tuple(Lane)

    def _urgent_done(self, step: _Step) -> None:
        """`step` ran (call with `_ready` held): if urgent, background steps may go once
        `_HELD_AFTER_S` is over and no other urgent step is to run."""
        if step.urgent:
            self._urgent -= 1
            self._held_until = time.monotonic() + _HELD_AFTER_S
            self._ready.notify_all()  # the threads held for it look again when that is over

    def _work(self) -> None:
        while (step := self._take()) is not None:
            settle: Callable[[], None] | None = _nothing_to_settle
            try:
                if step.urgent:
                    self._wait_for_cores()
                settle = self._run(step)
            finally:
                with self._ready:
                    self._done(step, again=settle is None)
            if settle is not None:
                settle()

    def _done(self, step: _Step, again: bool) -> None:
        """`step` off its thread (call with `_ready` held); put back in line, in its place,
        when `again` (interrupted: it runs again from its start)."""
        self._running -= 1
        del self._active[id(step)]
        if step.heavy:
            self._heavy -= 1
            self._ready.notify_all()  # a heavy step passed over may go now
        self._urgent_done(step)
        if step.giving_back:
            self._giving_back -= 1
            self._ready.notify_all()  # the urgent step waiting for its core
        step.interruption = None
        step.giving_back = False
        if again:
            step.lost_s += time.monotonic() - step.began
            if self._stopping:
                _cancel(step)
            else:
                self._lanes[step.lane].put(step.client, step)
                self._ready.notify()

    @staticmethod
    def _run(step: _Step) -> Callable[[], None] | None:
        """Runs `step`; gives what settles its future, called once its thread is counted free
        again: whoever its result wakes (a stream about to start its next first piece, which
        asks `thread_free`) sees the thread free, not still running it. None: the step was
        interrupted, and its future is left for the run it gets again."""
        # A step interrupted before has its future set running since then.
        if not step.future.running() and not step.future.set_running_or_notify_cancel():
            return _nothing_to_settle  # cancelled while it waited
        try:
            with interruptible(step.interruption):
                result = step.fn()
        except Interrupted:
            return None
        except BaseException as exc:
            return functools.partial(step.future.set_exception, exc)
        return functools.partial(step.future.set_result, result)

    def thread_free(self) -> bool:
        """Whether a thread is left for one more step, once the steps running and those
        queued have theirs (see `Turn.thread_free`)."""
        with self._ready:
            # Steps asked to give their cores back are leaving them. Counted only as far as it
            # matters: many steps may be queued. Background steps held for an urgent one do
            # not count: its stream's next piece waits for it, as on an idle server.
            left = self.threads - self._running + self._giving_back
            queued = self._queued(self._open_lanes())
            beyond = itertools.islice(queued, left - 1, None) if left > 0 else None
            return beyond is not None and next(beyond, None) is None

    def waiting(self) -> int:
        """Steps queued that will still run (a cancelled step stays in its heap until a thread
        takes and drops it, which it may not have done yet)."""
        with self._ready:
            return sum(1 for _ in self._queued())

    def _queued(self, lanes: Iterable[Lane] = tuple(Lane)) -> Iterator[_Step]:
        """The steps queued in `lanes` that will still run (call with `_ready` held)."""
        return (
            step
            for lane in lanes
            for heap in self._lanes[lane].steps.values()
            for step in heap
            if not step.future.cancelled()
        )

    def close(self, wait_s: float | None = None) -> None:
        """Cancel what is queued, wait for the steps running (an urgent one on the spare
        thread included), and stop the threads. With `wait_s`, wait at most that long in
        all: a step still running then (an engine call that hangs) is left to its daemon
        thread, which cannot keep the process alive."""
        with self._ready:
            self._stopping = True
            workers, self._workers = self._workers, []
            if self._spare_thread is not None:
                workers.append(self._spare_thread)
                self._spare_thread = None
            queued = [step for lane in self._lanes.values() for step in lane.drain()]
            self._ready.notify_all()
        for step in queued:
            _cancel(step)
        deadline = None if wait_s is None else time.monotonic() + wait_s
        for thread in workers:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
