"""Job events within one process: every watcher of a job hears its events, the newest kept
between reads and a final one never replaced; callbacks hear every end; watchers that are
cancelled, time out or fail leave nothing behind; a Redis that is away (refused, or silent)
fails no publisher. Synchronised by events, never by sleeping; no redis-server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from sayfile.jobs.events import DELETED, JobEvent, LocalJobEvents, RedisJobEvents, Watch
from sayfile.store.records import new_job_id


async def test_every_watcher_of_a_job_hears_its_events_and_no_other_jobs() -> None:
    events = LocalJobEvents()
    job, other = new_job_id(), new_job_id()
    with events.watch(job) as first, events.watch(job) as second, events.watch(other) as third:
        await events.publish(JobEvent(job, "running", 0.25))
        assert await first.next(0) == JobEvent(job, "running", 0.25)
        assert await second.next(0) == JobEvent(job, "running", 0.25)
        assert await third.next(0) is None


async def test_between_two_reads_only_the_newest_event_is_kept() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    with events.watch(job) as watch:
        for progress in (0.1, 0.2, 0.3):
            await events.publish(JobEvent(job, "running", progress))
        assert await watch.next(0) == JobEvent(job, "running", 0.3)
        assert await watch.next(0) is None


async def test_a_final_event_is_never_replaced_by_a_late_progress_one() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    with events.watch(job) as watch:
        await events.publish(JobEvent(job, "done", 1.0))
        await events.publish(JobEvent(job, "running", 0.9))  # a late beat of the runner
        assert await watch.next(0) == JobEvent(job, "done", 1.0)


async def test_the_latest_event_is_kept_while_the_job_works_and_dropped_at_its_end() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    assert events.latest(job) is None
    await events.publish(JobEvent(job, "running", 0.5))
    assert events.latest(job) == JobEvent(job, "running", 0.5)
    # A watch opened after the event: the record (and `latest`) tell what happened so far.
    with events.watch(job) as watch:
        assert await watch.next(0) is None
        await events.publish(JobEvent(job, "failed", 0.5))
        assert await watch.next(0) == JobEvent(job, "failed", 0.5)
    assert events.latest(job) is None


@pytest.mark.parametrize("status", ["done", "failed", "expired", DELETED])
async def test_callbacks_hear_every_end_once_and_no_progress(status: str) -> None:
    events = LocalJobEvents()
    ended: list[str] = []
    events.on_final(ended.append)
    events.on_final(ended.append)
    job = new_job_id()
    await events.publish(JobEvent(job, "queued"))
    await events.publish(JobEvent(job, "running", 0.5))
    assert ended == []
    await events.publish(JobEvent(job, status, 1.0))
    assert ended == [job, job]  # each callback once


async def test_a_waiting_watcher_wakes_on_the_event() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    with events.watch(job) as watch:
        waiting = asyncio.create_task(watch.next(None))
        await asyncio.sleep(0)  # the watcher is waiting now
        assert not waiting.done()
        await events.publish(JobEvent(job, "done", 1.0))
        assert await waiting == JobEvent(job, "done", 1.0)


async def _watch_until_cancelled(events: LocalJobEvents, job: str, watching: asyncio.Event) -> None:
    with events.watch(job) as watch:
        watching.set()
        await watch.next(None)
        raise AssertionError("heard an event it was cancelled before")


async def test_a_cancelled_watcher_leaves_nothing_behind() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    watching = asyncio.Event()
    task = asyncio.create_task(_watch_until_cancelled(events, job, watching))
    await watching.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Publishing to nobody is fine, and a new watcher hears the next event.
    await events.publish(JobEvent(job, "running", 0.5))
    with events.watch(job) as watch:
        await events.publish(JobEvent(job, "done", 1.0))
        assert await watch.next(0) == JobEvent(job, "done", 1.0)


async def test_a_watcher_whose_reader_fails_stops_hearing_and_others_go_on() -> None:
    events = LocalJobEvents()
    job = new_job_id()
    with events.watch(job) as staying:
        with pytest.raises(OSError), events.watch(job):
            raise OSError(32, "the client hung up")
        await events.publish(JobEvent(job, "done", 1.0))
        assert await staying.next(0) == JobEvent(job, "done", 1.0)


async def test_a_watch_that_times_out_says_none_and_still_hears_later() -> None:
    watch = Watch()
    assert await watch.next(0) is None
    watch.deliver(JobEvent("x", "running", 0.5))
    assert await watch.next(0) == JobEvent("x", "running", 0.5)


async def test_a_callback_that_fails_does_not_keep_the_end_from_watchers() -> None:
    """The quota's bookkeeping failing must not leave a job's watchers waiting for ever, nor
    fail the publisher (`publish` never raises, says the JobEvents contract)."""
    events = LocalJobEvents()

    def broken(job_id: str) -> None:
        raise RuntimeError("bookkeeping failed")

    events.on_final(broken)
    job = new_job_id()
    with events.watch(job) as watch:
        await events.publish(JobEvent(job, "done", 1.0))
        assert await watch.next(0) == JobEvent(job, "done", 1.0)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nobody listens there now: connections are refused


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word (a Redis that hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


async def test_a_redis_that_refuses_connections_fails_no_publisher_and_watchers_here_hear() -> None:
    """The store is away: `start` and `publish` do not raise, and this process's watchers
    and callbacks still hear the job's events."""
    events = RedisJobEvents(f"redis://127.0.0.1:{_closed_port()}/0", 0.2)
    ended: list[str] = []
    events.on_final(ended.append)
    try:
        await events.start()
        job = new_job_id()
        with events.watch(job) as watch:
            await events.publish(JobEvent(job, "running", 0.5))
            assert await watch.next(0) == JobEvent(job, "running", 0.5)
            assert events.latest(job) == JobEvent(job, "running", 0.5)
            await events.publish(JobEvent(job, "failed", 0.5))
            assert await watch.next(0) == JobEvent(job, "failed", 0.5)
        assert ended == [job]
    finally:
        await events.close()


async def test_a_redis_that_does_not_answer_fails_no_publisher(silent_port: int) -> None:
    """A paused Redis: each publish gives up after the time-out and is heard here."""
    events = RedisJobEvents(f"redis://127.0.0.1:{silent_port}/0", 0.2)
    ended: list[str] = []
    events.on_final(ended.append)
    try:
        job = new_job_id()
        with events.watch(job) as watch:
            await events.publish(JobEvent(job, "done", 1.0))
            assert await watch.next(0) == JobEvent(job, "done", 1.0)
        assert ended == [job]
    finally:
        await events.close()


@pytest.mark.slow  # a time bound: 25 times the configured time-out
async def test_events_start_while_redis_does_not_answer(silent_port: int) -> None:
    events = RedisJobEvents(f"redis://127.0.0.1:{silent_port}/0", 0.2)
    try:
        await asyncio.wait_for(events.start(), 5)
    finally:
        await events.close()
