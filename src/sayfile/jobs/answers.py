"""Audio made for someone waiting and kept in memory only (a direct answer nobody fetches
again needs no job record and no file), and the cache of recent answers that serves the same
text again at once."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sayfile.audio.formats import AudioFormat


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole audio file in memory, with what its response needs to name it."""

    data: bytes
    format: AudioFormat
    stem: str
    duration_s: float


class AnswerCache:
    """The most recent answers by cache key, up to `max_bytes` of audio in all, each until it
    expires. Used on the event loop only."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._size = 0
        self._entries: OrderedDict[str, tuple[Answer, float]] = OrderedDict()

    def get(self, key: str, now: float) -> Answer | None:
        """The answer kept under `key`, unless there is none or it has expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        answer, expires_at = entry
        if expires_at <= now:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return answer

    def put(self, key: str, answer: Answer, expires_at: float) -> None:
        """Keep `answer` until `expires_at`, forgetting the least recently used ones as needed.
        An answer larger than a quarter of the cache is not kept."""
        if len(answer.data) > self._max // 4:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (answer, expires_at)
        self._size += len(answer.data)
        while self._size > self._max:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        answer, _ = self._entries.pop(key)
        self._size -= len(answer.data)
