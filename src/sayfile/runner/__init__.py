"""Runners by setting: threads in this process (default) or Taskiq workers (queue_url)."""

from __future__ import annotations

from sayfile.runner.base import Runner
from sayfile.settings import Settings
from sayfile.synthesis import JobSynthesis


def build_runner(settings: Settings, synthesis: JobSynthesis) -> Runner:
    """In-process threads unless `SAYFILE_QUEUE_URL` names a Redis for Taskiq."""
    from sayfile.runner.local import InProcessRunner

    local = InProcessRunner(settings.synthesis_workers, settings.max_queue, synthesis)
    url = settings.queue_url
    if not url:
        return local
    if url.startswith(("redis://", "rediss://", "unix://")):
        from sayfile.runner.queue import TaskiqRunner

        return TaskiqRunner(settings, local)
    raise ValueError(f"SAYFILE_QUEUE_URL {url!r}: use redis://host:port/db, or leave it unset")


__all__ = ["Runner", "build_runner"]
