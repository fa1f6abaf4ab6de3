"""The executor that remuxing runs on (a job's chapter marks, a book's chapter and book
joins): threads of its own, so that copying an hour of packets never holds up the default
thread pool that downloads and file reads use, nor the sentence threads."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Remuxing is file I/O and packet copying, not encoding: two threads keep a disk busy, and a
# third book's join waits its turn rather than competing for the same disk.
REMUX_THREADS = 2


class RemuxExecutor:
    """Runs blocking remux work off the event loop on its own threads, made on first use
    (nothing is started for a process that never remuxes). `close()` lets the running work
    finish and drops what is queued."""

    def __init__(self, threads: int = REMUX_THREADS) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args, **kwargs)` on a remux thread; its result or its exception."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="sayfile-remux")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(work, *args, **kwargs))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
