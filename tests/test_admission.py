"""Admission control of one process: places taken and given back, per client, under
cancellation and errors; a full process answers Busy with the time to wait."""

from __future__ import annotations

import asyncio

import pytest

from sayfile.errors import Busy
from sayfile.jobs.admission import RETRY_AFTER_S, Admission


def test_a_full_process_says_busy_and_when_to_try_again() -> None:
    admission = Admission(2)
    tickets = [admission.enter("alice"), admission.enter()]
    assert admission.depth == 2
    with pytest.raises(Busy) as busy:
        admission.enter("bob")
    assert busy.value.retry_after == RETRY_AFTER_S
    assert f"try again in {RETRY_AFTER_S} seconds" in str(busy.value)
    assert admission.under_way("bob") == 0  # the refused request holds nothing
    tickets[0].release()
    admission.enter("bob")
    assert admission.depth == 2


def test_a_process_with_no_places_takes_nothing() -> None:
    with pytest.raises(Busy):
        Admission(0).enter()


def test_a_ticket_given_back_twice_frees_one_place() -> None:
    admission = Admission(3)
    ticket = admission.enter("alice")
    admission.enter("alice")
    for _ in range(3):
        ticket.release()
    assert admission.depth == 1
    assert admission.under_way("alice") == 1


def test_each_client_is_counted_apart() -> None:
    admission = Admission(10)
    alice = [admission.enter("alice") for _ in range(3)]
    admission.enter("bob")
    admission.enter()  # a job: counted by its record, not per client
    assert (admission.under_way("alice"), admission.under_way("bob")) == (3, 1)
    assert admission.under_way("carol") == 0
    for ticket in alice:
        ticket.release()
    assert admission.under_way("alice") == 0
    assert admission.depth == 2


async def _held(admission: Admission, started: asyncio.Event, work: asyncio.Event) -> None:
    """What a stream does: a place for as long as it sends, given back however it ends."""
    ticket = admission.enter("alice")
    try:
        started.set()
        await work.wait()
        raise OSError("the client hung up")
    finally:
        ticket.release()


async def test_a_place_comes_back_when_its_request_is_cancelled_or_fails() -> None:
    admission = Admission(1)
    started, work = asyncio.Event(), asyncio.Event()
    cancelled = asyncio.create_task(_held(admission, started, work))
    await started.wait()
    with pytest.raises(Busy):
        admission.enter("bob")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert (admission.depth, admission.under_way("alice")) == (0, 0)
    started.clear()
    failing = asyncio.create_task(_held(admission, started, work))
    await started.wait()
    work.set()
    with pytest.raises(OSError):
        await failing
    assert (admission.depth, admission.under_way("alice")) == (0, 0)
    admission.enter("bob")
