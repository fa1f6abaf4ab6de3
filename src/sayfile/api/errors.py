"""The one table from domain errors to HTTP, and the answer in the route's own shape: OpenAI's
error object under /v1, the page with an inline message for browser form posts, JSON else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        # Kokoro-FastAPI's captioned route takes OpenAI's field names.
        captioned = route_path(request.scope).startswith("/dev/captioned_speech")
        detail["field"] = _OPENAI_PARAMS.get(field, field) if captioned else field
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
    """A body the request's schema refuses, said in the words of the request, not of pydantic:
    JSON that does not parse, a body that is no object, and each field once (the forms a field
    of several forms takes, not each form's own complaint)."""
    assert isinstance(exc, RequestValidationError)
    problems: dict[str, list[dict[str, Any]]] = {}
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        if err.get("type") == "json_invalid" and "error" in (err.get("ctx") or {}):
            at = f" at character {int(loc[0]) + 1}" if loc and loc[0].isdigit() else ""
            message = f"The body is not valid JSON{at} ({err['ctx']['error']})."
            return error_response(request, STATUS[errors.InvalidInput], message)
        problems.setdefault(".".join(loc[:1]), []).append({**err, "loc": loc[1:]})
    said = [_said_problem(field, errs, request) for field, errs in problems.items()]
    field = next((f for f in problems if f), None)
    return error_response(request, STATUS[errors.InvalidInput], "; ".join(said), field=field)


def _said_problem(field: str, errs: list[dict[str, Any]], request: Request) -> str:
    """One field's problems (or the body's, for `field` ""), as one sentence."""
    if not field and not any(err.get("type") in _NOT_AN_OBJECT for err in errs):
        return "; ".join(str(err.get("msg")) for err in errs)
    if not field:
        json = "json" in request.headers.get("content-type", "")
        return "The body must be a JSON object of the request's fields" + (
            "." if json else " (send it with Content-Type: application/json)."
        )
    forms = [err for err in errs if err["loc"] and not err["loc"][0].isdigit()]
    if len(errs) > 1 and len(forms) == len(errs):  # a field of several forms fits none
        allowed = dict.fromkeys(_form(err["loc"]) for err in forms)
        return f"{field}: not a value it takes; allowed: {' or '.join(allowed)}."
    err = errs[0]
    where = ".".join([field, *err["loc"]])
    return f"{where}: {str(err.get('msg')).removeprefix('Value error, ')}"


def _form(loc: list[str]) -> str:
    """How a form of a field of several forms is said, from where pydantic found it wrong."""
    if loc[0] in _FORMS:
        return _FORMS[loc[0]]
    return f"an object with {loc[1]}" if len(loc) > 1 else "an object"


# pydantic's types of error for a body that is not an object of fields.
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "model_type"})
# How each form of a field of several forms is named (pydantic's tag for it: a model's name
# otherwise, which is said "an object").
_FORMS = {"str": "text", "float": "a number", "int": "a whole number", "bool": "true or false"}


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
