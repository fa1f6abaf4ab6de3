"""Admission control of one process: how much synthesis it has taken on (jobs it runs,
streams it sends, answers it makes in memory) against SAYFILE_MAX_QUEUE, and how many streams
and answers each client has under way."""

from __future__ import annotations

from collections import Counter

from sayfile.errors import Busy

# What a refused request is told to wait before trying again.
RETRY_AFTER_S = 5


class Ticket:
    """A place taken; `release()` gives it back (once, however often it is called)."""

    def __init__(self, admission: Admission, client: str | None) -> None:
        self._admission = admission
        self._client = client
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission._leave(self._client)


class Admission:
    """At most `max_active` places at once in this process (used on the event loop only)."""

    def __init__(self, max_active: int) -> None:
        self._max = max_active
        self._taken = 0
        self._under_way: Counter[str] = Counter()

    @property
    def depth(self) -> int:
        """Places taken now."""
        return self._taken

    def enter(self, held_by: str | None = None) -> Ticket:
        """Take a place (for a stream or an answer, counted for client `held_by` too; a job is
        counted by its record). Raises Busy when the process has no place left."""
        if self._taken >= self._max:
            raise Busy(retry_after=RETRY_AFTER_S)
        self._taken += 1
        if held_by is not None:
            self._under_way[held_by] += 1
        return Ticket(self, held_by)

    def under_way(self, client: str) -> int:
        """Streams and answers `client` has under way in this process."""
        return self._under_way[client]

    def _leave(self, client: str | None) -> None:
        self._taken -= 1
        if client is not None:
            self._under_way[client] -= 1
            if not self._under_way[client]:
                del self._under_way[client]
