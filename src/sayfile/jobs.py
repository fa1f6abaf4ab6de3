"""Jobs: one request for audio, its record, and its lifetime states."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

_ID = re.compile(r"[A-Za-z0-9_-]{32}")


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    expired = "expired"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.done, JobStatus.failed, JobStatus.expired)


def new_job_id() -> str:
    """A capability token: 192 bits from the OS CSPRNG, URL-safe, 32 characters."""
    return secrets.token_urlsafe(24)


def is_job_id(value: str) -> bool:
    """True when `value` has the exact shape of a job id (and so is safe in a file name)."""
    return _ID.fullmatch(value) is not None


def cache_key(text: str, voice: str, fmt: str, speed: float) -> str:
    """Identical requests share this key; it never reveals the text."""
    material = "\x1f".join((text, voice, fmt, f"{speed:.4f}"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Job:
    """The record of one job as the store keeps it (JSON-able, no text inside)."""

    id: str
    status: JobStatus
    format: str
    voice: str
    key: str
    stem: str
    created_at: float
    expires_at: float
    one_time: bool = False
    progress: float = 0.0
    error: str | None = None
    # Why it failed, as the error table's code (disk_full, engine_error, interrupted...).
    error_code: str | None = None
    bytes: int | None = None
    duration_s: float | None = None
    # Refreshed while a process holds the job; a stale one means that process died.
    heartbeat_at: float | None = None
    # "host:pid" of the process synthesizing the job, for operators.
    worker: str | None = None
    # Who asked (hashed key or address), for per-client limits.
    client: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "status": JobStatus(data["status"])})

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)
