"""GET /docs and /redoc: the generated API manual, with Swagger UI and ReDoc served by sayfile
itself (the copies packaged in `fastapi-offline`), so the manual works offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from sayfile.api.deps import base_path

router = APIRouter(include_in_schema=False)

ASSETS = "/manual-assets"
"""Where the Swagger UI and ReDoc files are mounted (see `create_app`)."""


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = base_path(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}openapi.json",
        title="sayfile — API manual",
        swagger_js_url=f"{root}{ASSETS[1:]}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS[1:]}/swagger-ui.css",
        swagger_favicon_url=f"{root}static/icon.svg",
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    root = base_path(request)
    return get_redoc_html(
        openapi_url=f"{root}openapi.json",
        title="sayfile — API manual",
        redoc_js_url=f"{root}{ASSETS[1:]}/redoc.standalone.js",
        redoc_favicon_url=f"{root}static/icon.svg",
        with_google_fonts=False,
    )
