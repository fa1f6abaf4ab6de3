"""The one table from domain errors to HTTP status, and the response in the route's shape:
JSON for API clients, the page with an inline message for browser form posts."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from sayfile import errors

# (status, code) per error class; the first matching class in the MRO wins.
STATUS: dict[type[Exception], tuple[int, str]] = {
    errors.TextTooLong: (413, "text_too_long"),
    errors.UnknownVoice: (422, "unknown_voice"),
    errors.UnknownLanguage: (422, "unknown_language"),
    errors.UnknownFormat: (422, "unknown_format"),
    errors.InvalidInput: (422, "invalid_input"),
    errors.Busy: (503, "busy"),
    errors.StorageFull: (507, "storage_full"),
    errors.JobNotFound: (404, "not_found"),
    errors.JobExpired: (410, "expired"),
    errors.JobNotReady: (409, "not_ready"),
    errors.JobFailed: (409, "failed"),
    errors.EngineError: (500, "engine_error"),
    errors.StoreUnavailable: (503, "store_unavailable"),
}


def status_of(exc: Exception) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500, "internal_error"


def wants_html(request: Request) -> bool:
    """A browser's form post (or page navigation) gets HTML back; everything else JSON."""
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not content_type.startswith("application/json")


def error_response(
    request: Request, status: int, code: str, message: str, **extra: object
) -> Response:
    headers = {}
    retry = extra.pop("retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(retry)
    if wants_html(request):
        from sayfile.api.pages import render_page

        form = getattr(request.state, "form", None)
        return render_page(
            request, status=status, error=message, code=code, form=form, headers=headers
        )
    body: dict[str, object] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def sayfile_error(request: Request, exc: Exception) -> Response:
    status, code = status_of(exc)
    return error_response(
        request,
        status,
        code,
        str(exc),
        field=getattr(exc, "field", None),
        allowed=getattr(exc, "allowed", None) or getattr(exc, "closest", None),
        retry_after=getattr(exc, "retry_after", None),
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    field = None
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        field = field or where or None
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return error_response(request, 422, "invalid_input", "; ".join(problems), field=field)
