"""Stopping an asyncio task for sure: cancelled, and cancelled again while it goes on.

A cancellation is one exception thrown into a task at one await; a library that catches it
there and carries on (redis-py does, now and then, in the middle of a command) leaves the task
running, and whoever awaits it after `cancel()` waits for ever. Seen in sayfile as a finished
job kept `running` for the stall bound by its lease's heartbeat loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

# How often a task that goes on after a cancellation is cancelled again.
NUDGE_S = 0.05


async def stop_task(task: asyncio.Task[Any], within_s: float | None = None) -> bool:
    """Cancel `task` and wait until it has ended, cancelling it again every NUDGE_S while it
    runs on; with `within_s`, wait that long at most. True when it ended (however: its result
    or error is dropped); False when it still runs after `within_s` (logged, left running)."""
    deadline = None if within_s is None else time.monotonic() + within_s
    while not task.done():
        task.cancel()
        wait_s = NUDGE_S if deadline is None else min(NUDGE_S, deadline - time.monotonic())
        if wait_s <= 0:
            log.warning("a task went on after being cancelled for %.1f s: %r", within_s, task)
            return False
        # `wait` neither raises the task's error nor cancels it on a time-out.
        await asyncio.wait({task}, timeout=wait_s)
    if not task.cancelled():
        task.exception()  # seen, so asyncio does not log it as never retrieved
    return True
