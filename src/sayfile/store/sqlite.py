"""The embedded job store: one SQLite file in the data folder (through aiosqlite's thread)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sqlite3
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import aiosqlite

from sayfile.errors import DiskFull
from sayfile.store.records import Job, JobStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    key TEXT NOT NULL,
    expires_at REAL NOT NULL,
    bytes INTEGER,
    client TEXT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL);
"""
_COLUMNS = "status = ?, key = ?, expires_at = ?, bytes = ?, client = ?, record = ?"
_INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, status);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (status, expires_at);
CREATE INDEX IF NOT EXISTS jobs_client ON jobs (client, status);
"""


async def _write_ahead_log(db: aiosqlite.Connection, within: float = 30.0) -> None:
    """Put the database file in WAL mode. While another process does the same to a new file,
    SQLite answers "database is locked" at once, without waiting as it does for a write, so
    the switch is tried again for up to `within` seconds (the connection's own wait)."""
    wait = 0.01
    deadline = time.monotonic() + within
    while True:
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + wait > deadline:
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, 0.5)


class SqliteJobStore:
    """Records are JSON in `record`; the columns beside it are copies kept for queries."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._opening = asyncio.Lock()

    async def _conn(self) -> aiosqlite.Connection:
        """The one connection, opened by the first call; calls at the same time wait for it
        (each had opened one of its own, and all but one were left unclosed)."""
        if self._db is not None:
            return self._db
        async with self._opening:
            if self._db is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                db = await aiosqlite.connect(self._path, timeout=30)
                try:
                    await self._prepare(db)
                except BaseException:
                    await db.close()
                    raise
                self._db = db
        return self._db

    @staticmethod
    async def _prepare(db: aiosqlite.Connection) -> None:
        """Tables and indexes made, and a data folder from before per-client counts brought
        up to date, in a write transaction of its own: another process opening the same
        folder at the same moment waits for it, then finds the column there."""
        await _write_ahead_log(db)
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(_SCHEMA)
        await db.execute("BEGIN IMMEDIATE")
        async with db.execute("PRAGMA table_info(jobs)") as cursor:
            columns = {row[1] for row in await cursor.fetchall()}
        if "client" not in columns:
            await db.execute("ALTER TABLE jobs ADD COLUMN client TEXT")
            await db.execute("UPDATE jobs SET client = json_extract(record, '$.client')")
        await db.commit()
        await db.executescript(_INDEXES)

    async def _write(self, job: Job, expected: Collection[JobStatus] | None = None) -> bool:
        """Insert `job`, or with `expected` replace it only while its stored status is one of
        those (the compare-and-set of `change`). True when a row was written."""
        db = await self._conn()
        values = (
            job.status.value,
            job.key,
            job.expires_at,
            job.bytes,
            job.client,
            json.dumps(job.to_dict()),
        )
        with _disk_full_named():
            cursor = await self._execute(db, job, values, expected)
            await db.commit()
        return cursor.rowcount == 1

    async def _execute(
        self,
        db: aiosqlite.Connection,
        job: Job,
        values: tuple[Any, ...],
        expected: Collection[JobStatus] | None,
    ) -> aiosqlite.Cursor:
        if expected is None:
            return await db.execute(
                "INSERT INTO jobs (status, key, expires_at, bytes, client, record, id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*values, job.id),
            )
        marks = ", ".join("?" * len(expected))  # placeholders only: no value in the SQL
        sql = f"UPDATE jobs SET {_COLUMNS} WHERE id = ? AND status IN ({marks})"  # noqa: S608
        return await db.execute(sql, (*values, job.id, *(status.value for status in expected)))

    async def _select(self, where: str, *args: Any) -> list[Job]:
        db = await self._conn()
        async with db.execute(f"SELECT record FROM jobs WHERE {where}", args) as cursor:  # noqa: S608
            rows = await cursor.fetchall()
        return [Job.from_dict(json.loads(row[0])) for row in rows]

    async def add(self, job: Job) -> None:
        await self._write(job)

    async def get(self, job_id: str) -> Job | None:
        found = await self._select("id = ?", job_id)
        return found[0] if found else None

    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None:
        # The UPDATE's `status IN (...)` is the compare-and-set: a writer in another process
        # that changed the status since the read makes it write nothing.
        async with self._lock:
            job = await self.get(job_id)
            if job is None or job.status not in expected:
                return None
            new = job.evolve(**fields)
            return new if await self._write(new, {job.status}) else None

    async def find_done(self, key: str, now: float) -> Job | None:
        found = await self._select(
            "key = ? AND status = 'done' AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
            key,
            now,
        )
        return found[0] if found else None

    async def due(self, now: float) -> list[Job]:
        return await self._select("status IN ('done', 'failed') AND expires_at <= ?", now)

    async def stale_records(self, before: float) -> list[Job]:
        return await self._select("status = 'expired' AND expires_at <= ?", before)

    async def unfinished(self) -> list[Job]:
        return await self._select("status IN ('queued', 'running')")

    async def active_count(self, client: str) -> int:
        db = await self._conn()
        async with db.execute(
            "SELECT COUNT(*) FROM jobs WHERE client = ? AND status IN ('queued', 'running')",
            (client,),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def stored_bytes(self, now: float) -> int:
        db = await self._conn()
        async with db.execute(
            "SELECT COALESCE(SUM(bytes), 0) FROM jobs WHERE status = 'done' AND expires_at > ?",
            (now,),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def delete(self, job_id: str) -> None:
        async with self._lock:
            db = await self._conn()
            await db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            await db.commit()

    async def status_counts(self) -> dict[str, int]:
        db = await self._conn()
        counts = dict.fromkeys((s.value for s in JobStatus), 0)
        async with db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status") as cursor:
            for status, count in await cursor.fetchall():
                counts[status] = int(count)
        return counts

    async def ping(self) -> None:
        db = await self._conn()
        async with db.execute("SELECT 1") as cursor:
            await cursor.fetchone()

    async def try_lock(self, name: str, seconds: float, token: str | None = None) -> str | None:
        token = token or secrets.token_hex(16)
        async with self._lock:
            db = await self._conn()
            now = time.time()
            with _disk_full_named():
                cursor = await db.execute(
                    "INSERT INTO locks (name, holder, until) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "until = excluded.until WHERE until <= ?",
                    (name, token, now + seconds, now),
                )
                await db.commit()
            return token if cursor.rowcount == 1 else None

    async def unlock(self, name: str, token: str) -> None:
        async with self._lock:
            db = await self._conn()
            with _disk_full_named():
                await db.execute("DELETE FROM locks WHERE name = ? AND holder = ?", (name, token))
                await db.commit()

    async def extend_lock(self, name: str, token: str, seconds: float) -> bool:
        async with self._lock:
            db = await self._conn()
            with _disk_full_named():
                cursor = await db.execute(
                    "UPDATE locks SET until = ? WHERE name = ? AND holder = ?",
                    (time.time() + seconds, name, token),
                )
                await db.commit()
            return cursor.rowcount == 1

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


@contextlib.contextmanager
def _disk_full_named() -> Iterator[None]:
    """SQLite's "database or disk is full" raised as DiskFull, which callers know."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "full" in str(exc):
            raise DiskFull() from exc
        raise
