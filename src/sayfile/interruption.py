"""A core given back: a background step's engine call that a stream's first piece wants the
core of ends at once (`Interrupted`), and its step runs again later. The sentence executor
asks (`Interruption.request`); an engine that can end a call early says how while the call
runs (`Interruption.stoppable`), on the step's own `current()` interruption."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar


class Interrupted(Exception):
    """An engine call ended early because its core was wanted for more urgent work; the step
    it belongs to is run again, from its start."""


class Interruption:
    """One run of one step: whether it was asked to give its core back, and how to end the
    engine call it is in now (set by the engine for as long as the call runs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._stops: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self._requested

    def request(self) -> bool:
        """End the call running now (and any the step starts later) as soon as it can; True
        when a call that can be ended was running (one that cannot, a Piper sentence, runs
        on to its end)."""
        with self._lock:
            self._requested = True
            stops = list(self._stops)
        for stop in stops:
            stop()
        return bool(stops)

    @contextlib.contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """While the block runs, a request calls `stop` (onnxruntime's terminate flag, say);
        raises Interrupted at once when one came before. The engine raises Interrupted when
        its call ended so (`requested` tells it apart from a failure)."""
        with self._lock:
            if self._requested:
                raise Interrupted("asked to give its core back before it began")
            self._stops.append(stop)
        try:
            yield
        finally:
            with self._lock:
                self._stops.remove(stop)


# The interruption of the step running in this context (None: it cannot be interrupted). A
# context variable, so that a call the engine's time box runs on another thread sees it.
_CURRENT: ContextVar[Interruption | None] = ContextVar("sayfile_interruption", default=None)


def current() -> Interruption | None:
    """The interruption of the step that runs now, if it may be interrupted."""
    return _CURRENT.get()


@contextlib.contextmanager
def interruptible(interruption: Interruption | None) -> Iterator[None]:
    """Run the block as the step `interruption` belongs to (None: as one that is not)."""
    token = _CURRENT.set(interruption)
    try:
        yield
    finally:
        _CURRENT.reset(token)
