"""The lease of a running job or part, on the in-memory store with a hand-moved clock: it beats
only while work moves, stops its own child task (never the caller's) when the job is deleted,
failed elsewhere, stalls or loses its lock, and leaves a job alone that was done a moment ago."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

import pytest

from sayfile.errors import StoreUnavailable
from sayfile.jobs.events import LocalJobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.lease import Lease, LeaseLost, LeaseTerms, Why
from sayfile.store.records import FailureReason, Job, JobStatus
from test_runners import TERMS, Fault, FaultyStore, HandClock
from test_store import make_job


@dataclass
class Setting:
    clock: HandClock
    store: FaultyStore
    lifecycle: JobLifecycle
    job_id: str

    def lease(self, lock: tuple[str, str] | None = None) -> Lease:
        terms = LeaseTerms(clock=self.clock.time, wait=self.clock.wait, **TERMS)
        return Lease(terms, self.lifecycle, self.store, self.lifecycle.events, self.job_id, lock)


async def _running_job(store: FaultyStore, clock: HandClock) -> Setting:
    """A job started on `store`, with the lifecycle and clock the lease is given."""
    lifecycle = JobLifecycle(store, LocalJobEvents(), 3600, clock=clock.time)
    job = make_job(created_at=clock.now)
    await store.add(job)
    assert await lifecycle.start(job.id, "host:1") is not None
    return Setting(clock, store, lifecycle, job.id)


@pytest.fixture
async def setting() -> AsyncIterator[Setting]:
    clock = HandClock()
    yield await _running_job(FaultyStore(clock), clock)


class Work:
    """Work that goes on until the test lets it end, reporting each step to its lease."""

    def __init__(self) -> None:
        self.step = asyncio.Event()
        self.end = asyncio.Event()
        self.cancelled = False

    async def __call__(self, lease: Lease) -> str:
        try:
            while not self.end.is_set():
                await self.step.wait()
                self.step.clear()
                lease.advanced(0.5)
            return "made"
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_beats_while_work_moves_and_stops_it_when_it_stalls(setting: Setting) -> None:
    lease, work = setting.lease(), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)  # it starts, and waits for its first beat
    # Each beat within the bound writes the heartbeat, as long as pieces keep coming.
    for beat in range(20):
        await setting.clock.advance(TERMS["beat_s"])
        work.step.set()
        await setting.clock.advance(0)
        job = await setting.store.get(setting.job_id)
        assert job is not None and job.heartbeat_at == setting.clock.now
        assert job.progress == (0.5 if beat else 0.0)  # a beat carries the last piece's
    # Then no piece for longer than the bound: the work is stopped, the heartbeat stays.
    beaten = setting.clock.now
    await setting.clock.advance(TERMS["stall_s"] - 1)
    await setting.clock.advance(TERMS["beat_s"])
    with pytest.raises(LeaseLost) as lost:
        await running
    assert lost.value.why == Why.stalled and work.cancelled
    job = await setting.store.get(setting.job_id)
    assert job is not None and job.heartbeat_at is not None and job.heartbeat_at < beaten + 60


@pytest.mark.parametrize("how", ["deleted", "failed elsewhere"])
async def test_a_deleted_or_failed_job_stops_the_child_task_not_the_caller(
    setting: Setting, how: str
) -> None:
    lease, work = setting.lease(), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)
    if how == "deleted":
        await setting.lifecycle.delete(setting.job_id)
    else:
        await setting.lifecycle.fail(setting.job_id, FailureReason.worker_lost, "lost")
    with pytest.raises(LeaseLost) as lost:
        await running
    assert lost.value.why == (Why.deleted if how == "deleted" else Why.ended_elsewhere)
    assert work.cancelled and not running.cancelled()


async def test_a_job_done_a_moment_ago_is_not_stopped(setting: Setting) -> None:
    """A beat that finds the job no longer running because it is done (its own finish,
    seen early) leaves the work alone: stopping it would remove a finished file."""
    lease, work = setting.lease(), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)
    assert await setting.lifecycle.finish(setting.job_id, 10, 1.0) is not None
    await setting.clock.advance(TERMS["beat_s"])
    await setting.clock.advance(TERMS["stall_s"] * 2)  # and it no longer beats, so never stalls
    assert not running.done() and not work.cancelled
    work.end.set()
    work.step.set()
    assert await running == "made"


async def test_a_lost_lock_stops_the_work_and_no_rename_is_confirmed(setting: Setting) -> None:
    token = await setting.store.try_lock("part:x:0", TERMS["lock_s"])
    assert token is not None
    lease, work = setting.lease(("part:x:0", token)), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)
    await lease.confirm()  # still ours
    await setting.store.unlock("part:x:0", token)  # lapsed, and taken by another
    assert await setting.store.try_lock("part:x:0", TERMS["lock_s"]) is not None
    with pytest.raises(LeaseLost):
        await lease.confirm()
    with pytest.raises(LeaseLost) as lost:
        await running
    assert lost.value.why == Why.lock_lost and work.cancelled


async def test_a_store_away_is_waited_out_and_trusted_only_while_the_lock_holds(
    setting: Setting,
) -> None:
    token = await setting.store.try_lock("part:x:0", TERMS["lock_s"])
    assert token is not None
    lease, work = setting.lease(("part:x:0", token)), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)
    setting.store.armed = True
    # A beat that finds the store away neither stops the work nor writes the heartbeat.
    setting.store.fault = Fault("change", 1)
    await setting.clock.advance(TERMS["beat_s"])
    work.step.set()
    assert setting.store.fault is None and not running.done()
    # A rename just after the lock was extended is safe though the store is away...
    await setting.clock.advance(TERMS["beat_s"])
    setting.store.fault = Fault("extend_lock", 2)
    await lease.confirm()
    # ...but not once half the lock's time went by without an extension.
    setting.store.fault = Fault("extend_lock", 3)
    await setting.clock.advance(TERMS["lock_s"] / 2 + 1)
    setting.store.fault = Fault("extend_lock", 4)
    with pytest.raises(StoreUnavailable):
        await lease.confirm()
    work.end.set()
    work.step.set()
    assert await running == "made"


async def test_cancelling_the_caller_cancels_the_work_and_is_not_a_lost_lease(
    setting: Setting,
) -> None:
    lease, work = setting.lease(), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await setting.clock.advance(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert work.cancelled
    job = await setting.store.get(setting.job_id)
    assert job is not None and job.status == JobStatus.running  # the runner decides


class DeafStore(FaultyStore):
    """A store whose heartbeat write, once held, lets the cancellation that ends it pass
    unseen and goes on (redis-py does so now and then mid-command: seen as a finished job
    left `running` until the stall bound, 300 s, in tests/test_scaleout.py)."""

    def __init__(self, clock: HandClock) -> None:
        super().__init__(clock)
        self.hold = False
        self.held = asyncio.Event()
        self.missed = 0

    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None:
        if self.hold and "heartbeat_at" in fields:
            self.hold = False
            self.held.set()
            try:
                await asyncio.get_running_loop().create_future()  # until cancelled
            except asyncio.CancelledError:
                self.missed += 1  # and carries on as if nothing happened
        return await super().change(job_id, expected, **fields)


async def test_work_that_ended_is_not_kept_waiting_by_a_beat_that_missed_its_cancellation() -> None:
    clock = HandClock()
    store = DeafStore(clock)
    setting = await _running_job(store, clock)
    lease, work = setting.lease(), Work()
    running = asyncio.create_task(lease.run(work(lease)))
    await clock.advance(0)
    store.hold = True
    await clock.advance(TERMS["beat_s"])  # a beat begins, and is held in the store
    await store.held.wait()
    work.end.set()
    work.step.set()  # the work ends while the beat is held
    # No clock moves from here on: before, the beat loop went on beating until the stall
    # bound stopped it, and only then did the finished work's result come back.
    for _ in range(20):
        if running.done():
            break
        await asyncio.sleep(0)
    assert store.missed == 1
    assert running.done() and await running == "made"
