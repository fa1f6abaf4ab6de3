"""Jobs: one request for audio, its record, its states and the one table of moves between
them, and why a job failed."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

from sayfile.audio.formats import audio_format

_ID = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True, slots=True)
class Package:
    """How a job's result is delivered other than as one audio file."""

    name: str
    extension: str
    media_type: str


# A ZIP of one audio file per chapter, with each chapter's subtitles.
ZIP = Package("zip", "zip", "application/zip")
# A read-along EPUB 3: the book's text, one audio file per chapter, and Media Overlays; asked
# for as `format=epub` (`BOOK_FORMATS` in audio/formats.py).
EPUB = Package("epub", "epub", "application/epub+zip")
_PACKAGES = {package.name: package for package in (ZIP, EPUB)}
PACKAGES = ("file", *_PACKAGES)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    expired = "expired"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.done, JobStatus.failed, JobStatus.expired)

    @property
    def comes_from(self) -> frozenset[JobStatus]:
        """The statuses a job may be in just before it takes this one."""
        return frozenset(old for old, new in TRANSITIONS if new == self)


# Every move a job's status may make. Nothing leaves `expired`; nothing goes back to `queued`
# or `running`, so a job the sweeper failed can never come back as running or done.
# (Deleting a record, which cancelling does, is allowed from every status.)
TRANSITIONS: frozenset[tuple[JobStatus, JobStatus]] = frozenset(
    {
        (JobStatus.queued, JobStatus.running),
        (JobStatus.queued, JobStatus.failed),
        (JobStatus.running, JobStatus.done),
        (JobStatus.running, JobStatus.failed),
        (JobStatus.done, JobStatus.expired),
        (JobStatus.failed, JobStatus.expired),
    }
)


class FailureReason(StrEnum):
    """Why a job failed; `sayfile.jobs.lifecycle.failure_error` turns each into the error a
    waiting caller gets."""

    interrupted = "interrupted"  # the process running it stopped or restarted
    worker_lost = "worker_lost"  # no heartbeat from its process for the worker timeout
    not_picked_up = "not_picked_up"  # no worker took it within the queued timeout
    engine_error = "engine_error"
    disk_full = "disk_full"
    invalid = "invalid"  # a worker could not use the request (a voice it does not have)
    internal_error = "internal_error"


def new_job_id() -> str:
    """A capability token: 192 bits from the OS CSPRNG, URL-safe, 32 characters."""
    return secrets.token_urlsafe(24)


def is_job_id(value: str) -> bool:
    """True when `value` has the exact shape of a job id (and so is safe in a file name)."""
    return _ID.fullmatch(value) is not None


def cache_key(
    text: str, voice: str, fmt: str, speed: float, owner: str = "", variant: str = ""
) -> str:
    """Identical requests of one `owner` share this key (everybody's, with no owner); it
    never reveals the text. `variant` holds whatever else changes the audio (loudness,
    lexicon entries)."""
    material = "\x1f".join((text, voice, fmt, f"{speed:.4f}", owner, variant))
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
    # Why it failed (None unless failed).
    reason: FailureReason | None = None
    bytes: int | None = None
    duration_s: float | None = None
    # Refreshed while a process holds the job; a stale one means that process died.
    heartbeat_at: float | None = None
    # "host:pid" of the process synthesizing the job, for operators.
    worker: str | None = None
    # Who asked (hashed key or address), for per-client limits and fair turns.
    client: str | None = None
    # Someone is waiting for it now (a direct download): its sentences go before those of
    # jobs fetched later by link.
    interactive: bool = False
    # A book made in parts by any process (its folder holds them), and "zip" when it is
    # delivered as a ZIP of chapter files rather than one audio file ("epub": a read-along
    # EPUB, `format` the audio inside).
    book: bool = False
    package: str = "file"
    # Times the sweeper found no process working on a book and handed it out again.
    resumes: int = 0
    # Characters it speaks, and when a process started it: what its time left is told from.
    chars: int = 0
    started_at: float | None = None
    # The encoding an uploaded text or Markdown book was read in ("gb18030", "utf-8").
    encoding: str | None = None
    # Bytes the storage quota holds for it while it is unfinished (its estimated size),
    # counted by every process (`sayfile.jobs.quota`).
    reserved_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["reason"] = self.reason.value if self.reason else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        # Fields this version does not know (a record written by an older one) are left out.
        known = {k: v for k, v in data.items() if k in _FIELDS}
        reason = known.get("reason")
        known["status"] = JobStatus(known["status"])
        known["reason"] = FailureReason(reason) if reason in _REASONS else None
        return cls(**known)

    @property
    def extension(self) -> str:
        """The extension of the job's file."""
        package = _PACKAGES.get(self.package)
        return package.extension if package else audio_format(self.format).extension

    @property
    def media_type(self) -> str:
        """The media type of the job's file."""
        package = _PACKAGES.get(self.package)
        return package.media_type if package else audio_format(self.format).media_type

    @property
    def asked_format(self) -> str:
        """The format as the client asked for it: `epub` for a read-along book (whose audio
        is in `format`), else `format`."""
        return EPUB.name if self.package == EPUB.name else self.format

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


_FIELDS = frozenset(field.name for field in fields(Job))
_REASONS = frozenset(reason.value for reason in FailureReason)
