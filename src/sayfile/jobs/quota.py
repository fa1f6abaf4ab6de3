"""The storage quota, one count for every process that shares the data folder and the store:
bytes of audio really on disk (each file once, however many jobs link to it, unfinished
files being written and books' folders of parts) plus what unfinished jobs are still expected to
write (their records' `reserved_bytes`, less what each has written), against
SAYFILE_STORAGE_QUOTA_BYTES."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable

from sayfile.audio.formats import AudioFormat
from sayfile.errors import StorageFull
from sayfile.jobs.events import JobEvents
from sayfile.store.base import JobStore
from sayfile.store.files import AudioFiles

# Seconds of speech per character at speed 1, a little over what the voices take
# (bench/engines.py: Kokoro, Piper and espeak-ng read English at 0.056-0.058 s a character,
# Kokoro's Mandarin 0.17 s a character). Close, not generous: a book's reservation is
# millions of characters, and War and Peace (3.3 million) must fit the default quota in mp3.
_SECONDS_PER_CHAR = 0.065
_SECONDS_PER_CJK_CHAR = 0.2
_CJK = re.compile(r"[\u3040-\u9fff]")
# How long the disk's figure is trusted before it is counted again.
_FRESH_S = 1.0


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """An estimate, a little high, of how long `text` takes to say at `speed`."""
    cjk = len(text) - len(_CJK.sub("", text))  # in C, without a list of millions of matches
    return ((len(text) - cjk) * _SECONDS_PER_CHAR + cjk * _SECONDS_PER_CJK_CHAR) / speed


def estimate_bytes(
    text: str, fmt: AudioFormat, voice_rate: int, speed: float = 1.0, silence_s: float = 0.0
) -> int:
    """An estimate, a little high, of the file's size for `text` spoken in `fmt` at `speed`
    with `silence_s` of pauses: seconds of speech from its characters, plus the pauses, times
    the format's bit rate (16-bit samples at the file's rate for formats without one)."""
    seconds = speech_seconds(text, speed) + silence_s
    per_second = fmt.bit_rate // 8 if fmt.bit_rate else 2 * (fmt.sample_rate or voice_rate)
    return int(seconds * per_second) + 4096


class StorageQuota:
    """Admits jobs while the disk's audio and the reservations of unfinished jobs fit.

    A reservation is the `reserved_bytes` of a queued or running job's record, so every
    process sees it; it ends with the job (done, failed, deleted) with nothing to release.
    Within a process, `admitting` holds a lock from the check until the record is stored, so
    two requests at once cannot both take the last room; two processes at the same moment
    can each pass the check once (an overshoot of at most one job's estimate per process).
    """

    def __init__(
        self,
        files: AudioFiles,
        quota: int,
        store: JobStore,
        events: JobEvents,
        clock: Callable[[], float] = time.monotonic,  # tests pass their own
    ) -> None:
        self._files = files
        self._clock = clock
        self._quota = quota
        self._store = store
        self._lock = asyncio.Lock()
        self._disk: tuple[float, int, dict[str, int]] | None = None
        events.on_final(self._ended)

    def _ended(self, job_id: str) -> None:
        # Its reservation has gone from the store and its file is complete (or gone): the
        # disk is counted again, or the file would count for nothing until the next count.
        self._disk = None

    async def used(self) -> int:
        """Bytes of audio on disk now (a second old at most), books' parts included."""
        return (await self._usage())[0]

    async def _usage(self) -> tuple[int, dict[str, int]]:
        now = self._clock()
        if self._disk is None or now - self._disk[0] > _FRESH_S:
            total, written = await asyncio.to_thread(self._files.usage)
            self._disk = (now, total, written)
        return self._disk[1], self._disk[2]

    async def pending(self) -> int:
        """Bytes the unfinished jobs of every process are still expected to write."""
        _, written = await self._usage()
        jobs = await self._store.unfinished()
        return sum(max(0, job.reserved_bytes - written.get(job.id, 0)) for job in jobs)

    @contextlib.asynccontextmanager
    async def admitting(self, estimate: int) -> AsyncIterator[None]:
        """Checks that `estimate` more bytes fit, then holds the room while the block stores
        the job's record with `reserved_bytes=estimate`. Raises StorageFull (with the room
        left) when the disk's audio, the unfinished jobs' reservations and this one would
        pass the quota."""
        async with self._lock:
            total, _ = await self._usage()
            pending = await self.pending()
            if total + pending + estimate > self._quota:
                raise StorageFull(self._quota, estimate, max(0, self._quota - total - pending))
            yield
