"""Operations: GET /healthz (alive), GET /readyz (able to serve), GET /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from sayfile.api.deps import SettingsDep, StatusDep
from sayfile.errors import SayfileError
from sayfile.metrics import Metrics
from sayfile.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready to serve: engines loaded, store reachable, data folder writable with space",
    responses={503: {"description": "Not ready; `checks` says why."}},
)
async def readyz(request: Request, server: StatusDep, settings: SettingsDep) -> JSONResponse:
    checks: dict[str, str] = {}
    checks["engines"] = "ok" if getattr(request.app.state, "ready", False) else "loading"
    try:
        await server.ping()
        checks["store"] = "ok"
    except SayfileError as exc:
        checks["store"] = str(exc)
    checks.update(await asyncio.to_thread(_disk_checks, server.data_dir, settings))
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _disk_checks(folder: Path, settings: Settings) -> dict[str, str]:
    """The data folder takes a file and has room (blocking: run off the event loop)."""
    checks: dict[str, str] = {}
    probe = folder / f".ready-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        checks["data_dir"] = "ok"
    except OSError as exc:
        checks["data_dir"] = f"not writable: {exc.strerror}"
    try:
        free = shutil.disk_usage(folder).free
        checks["free_space"] = (
            "ok"
            if free >= settings.min_free_bytes
            else f"{free} bytes free, below the floor of {settings.min_free_bytes}"
        )
    except OSError as exc:
        checks["free_space"] = f"unknown: {exc.strerror}"
    return checks


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Prometheus metrics of this process",
)
async def metrics(request: Request, server: StatusDep) -> Response:
    registry: Metrics = request.app.state.metrics
    registry.queue_depth.set(server.queue_depth)
    try:
        for status, count in (await server.status_counts()).items():
            registry.jobs.labels(status).set(count)
        registry.storage_bytes.set(await server.storage_used())
    except SayfileError:
        pass  # the store is away: counters still answer, gauges keep their last values
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
