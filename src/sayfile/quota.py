"""The storage quota: bytes of audio really on disk (each file once, however many jobs link
to it, and `.part` files being written) plus what admitted jobs are still expected to write,
against SAYFILE_STORAGE_QUOTA_BYTES."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from sayfile.audio import AudioFormat
from sayfile.errors import StorageFull
from sayfile.events import JobEvents
from sayfile.files import AudioFiles

# Seconds of speech per character at speed 1, a little over what the voices take
# (bench/engines.py: Kokoro, Piper and espeak-ng read English at 0.056-0.058 s a character,
# Kokoro's Mandarin 0.17 s a character). Close, not generous: a book's reservation is
# millions of characters, and War and Peace (3.3 million) must fit the default quota in mp3.
_SECONDS_PER_CHAR = 0.065
_SECONDS_PER_CJK_CHAR = 0.2
_CJK = re.compile(r"[\u3040-\u9fff]")
# How long the disk's figure is trusted before it is counted again.
_FRESH_S = 1.0
# A reservation whose job's end was never heard of (an event lost) is dropped after this.
_RESERVATION_S = 6 * 3600


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
    """Admits jobs while the disk's audio and the reservations of jobs still working fit."""

    def __init__(
        self,
        files: AudioFiles,
        quota: int,
        events: JobEvents,
        clock: Callable[[], float] = time.monotonic,  # tests pass their own
    ) -> None:
        self._files = files
        self._clock = clock
        self._quota = quota
        # job id -> (bytes expected, when reserved)
        self._reserved: dict[str, tuple[int, float]] = {}
        self._disk: tuple[float, int, dict[str, int]] | None = None
        events.on_final(self.release)

    async def used(self) -> int:
        """Bytes of audio on disk now (a second old at most)."""
        return (await self._usage())[0]

    async def _usage(self) -> tuple[int, dict[str, int]]:
        now = self._clock()
        if self._disk is None or now - self._disk[0] > _FRESH_S:
            total, parts = await asyncio.to_thread(self._files.usage)
            self._disk = (now, total, parts)
        return self._disk[1], self._disk[2]

    async def reserve(self, job_id: str, estimate: int) -> None:
        """Hold `estimate` bytes for a job until its end is announced. Raises StorageFull
        (with the room left) when the disk's audio, the other jobs' reservations and this one
        would pass the quota."""
        total, parts = await self._usage()
        now = self._clock()
        for old in [j for j, (_, at) in self._reserved.items() if now - at > _RESERVATION_S]:
            del self._reserved[old]
        # What a working job has written already is on disk; only the rest is reserved.
        pending = sum(max(0, size - parts.get(j, 0)) for j, (size, _) in self._reserved.items())
        if total + pending + estimate > self._quota:
            raise StorageFull(self._quota, estimate, max(0, self._quota - total - pending))
        self._reserved[job_id] = (estimate, now)
        self._disk = (self._disk[0], total + estimate, parts) if self._disk else None

    def release(self, job_id: str) -> None:
        """The job has ended (done, failed, deleted): its file is on disk or gone."""
        if self._reserved.pop(job_id, None) is not None:
            self._disk = None  # count again: the file is there now
