"""The one table from domain errors to HTTP, and the answer in the route's own shape: OpenAI's
error object under /v1, the page with an inline message for browser form posts, JSON else."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sayfile import errors, link_errors
from sayfile.api.byte_ranges import RangeNotSatisfiable
from sayfile.api.path_prefix import route_path


@dataclass(frozen=True, slots=True)
class Mapping:
    status: int
    code: str
    # What OpenAI's API answers for the same problem (its clients expect these).
    openai_status: int
    openai_type: str


# The first class in an error's MRO found here wins.
STATUS: dict[type[Exception], Mapping] = {
    errors.TextTooLong: Mapping(413, "text_too_long", 400, "invalid_request_error"),
    errors.BookTooLong: Mapping(413, "book_too_long", 400, "invalid_request_error"),
    errors.TooMuchSilence: Mapping(413, "too_much_silence", 400, "invalid_request_error"),
    errors.UploadTooLarge: Mapping(413, "upload_too_large", 400, "invalid_request_error"),
    errors.BodyTooLarge: Mapping(413, "body_too_large", 413, "invalid_request_error"),
    errors.UnreadableText: Mapping(422, "unreadable_text", 400, "invalid_request_error"),
    errors.UnknownVoice: Mapping(422, "unknown_voice", 400, "invalid_request_error"),
    errors.InvalidBlend: Mapping(422, "invalid_blend", 400, "invalid_request_error"),
    errors.UnknownLanguage: Mapping(422, "unknown_language", 400, "invalid_request_error"),
    errors.UnknownFormat: Mapping(422, "unknown_format", 400, "invalid_request_error"),
    errors.InvalidInput: Mapping(422, "invalid_input", 400, "invalid_request_error"),
    errors.Unauthorized: Mapping(401, "invalid_api_key", 401, "invalid_request_error"),
    errors.CrossSiteForm: Mapping(403, "cross_site_form", 403, "invalid_request_error"),
    errors.Busy: Mapping(503, "busy", 503, "server_error"),
    errors.StoreUnavailable: Mapping(503, "store_unavailable", 503, "server_error"),
    errors.StorageFull: Mapping(507, "storage_full", 503, "server_error"),
    errors.DiskFull: Mapping(507, "disk_full", 503, "server_error"),
    errors.RateLimited: Mapping(429, "rate_limited", 429, "rate_limit_exceeded"),
    errors.TooManyActive: Mapping(429, "too_many_active", 429, "rate_limit_exceeded"),
    link_errors.JobNotFound: Mapping(404, "not_found", 404, "invalid_request_error"),
    link_errors.JobExpired: Mapping(410, "expired", 404, "invalid_request_error"),
    link_errors.JobNotReady: Mapping(409, "not_ready", 409, "invalid_request_error"),
    link_errors.JobFailed: Mapping(409, "failed", 409, "invalid_request_error"),
    link_errors.JobBusy: Mapping(409, "being_downloaded", 409, "invalid_request_error"),
    link_errors.ChapterJoined: Mapping(410, "chapter_joined", 404, "invalid_request_error"),
    RangeNotSatisfiable: Mapping(416, "range_not_satisfiable", 416, "invalid_request_error"),
    errors.EngineTimeout: Mapping(504, "engine_timeout", 500, "server_error"),
    errors.EngineError: Mapping(500, "engine_error", 500, "server_error"),
    errors.Interrupted: Mapping(503, "interrupted", 503, "server_error"),
    errors.WorkerLost: Mapping(503, "worker_lost", 503, "server_error"),
}
_INTERNAL = Mapping(500, "internal_error", 500, "server_error")
# sayfile's field names as OpenAI's request calls them.
_OPENAI_PARAMS = {"text": "input", "format": "response_format"}


def mapping_of(exc: Exception) -> Mapping:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return _INTERNAL


def is_openai(request: Request) -> bool:
    return route_path(request.scope).startswith("/v1/")


def wants_html(request: Request) -> bool:
    """A browser's form post (or page navigation) gets HTML back; everything else JSON."""
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not content_type.startswith("application/json")


def error_response(
    request: Request,
    mapping: Mapping,
    message: str,
    *,
    field: str | None = None,
    allowed: list[str] | None = None,
    retry_after: int | None = None,
    limit: dict[str, object] | None = None,
) -> Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if mapping.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if is_openai(request):
        body = {
            "message": message,
            "type": mapping.openai_type,
            "param": _OPENAI_PARAMS.get(field, field) if field else None,
            "code": mapping.code,
        }
        return JSONResponse({"error": body}, status_code=mapping.openai_status, headers=headers)
    if wants_html(request):
        from sayfile.api.pages import render_page

        form = getattr(request.state, "form", None)
        return render_page(
            request,
            status=mapping.status,
            error=message,
            code=mapping.code,
            form=form,
            headers=headers,
        )
    detail: dict[str, object] = {"code": mapping.code, "message": message}
    if field is not None:
        detail["field"] = field
    if allowed:
        detail["allowed"] = allowed
    detail.update(limit or {})
    return JSONResponse({"error": detail}, status_code=mapping.status, headers=headers)


async def on_sayfile_error(request: Request, exc: Exception) -> Response:
    return error_response(
        request,
        mapping_of(exc),
        str(exc),
        field=getattr(exc, "field", None),
        allowed=getattr(exc, "allowed", None) or getattr(exc, "closest", None),
        retry_after=getattr(exc, "retry_after", None),
        limit=_limit_of(exc),
    )


def _limit_of(exc: Exception) -> dict[str, object] | None:
    """For an error over a limit: the limit, the setting that holds it, and how much was
    asked (`size`), or the room left; so a page can say it all in its own language."""
    limit = getattr(exc, "limit", None)
    if not isinstance(limit, int):
        return None
    found: dict[str, object] = {"limit": limit}
    for key, attribute in (("setting", "setting"), ("size", "length"), ("room", "room")):
        value = getattr(exc, attribute, None)
        if value is not None:
            found[key] = value
    return found


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    field = None
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        field = field or where or None
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return error_response(request, STATUS[errors.InvalidInput], "; ".join(problems), field=field)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (a body that cannot be parsed, 404 for unknown paths, 405) in
    the same shapes as everything else."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
    kind = "invalid_request_error" if status < 500 else "server_error"
    response = error_response(request, Mapping(status, code, status, kind), str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def internal_error_response(request: Request, rid: str) -> Response:
    """A 500 for an unexpected error, naming the request id to look for in the logs."""
    message = f"Internal error; the request id {rid} names it in the server's logs."
    return error_response(request, _INTERNAL, message)
