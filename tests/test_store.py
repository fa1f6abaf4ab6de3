"""One contract, every job store: SQLite (embedded) and Redis (scale-out)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import RedisDatabases, RedisServer
from sayfile.store.base import JobStore
from sayfile.store.memory import MemoryJobStore
from sayfile.store.records import FailureReason, Job, JobStatus, cache_key, new_job_id
from sayfile.store.redis import Keys, RedisJobStore, connect
from sayfile.store.sqlite import SqliteJobStore

NOW = 1_000_000.0
# Redis is a real server: the slow layer.
BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.slow)]
EVERY_STATUS = frozenset(JobStatus)
# WATCHes each of 81 changes of one record at once may send, on average: 14-16 with the
# store's wait after a lost round on a quiet machine, 18-19 with three busy loops beside it on
# the two cores; 34-37 without the wait.
WATCHES_PER_WRITER = 26


@dataclass
class Backend:
    """One store backend as the contract sees it: `store`, `another()` (a second store on the
    same records, as another process has it) and `write_old(records)` (records as the
    previous version wrote them; call it before the store is first used)."""

    store: JobStore
    reopen: Callable[[], JobStore]
    write_old: Callable[[list[dict[str, Any]]], Awaitable[None]]
    opened: list[JobStore] = field(default_factory=list)

    def another(self) -> JobStore:
        store = self.reopen()
        self.opened.append(store)
        return store


# The jobs table of the previous version (no `client` column yet).
_OLD_SQLITE_JOBS = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    key TEXT NOT NULL,
    expires_at REAL NOT NULL,
    bytes INTEGER,
    record TEXT NOT NULL
);
"""


def _sqlite_backend(path: Path) -> Backend:
    async def write_old(records: list[dict[str, Any]]) -> None:
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.executescript(_OLD_SQLITE_JOBS)
            db.executemany(
                "INSERT INTO jobs (id, status, key, expires_at, bytes, record) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r["id"], r["status"], r["key"], r["expires_at"], r["bytes"], json.dumps(r))
                    for r in records
                ],
            )
            db.commit()

    return Backend(SqliteJobStore(path), lambda: SqliteJobStore(path), write_old)


def _redis_backend(url: str) -> Backend:
    keys = Keys(f"test-{uuid.uuid4().hex}")

    async def write_old(records: list[dict[str, Any]]) -> None:
        # The previous version's layout: the same keys, without the per-client counts.
        redis = connect(url, 2.0)
        try:
            for record in records:
                job_id, status = record["id"], JobStatus(record["status"])
                await redis.set(keys.job(job_id), json.dumps(record))
                await redis.sadd(keys.ids, job_id)
                if not status.finished:
                    await redis.sadd(keys.unfinished, job_id)
                elif status == JobStatus.expired:
                    await redis.zadd(keys.expired, {job_id: record["expires_at"]})
                else:
                    await redis.zadd(keys.due, {job_id: record["expires_at"]})
                if status == JobStatus.done:
                    await redis.zadd(keys.done(record["key"]), {job_id: record["expires_at"]})
                    await redis.hset(keys.sizes, job_id, str(record["bytes"] or 0))
        finally:
            await redis.aclose()

    return Backend(RedisJobStore(url, keys=keys), lambda: RedisJobStore(url, keys=keys), write_old)


def _memory_backend() -> Backend:
    store = MemoryJobStore()

    async def write_old(records: list[dict[str, Any]]) -> None:
        # No earlier version kept records in memory: the old records are read as they are.
        for record in records:
            await store.add(Job.from_dict(record))

    # Another process sharing an in-memory store is the same object.
    return Backend(store, lambda: store, write_old)


