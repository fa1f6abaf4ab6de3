"""GET /: the page people use. Works without JavaScript (Download is a plain form post)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from sayfile.audio import FORMATS

router = APIRouter(include_in_schema=False)


def render_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The page, optionally with an error message and the user's input kept in the form."""
    templates: Jinja2Templates = request.app.state.templates
    settings = request.app.state.settings
    by_language: dict[str, list[Any]] = defaultdict(list)
    for voice in request.app.state.desk.speech.catalogue.voices():
        by_language[voice.language].append(voice)
    groups = sorted(by_language.items(), key=lambda item: item[0].lower())
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "groups": groups,
            "formats": list(FORMATS),
            "form": form or {},
            "error": error,
            "max_chars": settings.max_chars_direct,
            "max_chars_job": settings.max_chars_job,
            "default_voice": settings.default_voice,
        },
        status_code=status,
        headers=headers,
    )


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    return render_page(request)
