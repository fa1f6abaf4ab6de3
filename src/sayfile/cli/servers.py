"""`sayfile serve` (the web page and HTTP API on uvicorn), `sayfile worker` (Taskiq
synthesis processes for SAYFILE_QUEUE_URL) and `sayfile wyoming` (the Wyoming protocol, for
Home Assistant): the long-running processes."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from sayfile.cli.terminal import error_exit, lexicons_or_exit, settings_or_exit

SHUTDOWN_GRACE_SECONDS = 10
"""How long `serve` waits on SIGTERM for open requests to finish."""
# How long a `sayfile worker` process takes at most to stop once asked: its jobs' runners
# and the pieces being made get 5 s each (wiring.STOP_WAIT_S), the store the rest.
WORKER_STOP_SECONDS = 15


def serve(
    host: Annotated[str, typer.Option(envvar="SAYFILE_HOST", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="SAYFILE_PORT", help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="SAYFILE_DATA_DIR", help="Folder for job records and audio."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            envvar="SAYFILE_WORKERS",
            min=1,
            help="API processes. More than one needs SAYFILE_STORE_URL (Redis) so they share "
            "job records.",
        ),
    ] = 1,
    root_path: Annotated[
        str | None,
        typer.Option(
            envvar="SAYFILE_ROOT_PATH",
            help="Path prefix the server is reached under behind a reverse proxy (/tts); "
            "every link it makes starts with it.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(envvar="SAYFILE_LOG_LEVEL")] = "info",
) -> None:
    """Serve the web page and HTTP API (uvicorn)."""
    import uvicorn

    from sayfile.api.http_protocol import HEAD_TIMEOUT_ENV, MAX_HEAD_ENV, HeadLimitedProtocol
    from sayfile.logs import log_config

    # Settings are read from the environment inside the app factory, so flags go there too.
    os.environ["SAYFILE_HOST"] = host
    os.environ["SAYFILE_PORT"] = str(port)
    if data_dir is not None:
        os.environ["SAYFILE_DATA_DIR"] = str(data_dir)
    if root_path is not None:
        os.environ["SAYFILE_ROOT_PATH"] = root_path
    settings = settings_or_exit()
    lexicons_or_exit(settings)
    if workers > 1 and settings.wyoming_in_serve:
        raise error_exit(
            "SAYFILE_WYOMING_IN_SERVE needs --workers 1 (one process holds the port); run "
            "`sayfile wyoming` beside the API processes instead."
        )
    if workers > 1 and not settings.store_url:
        raise error_exit(
            "--workers above 1 needs SAYFILE_STORE_URL=redis://... so the processes share job "
            "records (and usually SAYFILE_QUEUE_URL for synthesis workers)."
        )
    os.environ[MAX_HEAD_ENV] = str(settings.max_header_bytes)
    os.environ[HEAD_TIMEOUT_ENV] = str(settings.header_timeout_seconds)
    uvicorn.run(
        # With one process the app runs in this one; with more, in child processes that must
        # not outlive uvicorn's supervisor.
        "sayfile.app:worker_app" if workers > 1 else "sayfile.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(settings.log_format, log_level),
        # Access lines come from sayfile (route templates, never job ids in paths), and
        # X-Forwarded-For is trusted only per SAYFILE_TRUSTED_PROXIES.
        access_log=False,
        proxy_headers=False,
        # The path prefix is the app's (SAYFILE_ROOT_PATH, api/path_prefix.py), not
        # uvicorn's --root-path, so that every way of running the app honours it.
        # Bounds on a request's head that uvicorn's own protocol lacks.
        http=HeadLimitedProtocol,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        workers=workers,
    )


def worker(
    processes: Annotated[
        int,
        typer.Option(envvar="SAYFILE_WORKER_PROCESSES", min=1, help="Synthesis processes."),
    ] = 2,
    log_level: Annotated[str, typer.Option(envvar="SAYFILE_LOG_LEVEL")] = "INFO",
) -> None:
    """Run synthesis worker processes for SAYFILE_QUEUE_URL (Taskiq); each loads its voices
    once and synthesizes up to SAYFILE_WORKER_JOBS jobs at a time in fair turns,
    SAYFILE_PARALLEL_SENTENCES sentences at once (unset: the machine's cores shared out
    between the processes). Dead processes are restarted."""
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker

    from sayfile.queue.taskiq import parallel_sentences_per_process
    from sayfile.supervision import SUPERVISOR_ENV

    settings = settings_or_exit()
    lexicons_or_exit(settings)
    if not settings.queue_url or not settings.store_url:
        raise error_exit(
            "`sayfile worker` needs SAYFILE_QUEUE_URL and SAYFILE_STORE_URL (redis://)."
        )
    # The worker processes read their settings from the environment they inherit.
    os.environ["SAYFILE_PARALLEL_SENTENCES"] = str(
        parallel_sentences_per_process(settings, processes)
    )
    # ...and go when this process goes, even if it is killed (see supervision.py).
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    status = run_worker(
        WorkerArgs(
            broker="sayfile.worker:worker_broker",
            modules=[],
            workers=processes,
            max_async_tasks=settings.worker_jobs,
            max_prefetch=0,
            log_level=log_level.upper(),  # type: ignore[arg-type]
            # On SIGTERM the jobs running are stopped at their current piece by the
            # broker's shutdown (worker.py), not waited for: a book's part can take
            # minutes. Its bound: WORKER_STOP_SECONDS.
            wait_tasks_timeout=0,
            shutdown_timeout=WORKER_STOP_SECONDS,
        )
    )
    raise typer.Exit(status or 0)


def wyoming(
    host: Annotated[
        str, typer.Option(envvar="SAYFILE_WYOMING_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="SAYFILE_WYOMING_PORT", help="Port to listen on.")
    ] = 10200,
    log_level: Annotated[str, typer.Option(envvar="SAYFILE_LOG_LEVEL")] = "info",
) -> None:
    """Serve the Wyoming protocol (Home Assistant's voice pipeline: Settings > Devices &
    services > Add Integration > Wyoming Protocol), with every voice, speaking as the HTTP
    stream does. It makes no jobs, so it may run beside `sayfile serve` or Redis workers."""
    import asyncio
    import logging.config

    from sayfile.logs import log_config
    from sayfile.wyoming_server import run_wyoming

    os.environ["SAYFILE_WYOMING_HOST"] = host
    os.environ["SAYFILE_WYOMING_PORT"] = str(port)
    settings = settings_or_exit()
    lexicons_or_exit(settings)
    logging.config.dictConfig(log_config(settings.log_format, log_level))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_wyoming(settings))
