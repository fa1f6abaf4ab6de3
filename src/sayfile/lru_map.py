"""Maps keyed by what clients send (job ids, targets) that keep at most a fixed number of
entries, the least recently used going first, so that no process grows with its clients."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar, overload

# Entries kept per job in one process's bookkeeping: far more jobs than one process has
# working or being downloaded at once, and at most a few megabytes.
KEPT_JOBS = 10_000

K = TypeVar("K")
V = TypeVar("V")


class LruMap(Generic[K, V]):
    """A dict of at most `size` entries: setting a new key past that drops the entry used
    least recently (read by `get` or set). Not thread-safe by itself: where threads share
    one, they hold a lock around each use."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LruMap holds at least one entry")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: V) -> V: ...

    def get(self, key: K, default: V | None = None) -> V | None:
        if key not in self._entries:
            return default
        self._entries.move_to_end(key)
        return self._entries[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def pop(self, key: K, default: V | None = None) -> V | None:
        return self._entries.pop(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
