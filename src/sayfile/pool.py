"""A bounded thread pool shared by a process's jobs, working ahead on each job's sentences and
handing the results back in order."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")


class OrderedPool:
    """`workers` threads, started on first use and shared by every `map` at once, so however
    many callers there are, at most `workers` calls of their functions run at a time."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def map(self, fn: Callable[[A], R], items: Iterable[A], ahead: int) -> Generator[R, None, None]:
        """Yield `fn(item)` for each item, in the items' order, while up to `ahead` later items
        are queued or running on the pool.

        An exception from `fn(item)` is raised when that item's turn comes. Closing the
        generator (or an exception thrown into it) cancels the queued items at once; items
        already running finish on their own and their results are dropped.
        """
        executor = self._started()
        source = iter(items)
        pending: deque[Future[R]] = deque()

        def refill() -> None:
            for item in itertools.islice(source, ahead - len(pending)):
                pending.append(executor.submit(fn, item))

        try:
            refill()
            while pending:
                result = pending[0].result()
                pending.popleft()
                # Refilled before yielding, so the pool keeps working while the caller uses
                # this result (encodes it, writes it, waits for a slow client).
                refill()
                yield result
        finally:
            for future in pending:
                future.cancel()

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=self._name)
            return self._executor

    def close(self) -> None:
        """Cancel what is queued, wait for what is running, and stop the threads. A later
        `map` starts them again."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
