"""What is kept: job records (their states and the one table of moves), the job stores by URL
scheme (none: embedded SQLite in the data folder; redis://; memory for tests) behind one
interface, and the audio files in the data folder.

May import: audio/ and the shared top-level modules."""

from __future__ import annotations

from sayfile.settings import Settings
from sayfile.store.base import JobStore


def build_store(settings: Settings) -> JobStore:
    """The store `SAYFILE_STORE_URL` names: unset for SQLite, `redis://` for Redis."""
    url = settings.store_url
    if not url:
        from sayfile.store.sqlite import SqliteJobStore

        return SqliteJobStore(settings.data_dir / "jobs.sqlite3")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from sayfile.store.redis import RedisJobStore

        return RedisJobStore(url, timeout=settings.redis_timeout_seconds)
    raise ValueError(f"SAYFILE_STORE_URL {url!r}: use redis://host:port/db, or leave it unset")


__all__ = ["JobStore", "build_store"]
