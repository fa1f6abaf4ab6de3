"""The job lifecycle on every store: statuses move only along the table, as compare-and-sets,
and every move is announced to whoever watches the job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from conftest import RedisDatabases
from sayfile.errors import DiskFull, EngineError, Interrupted, SayfileError, WorkerLost
from sayfile.jobs.events import DELETED, JobEvent, JobEvents, LocalJobEvents, RedisJobEvents, Watch
from sayfile.jobs.lifecycle import JobLifecycle, failure_error
from sayfile.store.records import TRANSITIONS, FailureReason, Job, JobStatus, new_job_id
from sayfile.store.redis import RedisJobStore
from test_store import BACKENDS, NOW, make_job, open_backend

TTL = 3600.0

Move = Callable[[JobLifecycle, str], Awaitable[Job | None]]

# Each lifecycle call that moves a job, and the status it moves the job to.
MOVES: dict[JobStatus, Move] = {
    JobStatus.running: lambda life, job_id: life.start(job_id, "host:1"),
    JobStatus.done: lambda life, job_id: life.finish(job_id, 100, 1.5),
    JobStatus.failed: lambda life, job_id: life.fail(job_id, FailureReason.worker_lost, "lost"),
    JobStatus.expired: lambda life, job_id: life.expire(job_id),
}

ERRORS: dict[FailureReason, type[SayfileError]] = {
    FailureReason.disk_full: DiskFull,
    FailureReason.interrupted: Interrupted,
    FailureReason.worker_lost: WorkerLost,
    FailureReason.not_picked_up: WorkerLost,
    FailureReason.engine_error: EngineError,
    FailureReason.invalid: EngineError,
    FailureReason.internal_error: EngineError,
}


@pytest.fixture(params=BACKENDS)
async def lifecycle(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobLifecycle]:
    async with open_backend(request.param, request, tmp_path) as backend:
        yield JobLifecycle(backend.store, LocalJobEvents(), TTL, clock=lambda: NOW)


async def added(lifecycle: JobLifecycle, status: JobStatus = JobStatus.queued) -> Job:
    job = make_job(status, client="alice", bytes=10 if status == JobStatus.done else None)
    await lifecycle.add(job)
    return job


async def stored(lifecycle: JobLifecycle, job_id: str) -> Job | None:
    return await lifecycle.store.get(job_id)


async def test_moves_follow_the_table_and_nothing_else(lifecycle: JobLifecycle) -> None:
    for status in JobStatus:
        for target, move in MOVES.items():
            job = await added(lifecycle, status)
            allowed = (status, target) in TRANSITIONS
            with lifecycle.events.watch(job.id) as watch:
                moved = await move(lifecycle, job.id)
                event = await watch.next(0)
            record = await stored(lifecycle, job.id)
            assert record is not None
            if allowed:
                assert moved == record and record.status == target, (status, target)
                assert event == JobEvent(job.id, target.value, record.progress)
            else:
                assert (moved, event, record) == (None, None, job), (status, target)


async def test_a_failed_job_never_comes_back(lifecycle: JobLifecycle) -> None:
    running = await added(lifecycle)
    assert await lifecycle.start(running.id, "host:1") is not None
    assert await lifecycle.beat(running.id, 0.4) is not None
    # The sweeper gives up on it while its worker still works on it.
    failed = await lifecycle.fail(running.id, FailureReason.worker_lost, "no heartbeat")
    assert failed is not None
    assert await lifecycle.beat(running.id, 0.6) is None
    assert await lifecycle.finish(running.id, 100, 1.0) is None
    assert await lifecycle.start(running.id, "host:2") is None
    assert await lifecycle.fail(running.id, FailureReason.engine_error, "later") is None
    assert await stored(lifecycle, running.id) == failed
    assert (failed.reason, failed.error, failed.progress) == (
        FailureReason.worker_lost,
        "no heartbeat",
        0.4,
    )

    queued = await added(lifecycle)
    assert await lifecycle.fail(queued.id, FailureReason.not_picked_up, "no worker") is not None
    assert await lifecycle.start(queued.id, "host:1") is None
    assert await lifecycle.finish(queued.id, 100, 1.0) is None
    record = await stored(lifecycle, queued.id)
    assert record is not None and record.status == JobStatus.failed
    assert await lifecycle.store.active_count("alice") == 0


async def test_beat_only_while_running(lifecycle: JobLifecycle) -> None:
    job = await added(lifecycle)
    assert await lifecycle.beat(job.id, 0.1) is None  # not started yet
    started = await lifecycle.start(job.id, "host:1")
    assert started is not None and started.heartbeat_at == NOW and started.worker == "host:1"
    beat = await lifecycle.beat(job.id, 0.5)
    assert beat is not None and beat.progress == 0.5 and beat.status == JobStatus.running
    beat = await lifecycle.beat(job.id, 1.0)
    assert beat is not None and beat.progress == 0.999  # only finishing makes it whole
    done = await lifecycle.finish(job.id, 100, 1.23456)
    assert done is not None
    assert (done.progress, done.bytes, done.duration_s, done.heartbeat_at, done.expires_at) == (
        1.0,
        100,
        1.235,
        None,
        NOW + TTL,
    )
    assert await lifecycle.beat(job.id, 0.7) is None
    assert await stored(lifecycle, job.id) == done

    deleted = await added(lifecycle)
    assert await lifecycle.start(deleted.id, "host:1") is not None
    await lifecycle.delete(deleted.id)
    assert await lifecycle.beat(deleted.id, 0.7) is None
    assert await lifecycle.finish(deleted.id, 100, 1.0) is None
    assert await lifecycle.fail(deleted.id, FailureReason.interrupted, "stopped") is None
    assert await stored(lifecycle, deleted.id) is None
    assert await lifecycle.store.active_count("alice") == 0


async def test_expire_only_from_done_or_failed(lifecycle: JobLifecycle) -> None:
    queued = await added(lifecycle)
    assert await lifecycle.expire(queued.id, NOW) is None
    assert await lifecycle.start(queued.id, "host:1") is not None
    assert await lifecycle.expire(queued.id, NOW) is None
    assert await lifecycle.finish(queued.id, 100, 1.0) is not None
    expired = await lifecycle.expire(queued.id, NOW - 1)
    assert expired is not None
    assert (expired.status, expired.expires_at) == (JobStatus.expired, NOW - 1)
    assert await lifecycle.expire(queued.id, NOW) is None

    failed = await added(lifecycle)
    assert await lifecycle.fail(failed.id, FailureReason.engine_error, "boom") is not None
    expired = await lifecycle.expire(failed.id)
    assert expired is not None and expired.expires_at == NOW + TTL  # the failure's own expiry

    gone = await added(lifecycle, JobStatus.done)
    await lifecycle.delete(gone.id)
    assert await lifecycle.expire(gone.id, NOW) is None
    assert await stored(lifecycle, gone.id) is None
    counts = await lifecycle.store.status_counts()
    assert counts == {"queued": 0, "running": 0, "done": 0, "failed": 0, "expired": 2}


async def next_event(watch: Watch) -> JobEvent | None:
    return await watch.next(0)


async def test_every_move_is_announced(lifecycle: JobLifecycle) -> None:
    events = lifecycle.events
    done, failed = await added(lifecycle), await added(lifecycle)
    with events.watch(done.id) as watch, events.watch(failed.id) as other:
        await lifecycle.start(done.id, "host:1")
        assert await next_event(watch) == JobEvent(done.id, "running", 0.0)
        await lifecycle.progress(done.id, 0.3)
        assert await next_event(watch) == JobEvent(done.id, "running", 0.3)
        assert events.latest(done.id) == JobEvent(done.id, "running", 0.3)
        await lifecycle.finish(done.id, 100, 1.0)
        assert await next_event(watch) == JobEvent(done.id, "done", 1.0)
        assert events.latest(done.id) is None  # nothing more will happen
        await lifecycle.expire(done.id)
        assert await next_event(watch) == JobEvent(done.id, "expired", 1.0)
        await lifecycle.delete(done.id)
        assert await next_event(watch) == JobEvent(done.id, DELETED)
        assert await next_event(other) is None  # another job's watchers hear none of it

        await lifecycle.start(failed.id, "host:1")
        await lifecycle.beat(failed.id, 0.25)
        await lifecycle.fail(failed.id, FailureReason.engine_error, "boom")
        assert await next_event(other) == JobEvent(failed.id, "failed", 0.25)
        assert events.latest(failed.id) is None


async def test_progress_after_the_end_announces_nothing(lifecycle: JobLifecycle) -> None:
    # The sweeper fails a job, or its owner cancels it, while its synthesis still reports
    # progress (until its next heartbeat or step notices).
    events = lifecycle.events
    failed, deleted = await added(lifecycle), await added(lifecycle)
    for job in (failed, deleted):
        await lifecycle.start(job.id, "host:1")
    await lifecycle.fail(failed.id, FailureReason.worker_lost, "no heartbeat")
    await lifecycle.delete(deleted.id)
    for job in (failed, deleted):
        with events.watch(job.id) as watch:
            await lifecycle.progress(job.id, 0.5)
            assert await next_event(watch) is None
        assert events.latest(job.id) is None


async def test_progress_is_throttled_and_not_stored(lifecycle: JobLifecycle) -> None:
    job = await added(lifecycle)
    await lifecycle.start(job.id, "host:1")
    with lifecycle.events.watch(job.id) as watch:
        await lifecycle.progress(job.id, 1.0)
        assert await next_event(watch) == JobEvent(job.id, "running", 0.999)
        for fraction in (0.2, 0.4, 0.6):
            await lifecycle.progress(job.id, fraction)
            assert await next_event(watch) is None  # a few times a second at most
    record = await stored(lifecycle, job.id)
    assert record is not None and record.progress == 0.0
    assert lifecycle.events.latest(job.id) == JobEvent(job.id, "running", 0.999)


async def test_failure_errors_by_reason(lifecycle: JobLifecycle) -> None:
    assert set(ERRORS) == set(FailureReason)
    for reason, error in ERRORS.items():
        job = await added(lifecycle)
        await lifecycle.fail(job.id, reason, f"it went wrong: {reason}")
        record = await stored(lifecycle, job.id)
        assert record is not None and record.reason == reason
        raised = failure_error(record)
        assert type(raised) is error, reason
        if error is not DiskFull:
            assert str(raised) == f"it went wrong: {reason}"
    # A failure recorded without a reason (by the previous version) is an engine error.
    older = make_job(JobStatus.failed, error="espeak-ng exited with 1")
    assert type(failure_error(older)) is EngineError
    assert str(failure_error(older)) == "espeak-ng exited with 1"


def test_transitions_never_leave_expired_or_go_back() -> None:
    assert all(old != JobStatus.expired for old, _ in TRANSITIONS)
    going_back = {
        (old, new) for old, new in TRANSITIONS if new in (JobStatus.queued, JobStatus.running)
    }
    assert going_back == {(JobStatus.queued, JobStatus.running)}
    assert all(old != new for old, new in TRANSITIONS)
    assert JobStatus.queued.comes_from == frozenset()
    assert JobStatus.running.comes_from == {JobStatus.queued}
    assert JobStatus.done.comes_from == {JobStatus.running}
    assert JobStatus.failed.comes_from == {JobStatus.queued, JobStatus.running}
    assert JobStatus.expired.comes_from == {JobStatus.done, JobStatus.failed}
    # Every status a job can finish in leads only to `expired`, and nothing follows that.
    for old, new in TRANSITIONS:
        if old.finished:
            assert new == JobStatus.expired


# -- events between processes (Redis pub/sub) ------------------------------------------------


async def subscribed(publisher: JobEvents, watcher: JobEvents) -> None:
    """Return once `watcher` hears what `publisher` says (its subscription is in place)."""
    probe = JobEvent(new_job_id(), "running", 0.5)
    deadline = time.monotonic() + 2
    with watcher.watch(probe.job_id) as watch:
        while True:
            await publisher.publish(probe)
            if await watch.next(0.05) == probe:
                return
            assert time.monotonic() < deadline, "no event heard through Redis within 2 s"


@pytest.fixture
async def redis_events(redis_server: RedisDatabases) -> AsyncIterator[list[RedisJobEvents]]:
    """Two processes' job events on one real Redis (both started)."""
    both = [RedisJobEvents(redis_server.url(), 2.0) for _ in range(2)]
    for events in both:
        await events.start()
    yield both
    for events in both:
        await events.close()


