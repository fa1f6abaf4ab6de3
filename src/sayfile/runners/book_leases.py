"""A book's work held by one process at a time: each part, each chapter's join and the book's
join under a lock of its own in the job store, kept by a lease that beats the book's heart with
its progress so far while the work moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sayfile.books.parts import BookFolder, BookManifest
from sayfile.errors import SayfileError
from sayfile.jobs.events import JobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.lease import Lease, LeaseTerms
from sayfile.store import JobStore

T = TypeVar("T")


def part_lock(job_id: str, number: int) -> str:
    """The store lock of a book's part `number`."""
    return f"part:{job_id}:{number}"


def chapter_lock(job_id: str, chapter: int) -> str:
    """The store lock of the join of a book's chapter `chapter`."""
    return f"join:{job_id}:{chapter}"


def book_lock(job_id: str) -> str:
    """The store lock of the join of a book's chapters into its file."""
    return f"assemble:{job_id}"


class BookLeases:
    """Runs a piece of a book's work while this process holds its lock."""

    def __init__(
        self, store: JobStore, lifecycle: JobLifecycle, events: JobEvents, terms: LeaseTerms
    ) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.events = events
        self.terms = terms

    async def hold(
        self,
        lock: str,
        job_id: str,
        folder: BookFolder,
        manifest: BookManifest,
        work: Callable[[Lease], Coroutine[Any, Any, T]],
        stalls: bool = False,
    ) -> T | None:
        """`work(lease)`'s result, run under `lock` and a lease on the book `job_id`; None
        (nothing run) when another process holds the lock. A lease that `stalls` (a part's:
        its sentences finish now and then) stops work that finishes nothing for the stall
        bound; a join's does not. Raises LeaseLost when the lease stopped the work."""
        token = await self.store.try_lock(lock, self.terms.lock_s)
        if token is None:
            return None
        try:
            progress = await asyncio.to_thread(folder.progress, manifest)
            lease = Lease(
                self.terms,
                self.lifecycle,
                self.store,
                self.events,
                job_id,
                (lock, token),
                stalls,
                progress,
            )
            return await lease.run(work(lease))
        finally:
            with contextlib.suppress(SayfileError):
                await self.store.unlock(lock, token)
