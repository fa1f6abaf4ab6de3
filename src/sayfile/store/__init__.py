"""Job stores by URL scheme: none (embedded SQLite in the data folder) or, later, redis://."""

from __future__ import annotations

from sayfile.settings import Settings
from sayfile.store.base import JobStore


def build_store(settings: Settings) -> JobStore:
    from sayfile.store.sqlite import SqliteJobStore

    return SqliteJobStore(settings.data_dir / "jobs.sqlite3")


__all__ = ["JobStore", "build_store"]
