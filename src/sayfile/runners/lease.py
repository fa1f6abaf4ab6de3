"""The lease on a running job or book part: one object that beats the job's heart while its
work moves, keeps the part's store lock, hears of deletion or a failure recorded elsewhere,
and stops the work through a child task it owns (never the caller's task)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sayfile.errors import SayfileError
from sayfile.jobs.events import DELETED, JobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.settings import Settings
from sayfile.store import JobStore
from sayfile.store.records import JobStatus
from sayfile.task_stopping import stop_task

log = logging.getLogger(__name__)
T = TypeVar("T")


class Why(StrEnum):
    """Why a lease stopped its work."""

    deleted = "the job was deleted"
    ended_elsewhere = "the job was failed or expired elsewhere"
    lock_lost = "the part's lock lapsed and may be held by another process"
    stalled = "no piece was finished within the stall bound"


class LeaseLost(Exception):
    """The lease stopped its work (`why`); raised by `Lease.run` and `Lease.confirm`. Not a
    SayfileError: it never reaches a client, the runner decides what it means."""

    def __init__(self, why: Why) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class LeaseTerms:
    """How a lease keeps time: a beat every `beat_s`; work that finishes no piece for
    `stall_s` is stopped; a lock is held `lock_s` past each beat. `clock` (monotonic seconds)
    and `wait` (a pause between beats) are what tests replace to move time by hand."""

    beat_s: float
    stall_s: float
    lock_s: float
    clock: Callable[[], float] = time.monotonic
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def of(cls, settings: Settings) -> LeaseTerms:
        # A few beats per worker timeout: one late beat is not taken for death.
        timeout = settings.worker_timeout_seconds
        return cls(beat_s=max(0.5, timeout / 4), stall_s=settings.stall_seconds, lock_s=timeout)


class Lease:
    """Held while one job (or one part of a book, under the store lock `lock`) is worked at.

    - `advanced(progress)` is called when work moved (a piece finished); only then does the
      heartbeat keep going: `stall_s` without a piece stops the work (`Why.stalled`).
    - `run(work)` runs `work` as a child task, beating meanwhile; raises LeaseLost when the
      lease stopped it, CancelledError when the caller was cancelled (the child goes too).
    - `confirm()` before a rename: the lock is still ours (else LeaseLost).
    A job found done is not stopped: it is the runner's own finish seen a moment early."""

    def __init__(
        self,
        terms: LeaseTerms,
        lifecycle: JobLifecycle,
        store: JobStore,
        events: JobEvents,
        job_id: str,
        lock: tuple[str, str] | None = None,
        stalls: bool = True,
        progress: float = 0.0,
    ) -> None:
        self._terms = terms
        self._lifecycle = lifecycle
        self._store = store
        self._events = events
        self._job_id = job_id
        self._lock = lock
        self._stalls = stalls
        self._progress = progress  # what the heartbeat writes: never less than was shown
        self._moved_at = terms.clock()
        self._locked_at = terms.clock()
        self._work: asyncio.Task[Any] | None = None
        self.why: Why | None = None
        self._quiet = False  # the job is done: nothing more to beat
        self._over = False  # the work has ended: the watchers end too, cancelled or not

    def advanced(self, progress: float | None = None) -> None:
        self._moved_at = self._terms.clock()
        if progress is not None:
            self._progress = progress

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        child: asyncio.Task[T] = asyncio.create_task(work)
        self._work = child
        watchers = [asyncio.create_task(self._beating()), asyncio.create_task(self._watching())]
        try:
            return await child
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if self.why is not None and (caller is None or caller.cancelling() == 0):
                raise LeaseLost(self.why) from None
            raise
        finally:
            # The watchers are told by a flag as well as cancelled (task_stopping.py: a store
            # client may let a cancellation pass unseen), so a beat loop that missed one ends
            # at once instead of keeping the finished work waiting for the stall bound.
            self._over = True
            await asyncio.gather(*(stop_task(task) for task in (child, *watchers)))
            self._work = None

    async def check(self) -> None:
        """One beat: stop stalled work, write the heartbeat, extend the lock, and stop the
        work if the job is gone, ended elsewhere, or the lock was lost. A store that is away
        is waited out (the sweeper judges a job whose heartbeat stays away)."""
        if self.why is not None or self._quiet or self._over:
            return
        if self._stalls and self._terms.clock() - self._moved_at > self._terms.stall_s:
            self._stop(Why.stalled)
            return
        try:
            alive = await self._lifecycle.beat(self._job_id, self._progress)
            kept = await self._extend()
            found = None if alive is not None else await self._store.get(self._job_id)
        except SayfileError as exc:
            log.warning("a heartbeat could not be written (%s); working on", exc)
            return
        if not kept:
            self._stop(Why.lock_lost)
        elif alive is None:
            if found is None:
                self._stop(Why.deleted)
            elif found.status == JobStatus.done:
                self._quiet = True
            elif found.status != JobStatus.running:
                self._stop(Why.ended_elsewhere)

    async def confirm(self) -> None:
        """Before renaming work into place: the lock must still be ours. A store that is
        away is trusted while the last extension still holds with half its time to spare."""
        if self.why is not None:
            raise LeaseLost(self.why)
        try:
            kept = await self._extend()
        except SayfileError:
            if self._terms.clock() - self._locked_at < self._terms.lock_s / 2:
                return
            raise
        if not kept:
            self._stop(Why.lock_lost)
            raise LeaseLost(Why.lock_lost)

    async def _extend(self) -> bool:
        if self._lock is None:
            return True
        name, token = self._lock
        if not await self._store.extend_lock(name, token, self._terms.lock_s):
            return False
        self._locked_at = self._terms.clock()
        return True

    def _stop(self, why: Why) -> None:
        if self.why is None:
            self.why = why
            log.warning("work stopped: %s", why.value)
        if self._work is not None:
            self._work.cancel()

    async def _beating(self) -> None:
        while self.why is None and not self._quiet and not self._over:
            await self._terms.wait(self._terms.beat_s)
            await self.check()

    async def _watching(self) -> None:
        ended = {DELETED, JobStatus.failed.value, JobStatus.expired.value}
        with self._events.watch(self._job_id) as watch:
            while True:
                event = await watch.next(None)
                if event is not None and event.status in ended:
                    self._stop(Why.deleted if event.status == DELETED else Why.ended_elsewhere)
                    return