async def test_events_reach_watchers_in_another_process(
    redis_server: RedisDatabases, redis_events: list[RedisJobEvents]
) -> None:
    here, there = redis_events
    await subscribed(here, there)
    store = RedisJobStore(redis_server.url())
    try:
        lifecycle = JobLifecycle(store, here, TTL, clock=lambda: NOW)
        job = await added(lifecycle)
        with there.watch(job.id) as watch:
            await lifecycle.start(job.id, "host:1")
            assert await watch.next(2) == JobEvent(job.id, "running", 0.0)
            await lifecycle.progress(job.id, 0.5)
            assert await watch.next(2) == JobEvent(job.id, "running", 0.5)
            assert there.latest(job.id) == JobEvent(job.id, "running", 0.5)
            await lifecycle.finish(job.id, 100, 1.0)
            assert await watch.next(2) == JobEvent(job.id, "done", 1.0)
            assert there.latest(job.id) is None
            await lifecycle.delete(job.id)
            assert await watch.next(2) == JobEvent(job.id, DELETED)
    finally:
        await store.close()


async def test_a_watch_opened_after_start_misses_nothing(redis_server: RedisDatabases) -> None:
    here = RedisJobEvents(redis_server.url(), 2.0)
    there = RedisJobEvents(redis_server.url(), 2.0)
    try:
        await here.start()
        await here.publish(JobEvent(new_job_id(), "running"))  # this process is up and running
        await there.start()
        event = JobEvent(new_job_id(), "done", 1.0)
        with there.watch(event.job_id) as watch:
            await here.publish(event)
            assert await watch.next(2) == event
    finally:
        await asyncio.gather(here.close(), there.close())
