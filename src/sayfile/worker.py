"""The `sayfile worker` process (Taskiq imports `worker_broker`): its broker, the parts it is
built from, and the two tasks it runs, a job and a book's turn. The composition root of a worker,
as `app.py` is of the API process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Iterator
from typing import Any

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState

from sayfile.errors import SayfileError
from sayfile.models import SpeechRequest
from sayfile.queue.taskiq import (
    BOOK_TASK_NAME,
    TASK_NAME,
    TurnSlots,
    kick_book,
    make_broker,
)
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.store.records import FailureReason, Job
from sayfile.supervision import go_with_parent
from sayfile.wiring import STOP_WAIT_S, Parts


def worker_broker() -> AsyncBroker:
    """The broker of a `sayfile worker` process (Taskiq imports this factory): settings from
    the environment, voices loaded at start-up and kept, up to SAYFILE_WORKER_JOBS jobs at a
    time taking fair turns on the process's sentence executor."""
    # This runs in each worker process, which ends when `sayfile worker` does.
    go_with_parent(signal.SIGTERM)
    settings = Settings()
    broker = make_broker(settings)
    # Taskiq says "Executing task" at INFO for every message, a book's every turn among
    # them; the runners say at INFO what was made instead.
    logging.getLogger("taskiq.receiver").setLevel(logging.WARNING)
    holder: dict[str, Parts] = {}
    running: set[asyncio.Task[Any]] = set()

    async def startup(state: TaskiqState) -> None:
        parts = Parts.build(settings)
        await parts.start()
        await parts.warm_up()
        holder["parts"] = parts

    async def shutdown(state: TaskiqState) -> None:
        # Stopping (SIGTERM or SIGINT; the supervisor's death): what runs here stops at the
        # piece being made, as when the process is restarted (a book's part waits for another
        # turn, a job is failed as interrupted), within STOP_WAIT_S for the runners and as much
        # again for the pieces, however long an engine call hangs.
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT_S)
        if "parts" in holder:
            await holder.pop("parts").close()

    async def synthesize(payload: dict[str, Any]) -> None:
        with _tracked(running):
            await _synthesize(payload)

    async def _synthesize(payload: dict[str, Any]) -> None:
        parts = holder["parts"]
        job = Job.from_dict(payload["job"])
        try:
            request = SpeechRequest(
                payload["text"],
                voice=payload["voice"],
                format=payload["format"],
                speed=payload["speed"],
                loudness=payload.get("loudness"),
                lexicon=tuple(payload.get("lexicon", ())),
                text_format=payload.get("text_format"),
            )
            # Off the loop: finding a long text's languages takes a while (see plan.py).
            plan = await parts.synthesizer.executor.run(
                functools.partial(validate, request, parts.synthesizer, parts.settings, None)
            )
        except SayfileError as exc:
            await parts.records.lifecycle.fail(job.id, FailureReason.invalid, str(exc))
            return
        await parts.runner.run(job, plan)

    slots: list[TurnSlots] = []  # made with the parts, which know the sentence threads

    async def book(job_id: str, declined: int = 0) -> None:
        # One part per turn; a turn that leaves parts nobody holds queues the next behind
        # the other jobs, so a book takes every free worker without starving anyone.
        parts = holder["parts"]
        if not slots:
            slots.append(TurnSlots(parts.settings.parallel_sentences))
        if not await slots[0].take(declined):
            await kick_book(broker, job_id, 1, declined + 1)
            return
        try:
            with _tracked(running):
                more = await parts.books.turn(job_id)
        finally:
            await slots[0].give_back()
        if more:
            await kick_book(broker, job_id, 1)

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, shutdown)
    broker.register_task(synthesize, task_name=TASK_NAME)
    broker.register_task(book, task_name=BOOK_TASK_NAME)
    return broker


@contextlib.contextmanager
def _tracked(running: set[asyncio.Task[Any]]) -> Iterator[None]:
    """The current task is in `running` while the block runs (so shutdown can stop it)."""
    task = asyncio.current_task()
    assert task is not None
    running.add(task)
    try:
        yield
    finally:
        running.discard(task)
