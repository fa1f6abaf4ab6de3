"""`sayfile wyoming`'s process: the parts and services an API process has, and a Wyoming
server (api/wyoming_speech.py) over them instead of HTTP, for Home Assistant."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from wyoming.server import AsyncTcpServer

from sayfile.api.wyoming_speech import handlers
from sayfile.jobs.admission import Admission
from sayfile.queue import build_queue
from sayfile.settings import Settings
from sayfile.speech.pipeline import Observer
from sayfile.wiring import Parts, Services

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def speaking_services(
    settings: Settings, observer: Observer | None = None
) -> AsyncIterator[Services]:
    """The services, built as the API's lifespan builds them, the voices listed and the
    default voice loaded; everything closed on exit.

    Wyoming answers only while someone waits (streams), so this process makes no job and
    sweeps nothing: it may run beside an embedded `sayfile serve` on the same data folder
    (whose jobs it must not take for its own and fail at start-up), or beside Redis workers
    with the same SAYFILE_STORE_URL."""
    parts = Parts.build(settings, observer)
    admission = Admission(settings.max_queue)
    queue = build_queue(settings, parts.runner, parts.books, admission)
    services = Services.build(parts, queue, admission)
    try:
        await parts.start()
        await parts.warm_up(streams=True)
        yield services
    finally:
        await queue.close()
        await parts.close()


async def run_wyoming(settings: Settings) -> None:
    """Serve Wyoming on `settings.wyoming_host`:`wyoming_port` until SIGTERM (or Ctrl-C)."""
    async with speaking_services(settings) as services:
        server = AsyncTcpServer(settings.wyoming_host, settings.wyoming_port)
        log.info("Wyoming server on tcp://%s:%d", settings.wyoming_host, settings.wyoming_port)
        # The server stops its connections (cancelling their work) on SIGTERM.
        await server.run(handlers(services.speaker))
