"""The one place blocking work runs: a bounded pool of synthesis threads in this process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sayfile.errors import Busy

T = TypeVar("T")


class InProcessRunner:
    """Runs blocking callables on `workers` threads, with at most `max_queue` admitted at once.

    `admit()` reserves a place or raises Busy (the caller answers 503); `release()` frees it.
    `run(fn)` awaits `fn()` on a pool thread without blocking the event loop.
    """

    def __init__(self, workers: int, max_queue: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synth")
        self._max = max_queue
        self._admitted = 0
        self._lock = threading.Lock()

    def admit(self) -> None:
        with self._lock:
            if self._admitted >= self._max:
                raise Busy(retry_after=5)
            self._admitted += 1

    def release(self) -> None:
        with self._lock:
            self._admitted -= 1

    @property
    def depth(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
