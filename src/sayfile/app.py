"""create_app(settings): the FastAPI application, with everything built in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from importlib.resources import files

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from wyoming.server import AsyncTcpServer

from sayfile import __version__
from sayfile.api import (
    books,
    captioned,
    errors,
    health,
    interface_languages,
    jobs,
    lexicons,
    manual,
    openai,
    openai_lists,
    pages,
    speech,
    voices,
)
from sayfile.api.middleware import (
    BodyLimit,
    HeadLikeGet,
    InternalErrors,
    RequestLog,
    SecurityHeaders,
)
from sayfile.api.path_prefix import PathPrefix
from sayfile.api.rate_limits import RequestLimiter
from sayfile.api.wyoming_speech import handlers
from sayfile.engines import Engine
from sayfile.errors import SayfileError, StoreUnavailable
from sayfile.jobs.admission import Admission
from sayfile.metrics import Metrics
from sayfile.queue import build_queue
from sayfile.services.sweeping import Sweeper
from sayfile.settings import Settings
from sayfile.supervision import go_with_parent
from sayfile.task_stopping import stop_task
from sayfile.wiring import STOP_WAIT_S, Parts, Services

log = logging.getLogger(__name__)


async def _sweep_forever(sweeper: Sweeper, interval: float, metrics: Metrics) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            metrics.sweeper_deleted.inc(await sweeper.sweep())
        except StoreUnavailable:
            log.warning("sweep skipped: the job store is unreachable; trying again next round")
        except Exception:
            log.exception("sweep failed; trying again next round")


def create_app(
    settings: Settings | None = None, engines: Sequence[Engine] | None = None
) -> FastAPI:
    """Build the app for `settings` (read from the environment when None); with `engines`,
    speaking with those (built for the same settings, and closed by whoever built them)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = Parts.build(settings, metrics.synthesized, engines)
        admission = Admission(settings.max_queue)
        queue = build_queue(settings, parts.runner, parts.books, admission)
        services = Services.build(parts, queue, admission)
        # Each route depends on one of them (api/deps.py).
        app.state.services = services
        sweeper: asyncio.Task[None] | None = None
        wyoming: AsyncTcpServer | None = None
        try:
            await parts.start()
            # The embedded server (SQLite) alone runs its jobs: those an earlier life left
            # unfinished are failed as interrupted before anything else.
            await services.sweeper.start(interrupted=not settings.store_url)
            # FastAPI builds its routes' parameter models on the first request that walks
            # them (50 ms on the event loop); building the OpenAPI document builds them all,
            # before the warm-up sets aside what start-up made (`Parts.warm_up`). Not for an
            # app on engines built elsewhere, one of many in its process (the tests' apps,
            # hundreds): the document costs 0.15 CPU-s, a quarter of such an app's start.
            if parts.owns_engines:
                await asyncio.to_thread(app.openapi)
            # The page's words in each language (Traditional made by OpenCC) likewise.
            await asyncio.to_thread(interface_languages.prepare)
            # Voice lists are read and the default voice loaded once, before the first
            # request, off the event loop.
            await parts.warm_up(streams=True)
            if settings.wyoming_in_serve:
                # Home Assistant's way in (api/wyoming_speech.py), on the same services.
                wyoming = AsyncTcpServer(settings.wyoming_host, settings.wyoming_port)
                await wyoming.start(handlers(services.speaker))
            app.state.ready = True
            sweeper = asyncio.create_task(
                _sweep_forever(services.sweeper, settings.sweep_interval_seconds, metrics)
            )
            yield
        finally:
            if wyoming is not None:
                await wyoming.stop()
            if sweeper is not None:
                await stop_task(sweeper, STOP_WAIT_S)
            await queue.close()
            await parts.close()

    app = FastAPI(
        title="sayfile",
        version=__version__,
        summary="Self-hosted text-to-speech: text in, audio file out.",
        lifespan=lifespan,
        # Served by api/manual.py from packaged copies, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    metrics = Metrics()
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.limiter = RequestLimiter(settings)
    package = files("sayfile")
    app.state.templates = Jinja2Templates(directory=str(package / "templates"))
    app.mount("/static", StaticFiles(directory=str(package / "static")), name="static")
    assets = files("fastapi_offline") / "static"
    app.mount(manual.ASSETS, StaticFiles(directory=str(assets)), name="manual-assets")
    for module in (
        pages,
        speech,
        jobs,
        books,
        voices,
        lexicons,
        openai,
        openai_lists,
        captioned,
        health,
        manual,
    ):
        app.include_router(module.router)
    app.add_exception_handler(SayfileError, errors.on_sayfile_error)
    app.add_exception_handler(RequestValidationError, errors.on_validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.on_http_error)
    app.add_middleware(InternalErrors)
    # Outside InternalErrors, so an error's page or JSON for a HEAD goes without its body too.
    app.add_middleware(HeadLikeGet, routes=app.router.routes)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=jobs.UPLOAD_PATHS,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog, metrics=metrics)
    # Outermost, so that everything inside sees the request under SAYFILE_ROOT_PATH.
    app.add_middleware(PathPrefix, prefix=settings.root_path)
    return app


def worker_app() -> FastAPI:
    """The factory `sayfile serve --workers N` (N > 1) hands to uvicorn, called in each worker
    process. The worker is asked to stop (SIGTERM, so its jobs are handed back as failed) when
    the supervising process dies, even by SIGKILL; otherwise it would live on, holding the
    port and writing files nobody will ask for."""
    go_with_parent(signal.SIGTERM)
    return create_app()
