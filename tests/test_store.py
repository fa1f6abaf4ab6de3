"""One contract, every job store: SQLite (embedded) and Redis (scale-out)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import RedisServer
from sayfile.jobs import Job, JobStatus, cache_key, new_job_id
from sayfile.store.base import JobStore
from sayfile.store.redis import Keys, RedisJobStore
from sayfile.store.sqlite import SqliteJobStore

NOW = 1_000_000.0


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    backend: JobStore
    if request.param == "sqlite":
        backend = SqliteJobStore(tmp_path / "jobs.sqlite3")
    else:
        redis: RedisServer = request.getfixturevalue("redis_server")
        backend = RedisJobStore(redis.url(), keys=Keys(f"test-{uuid.uuid4().hex}"))
    yield backend
    await backend.close()


def make_job(status: JobStatus = JobStatus.queued, key: str = "k", **fields: object) -> Job:
    base = Job(
        id=new_job_id(),
        status=status,
        format="mp3",
        voice="espeak:en-us",
        key=key,
        stem="hello",
        created_at=NOW,
        expires_at=NOW + 60,
    )
    return base.evolve(**fields)


async def test_records_round_trip(store: JobStore) -> None:
    job = make_job(one_time=True, heartbeat_at=NOW)
    await store.add(job)
    assert await store.get(job.id) == job
    assert await store.get(new_job_id()) is None
    assert await store.all_ids() == {job.id}


async def test_update_changes_fields_and_never_resurrects(store: JobStore) -> None:
    job = make_job()
    await store.add(job)
    updated = await store.update(job.id, status=JobStatus.running, progress=0.5)
    assert updated is not None and updated.status == JobStatus.running
    assert (await store.get(job.id)) == updated
    await store.delete(job.id)
    assert await store.update(job.id, progress=0.9) is None
    assert await store.get(job.id) is None
    assert await store.all_ids() == set()


async def test_concurrent_updates_lose_nothing(store: JobStore) -> None:
    job = make_job(JobStatus.running)
    await store.add(job)
    await asyncio.gather(
        *(store.update(job.id, progress=i / 100) for i in range(40)),
        store.update(job.id, status=JobStatus.done, bytes=123),
        *(store.update(job.id, heartbeat_at=NOW + i) for i in range(40)),
    )
    final = await store.get(job.id)
    assert final is not None and final.status == JobStatus.done and final.bytes == 123


async def test_find_done_only_finds_live_finished_files(store: JobStore) -> None:
    key = cache_key("text", "espeak:en-us", "mp3", 1.0)
    running = make_job(JobStatus.running, key=key)
    old = make_job(JobStatus.done, key=key, expires_at=NOW - 1, bytes=5)
    live = make_job(JobStatus.done, key=key, expires_at=NOW + 30, bytes=7)
    other = make_job(JobStatus.done, key="other", bytes=9)
    for job in (running, old, live, other):
        await store.add(job)
    assert await store.find_done(key, NOW) == live
    assert await store.find_done("missing", NOW) is None
    await store.update(live.id, status=JobStatus.expired)
    assert await store.find_done(key, NOW) is None


async def test_expiry_bookkeeping(store: JobStore) -> None:
    queued = make_job(expires_at=NOW - 5)
    done_due = make_job(JobStatus.done, expires_at=NOW - 5, bytes=10)
    failed_due = make_job(JobStatus.failed, expires_at=NOW - 1)
    done_live = make_job(JobStatus.done, expires_at=NOW + 5, bytes=20)
    gone = make_job(JobStatus.expired, expires_at=NOW - 100)
    recent = make_job(JobStatus.expired, expires_at=NOW - 1)
    for job in (queued, done_due, failed_due, done_live, gone, recent):
        await store.add(job)
    assert {j.id for j in await store.due(NOW)} == {done_due.id, failed_due.id}
    assert {j.id for j in await store.stale_records(NOW - 50)} == {gone.id}
    assert {j.id for j in await store.unfinished()} == {queued.id}
    assert await store.stored_bytes(NOW) == 20
    await store.update(done_live.id, status=JobStatus.expired)
    assert await store.stored_bytes(NOW) == 0


async def test_only_one_lock_holder(store: JobStore) -> None:
    first = await store.try_lock("sweeper", 30)
    assert first is not None
    assert await store.try_lock("sweeper", 30) is None
    assert await store.try_lock("other", 30) is not None
    await store.unlock("sweeper", "not-the-token")
    assert await store.try_lock("sweeper", 30) is None
    await store.unlock("sweeper", first)
    second = await store.try_lock("sweeper", 0.2)
    assert second is not None
    await asyncio.sleep(0.3)
    assert await store.try_lock("sweeper", 30) is not None  # an expired lock is free


async def test_status_counts_and_ping(store: JobStore) -> None:
    await store.ping()
    jobs = [
        make_job(JobStatus.queued),
        make_job(JobStatus.running),
        make_job(JobStatus.running),
        make_job(JobStatus.done, bytes=3),
        make_job(JobStatus.failed),
        make_job(JobStatus.expired),
    ]
    for job in jobs:
        await store.add(job)
    assert await store.status_counts() == {
        "queued": 1,
        "running": 2,
        "done": 1,
        "failed": 1,
        "expired": 1,
    }
    await store.update(jobs[3].id, status=JobStatus.expired)
    counts = await store.status_counts()
    assert counts["done"] == 0 and counts["expired"] == 2
