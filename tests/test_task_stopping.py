"""Stopping a task that lets a cancellation pass unseen (task_stopping.py)."""

from __future__ import annotations

import asyncio
import contextlib

from sayfile.task_stopping import stop_task


async def _deaf(times: int, ended: list[str]) -> None:
    """Waits for ever, shrugging off the first `times` cancellations (as redis-py now and
    then does mid-command)."""
    missed = 0
    while True:
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            if missed == times:
                ended.append("stopped")
                raise
            missed += 1


async def test_a_task_that_misses_cancellations_is_cancelled_until_it_ends() -> None:
    ended: list[str] = []
    task = asyncio.create_task(_deaf(3, ended))
    await asyncio.sleep(0)
    assert await stop_task(task) is True
    assert task.cancelled() and ended == ["stopped"]


async def test_a_task_that_never_ends_is_given_up_after_the_bound() -> None:
    forever = asyncio.Event()

    async def stubborn() -> None:
        while not forever.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await stop_task(task, within_s=0.2) is False
    assert not task.done()
    forever.set()
    task.cancel()
    assert await stop_task(task) is True


async def test_an_ended_task_s_error_is_taken_not_raised() -> None:
    async def broken() -> None:
        raise ValueError("broken")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    assert await stop_task(task) is True and isinstance(task.exception(), ValueError)