@contextlib.asynccontextmanager
async def open_backend(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Backend]:
    """The backend `name` on fresh, empty storage; every store it opened is closed after."""
    if name == "memory":
        backend = _memory_backend()
    elif name == "sqlite":
        backend = _sqlite_backend(tmp_path / "jobs.sqlite3")
    else:
        redis: RedisDatabases = request.getfixturevalue("redis_server")
        backend = _redis_backend(redis.url())
    try:
        yield backend
    finally:
        for store in [backend.store, *backend.opened]:
            await store.close()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with open_backend(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def store(backend: Backend) -> JobStore:
    return backend.store


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


def old_record(status: JobStatus, **fields: object) -> dict[str, Any]:
    """A record as the previous version wrote it (`error_code`, no `reason`)."""
    return {
        "id": new_job_id(),
        "status": status.value,
        "format": "mp3",
        "voice": "espeak:en-us",
        "key": "k",
        "stem": "hello",
        "created_at": NOW,
        "expires_at": NOW + 60,
        "one_time": False,
        "progress": 0.0,
        "error": None,
        "error_code": None,
        "bytes": None,
        "duration_s": None,
        "heartbeat_at": None,
        "worker": None,
        "client": None,
        **fields,
    }


async def test_records_round_trip(store: JobStore) -> None:
    job = make_job(one_time=True, heartbeat_at=NOW, client="alice", interactive=True)
    failed = make_job(
        JobStatus.failed, reason=FailureReason.disk_full, error="No space left on device"
    )
    await store.add(job)
    await store.add(failed)
    assert await store.get(job.id) == job
    assert await store.get(failed.id) == failed
    assert await store.get(new_job_id()) is None
    assert await store.unfinished() == [job]


async def test_change_changes_fields_while_the_status_is_expected(store: JobStore) -> None:
    job = make_job()
    await store.add(job)
    running = await store.change(
        job.id, {JobStatus.queued}, status=JobStatus.running, progress=0.5, worker="host:1"
    )
    assert running == job.evolve(status=JobStatus.running, progress=0.5, worker="host:1")
    assert await store.get(job.id) == running
    assert await store.unfinished() == [running]
    beat = await store.change(job.id, {JobStatus.running}, heartbeat_at=NOW + 1)
    assert beat == running.evolve(heartbeat_at=NOW + 1)
    assert await store.get(job.id) == beat


async def test_change_refuses_a_status_not_expected(store: JobStore) -> None:
    done = make_job(JobStatus.done, bytes=5, client="alice")
    queued = make_job(client="alice")
    await store.add(done)
    await store.add(queued)
    assert (
        await store.change(
            done.id, {JobStatus.queued, JobStatus.running}, status=JobStatus.failed, error="late"
        )
        is None
    )
    assert await store.change(queued.id, {JobStatus.running}, progress=0.5) is None
    assert await store.change(queued.id, set(), status=JobStatus.running) is None
    assert await store.change(new_job_id(), EVERY_STATUS, progress=0.5) is None
    assert await store.get(done.id) == done
    assert await store.get(queued.id) == queued
    assert await store.stored_bytes(NOW) == 5
    assert await store.active_count("alice") == 1


async def test_only_one_of_many_concurrent_starts_wins(backend: Backend) -> None:
    # Half the writers use a second store on the same records, as another process would.
    job = make_job(client="alice")
    await backend.store.add(job)
    stores = [backend.store, backend.another()]
    results = await asyncio.gather(
        *(
            stores[i % 2].change(
                job.id, {JobStatus.queued}, status=JobStatus.running, worker=f"host:{i}"
            )
            for i in range(40)
        )
    )
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert await backend.store.get(job.id) == winners[0]
    assert await backend.store.active_count("alice") == 1
    assert (await backend.store.status_counts())["running"] == 1


async def test_concurrent_changes_lose_nothing(store: JobStore) -> None:
    job = make_job(JobStatus.running)
    await store.add(job)
    await asyncio.gather(
        *(store.change(job.id, {JobStatus.running}, progress=i / 100) for i in range(40)),
        store.change(job.id, {JobStatus.running}, status=JobStatus.done, bytes=123),
        *(store.change(job.id, {JobStatus.running}, heartbeat_at=NOW + i) for i in range(40)),
    )
    final = await store.get(job.id)
    assert final is not None and final.status == JobStatus.done and final.bytes == 123
    assert await store.stored_bytes(NOW) == 123


async def test_more_callers_at_once_than_connections_all_get_their_answer(
    store: JobStore,
) -> None:
    """A busy server process has hundreds of requests at the store at once (polls, new jobs,
    workers' progress): more than the Redis client's pool of connections. A call that finds
    every connection in use waits for one, within the store's timeout, instead of failing
    with "Too many connections" (a 503 to a user for being one too many)."""
    clients = [f"client-{uuid.uuid4().hex}" for _ in range(7)]
    jobs = [make_job(JobStatus.queued, client=clients[n % 7]) for n in range(300)]
    await asyncio.gather(*(store.add(job) for job in jobs))
    changed = await asyncio.gather(
        *(store.change(job.id, {JobStatus.queued}, status=JobStatus.running) for job in jobs),
        *(store.get(job.id) for job in jobs),
    )
    assert all(record is not None for record in changed)
    records = await asyncio.gather(*(store.get(job.id) for job in jobs))
    assert all(r is not None and r.status == JobStatus.running for r in records)
    assert [await store.active_count(client) for client in clients] == [43] * 6 + [42]


async def test_a_deleted_record_is_never_resurrected(store: JobStore) -> None:
    job = make_job(JobStatus.running, client="alice")
    await store.add(job)
    await store.delete(job.id)
    assert await store.change(job.id, EVERY_STATUS, progress=0.9) is None
    assert await store.change(job.id, EVERY_STATUS, status=JobStatus.done, bytes=9) is None
    racing = make_job(client="alice")
    await store.add(racing)
    await asyncio.gather(
        *(store.change(racing.id, {JobStatus.queued}, progress=i / 100) for i in range(20)),
        store.delete(racing.id),
        *(store.change(racing.id, EVERY_STATUS, status=JobStatus.running) for _ in range(20)),
    )
    for gone in (job, racing):
        assert await store.get(gone.id) is None
    assert await store.unfinished() == []
    assert await store.active_count("alice") == 0
    assert await store.stored_bytes(NOW) == 0
    assert set((await store.status_counts()).values()) == {0}


async def test_active_count_follows_queued_and_running_jobs(store: JobStore) -> None:
    to_finish, to_fail, to_delete = (make_job(client="alice") for _ in range(3))
    bobs = make_job(JobStatus.running, client="bob")
    finished = [
        make_job(JobStatus.done, bytes=1, client="alice"),
        make_job(JobStatus.failed, client="alice"),
        make_job(JobStatus.expired, client="alice"),
    ]
    for job in (to_finish, to_fail, to_delete, bobs, make_job(), *finished):
        await store.add(job)
    assert await store.active_count("alice") == 3
    assert await store.active_count("bob") == 1
    assert await store.active_count("carol") == 0

    await store.change(to_finish.id, {JobStatus.queued}, status=JobStatus.running)
    assert await store.active_count("alice") == 3
    await store.change(to_finish.id, {JobStatus.running}, status=JobStatus.done, bytes=2)
    assert await store.active_count("alice") == 2
    await store.change(to_fail.id, {JobStatus.queued}, status=JobStatus.failed)
    assert await store.active_count("alice") == 1
    await store.delete(to_delete.id)
    assert await store.active_count("alice") == 0
    # Finished jobs going away, or refused changes, leave the count alone.
    await store.change(to_finish.id, {JobStatus.queued}, status=JobStatus.running)
    await store.change(finished[0].id, {JobStatus.done}, status=JobStatus.expired)
    for job in finished:
        await store.delete(job.id)
    assert await store.active_count("alice") == 0
    assert await store.active_count("bob") == 1
    await store.delete(bobs.id)
    assert await store.active_count("bob") == 0


async def test_records_of_the_previous_version_load(backend: Backend) -> None:
    failed = old_record(JobStatus.failed, error="No space left on device", error_code="disk_full")
    done = old_record(JobStatus.done, bytes=7, duration_s=1.5, key="cached")
    queued = old_record(JobStatus.queued)
    await backend.write_old([failed, done, queued])
    store = backend.store

    loaded = await store.get(failed["id"])
    assert loaded is not None
    assert (loaded.status, loaded.error, loaded.reason) == (
        JobStatus.failed,
        "No space left on device",
        None,  # the previous version recorded no reason
    )
    assert await store.find_done("cached", NOW) == await store.get(done["id"])
    assert await store.stored_bytes(NOW) == 7
    assert [job.id for job in await store.unfinished()] == [queued["id"]]
    assert {job.id for job in await store.due(NOW + 60)} == {failed["id"], done["id"]}
    assert await store.status_counts() == {
        "queued": 1,
        "running": 0,
        "done": 1,
        "failed": 1,
        "expired": 0,
    }
    expired = await store.change(failed["id"], {JobStatus.failed}, status=JobStatus.expired)
    assert expired is not None and await store.get(failed["id"]) == expired
    started = await store.change(queued["id"], {JobStatus.queued}, status=JobStatus.running)
    assert started is not None and await store.get(queued["id"]) == started


async def test_jobs_in_flight_from_the_previous_version_are_counted(backend: Backend) -> None:
    queued = old_record(JobStatus.queued, client="alice")
    await backend.write_old([queued])
    store = backend.store
    assert await store.active_count("alice") == 1
    failed = await store.change(queued["id"], {JobStatus.queued}, status=JobStatus.failed)
    assert failed is not None
    assert await store.active_count("alice") == 0
    another = make_job(client="alice")
    await store.add(another)
    assert await store.active_count("alice") == 1


async def test_jobs_added_while_the_previous_versions_are_counted_are_counted_once(
    backend: Backend,
) -> None:
    """The first calls after an upgrade count the previous version's unfinished jobs, in two
    processes at once, while both add jobs for the same client: each job is counted once.
    (The count and its flag had been two steps: jobs added between them were counted twice,
    by their own add and by the count, and the client kept them for ever.)"""
    await backend.write_old([old_record(JobStatus.queued, client="alice") for _ in range(5)])
    stores = [backend.store, backend.another()]
    added = [make_job(client="alice") for _ in range(180)]
    await asyncio.gather(*(stores[n % 2].add(job) for n, job in enumerate(added)))
    assert [await store.active_count("alice") for store in stores] == [185, 185]


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
    await store.change(live.id, {JobStatus.done}, status=JobStatus.expired)
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
    await store.change(done_live.id, {JobStatus.done}, status=JobStatus.expired)
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


async def test_a_lock_taken_with_the_holders_own_token_is_known_by_it(store: JobStore) -> None:
    """A holder that brings its own token finds the lock is its own even if the answer to
    its `try_lock` was lost: `extend_lock` with that token succeeds, for it alone."""
    mine = "token-of-this-process"
    assert await store.try_lock("sweeper", 30, mine) == mine
    assert await store.try_lock("sweeper", 30, mine) is None  # held: not taken twice
    assert await store.try_lock("sweeper", 30) is None
    assert await store.extend_lock("sweeper", mine, 30)
    assert not await store.extend_lock("sweeper", "another-token", 30)
    await store.unlock("sweeper", mine)
    assert await store.try_lock("sweeper", 30) is not None


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
    await store.change(jobs[3].id, {JobStatus.done}, status=JobStatus.expired)
    counts = await store.status_counts()
    assert counts["done"] == 0 and counts["expired"] == 2


@pytest.mark.slow
async def test_redis_writers_of_one_record_wait_their_turn(
    own_redis_server: RedisServer,
) -> None:
    """81 changes of one record at once: a change that lost the record to another writer
    waits a random, growing while before it reads it again, so they do not all read it again
    at once and lose again; counted by the WATCHes Redis was sent (on a server of this test's
    own, so nobody else's). Without the wait nearly every one of them loses every round. What
    is counted is turns, not time: the store is given 10 s, since on a machine busy with other
    tests the 81 writers' turns had once taken longer than the default 2 s."""
    store = RedisJobStore(
        own_redis_server.url(), timeout=10.0, keys=Keys(f"test-{uuid.uuid4().hex}")
    )
    redis = connect(own_redis_server.url(), 2.0)
    try:
        job = make_job(JobStatus.running)
        await store.add(job)
        await redis.config_resetstat()
        writers = 81
        await asyncio.gather(
            *(store.change(job.id, {JobStatus.running}, progress=i / 100) for i in range(writers))
        )
        watches = (await redis.info("commandstats"))["cmdstat_watch"]["calls"]
        assert writers <= watches < WATCHES_PER_WRITER * writers, watches
    finally:
        await redis.aclose()
        await store.close()


async def test_redis_keeps_no_count_for_a_client_with_nothing_unfinished(
    redis_server: RedisDatabases,
) -> None:
    """Per-client counts are a hash in Redis: a field per client that has asked would grow
    with every address that ever sent a job; a client whose jobs have all ended has none."""
    keys = Keys(f"test-{uuid.uuid4().hex}")
    store = RedisJobStore(redis_server.url(), keys=keys)
    redis = connect(redis_server.url(), 2.0)
    try:
        jobs = [make_job(client=f"client-{n}") for n in range(50)]
        for job in jobs:
            await store.add(job)
        assert await redis.hlen(keys.active) == 50
        for job in jobs[:49]:
            await store.change(job.id, {JobStatus.queued}, status=JobStatus.failed)
        await store.delete(jobs[49].id)
        assert await redis.hlen(keys.active) == 0
        assert await store.active_count("client-0") == 0
    finally:
        await redis.aclose()
        await store.close()
