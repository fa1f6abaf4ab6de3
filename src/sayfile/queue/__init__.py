"""Job queues by setting: jobs run in this process (default), or go through Taskiq on Redis
to `sayfile worker` processes (SAYFILE_QUEUE_URL).

May import: runners/ and everything below; never services/ or above."""

from __future__ import annotations

from sayfile.jobs.admission import Admission
from sayfile.queue.base import JobQueue
from sayfile.runners.book_runner import BookRunner
from sayfile.runners.job_runner import JobRunner
from sayfile.settings import Settings


def build_queue(
    settings: Settings, runner: JobRunner, books: BookRunner, admission: Admission
) -> JobQueue:
    """In this process unless `SAYFILE_QUEUE_URL` names a Redis for Taskiq."""
    url = settings.queue_url
    if not url:
        from sayfile.queue.local import InProcessJobQueue

        return InProcessJobQueue(runner, books, admission, settings.parallel_sentences)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from sayfile.queue.taskiq import TaskiqJobQueue

        return TaskiqJobQueue(settings)
    raise ValueError(f"SAYFILE_QUEUE_URL {url!r}: use redis://host:port/db, or leave it unset")


__all__ = ["JobQueue", "build_queue"]
