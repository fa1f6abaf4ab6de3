"""Pieces made on several threads, handed on in their order: each finished piece goes to its
consumer (an encoder's step) on whichever thread finishes the piece that is due, so no thread
ever waits for another's step."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from sayfile.audio.formats import Samples

T = TypeVar("T")

_NOTHING: Any = object()


class InOrder(Generic[T]):
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
        self._sounded = False

    def offer(self, index: int, samples: Samples, final: bool) -> None:
        """Piece `index` is made (`final`: it is the last one); it and every piece ready
        after it go to `consume` now if it is due."""
        with self._lock:
            if self._closed:
                return  # the request has ended: nothing more goes to its encoder
            self._ready[index] = samples
            if final:
                self._final = index
            while not self._closed and self._due in self._ready:
                due = self._ready.pop(self._due)
                self._sounded = self._sounded or due.size > 0
                result = self._consume(due)
                # An output never given a sample is not finished: no answer is a file of
                # nothing (the pipeline refuses it, and the unfinished output is abandoned).
                if self._due == self._final and self._last is not None and self._sounded:
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


def with_last_flag(items: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """Each item with whether it is the last one (known by looking one item ahead)."""
    previous = next(items, _NOTHING)
    for item in items:
        yield previous, False
        previous = item
    if previous is not _NOTHING:
        yield previous, True
