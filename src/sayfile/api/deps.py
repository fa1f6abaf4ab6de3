"""Shared route dependencies as `Annotated` aliases, so signatures read like sentences."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from sayfile.api.schemas import SpeechIn
from sayfile.desk import JobDesk, SpeechRequest
from sayfile.settings import Settings

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _desk(request: Request) -> JobDesk:
    desk: JobDesk = request.app.state.desk
    return desk


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _invalid(message: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": message, "type": kind}])


async def _speech_in(request: Request) -> SpeechIn:
    """Read a speech request from a JSON body or an HTML form (query parameters fill in
    what the body leaves out, so `POST /speech?stream=true` works with either)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: dict[str, Any]
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            loaded = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise _invalid("The body is not valid JSON (UTF-8).", "json_invalid") from None
        if not isinstance(loaded, dict):
            raise _invalid('The JSON body must be an object such as {"text": "Hello"}.')
        data = loaded
    elif content_type in _FORMS:
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        raise _invalid(
            "Send the request as JSON (Content-Type: application/json) or as an HTML form "
            "(application/x-www-form-urlencoded or multipart/form-data)."
        )
    for key, value in request.query_params.items():
        data.setdefault(key, value)
    # Empty form fields (an unselected <select>) mean "not given"; empty text is kept so the
    # service can say that the text is empty.
    data = {
        k: v
        for k, v in data.items()
        if k in ("text", "message") or not (isinstance(v, str) and not v.strip())
    }
    request.state.form = data
    try:
        return SpeechIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


def as_request(body: SpeechIn) -> SpeechRequest:
    return SpeechRequest(
        text=body.text,
        voice=body.voice,
        language=body.language,
        format=body.format,
        speed=body.speed,
    )


def base_path(request: Request) -> str:
    """Root-relative prefix for links, honouring a proxy's root_path."""
    return f"{request.scope.get('root_path', '').rstrip('/')}/"


DeskDep = Annotated[JobDesk, Depends(_desk)]
SettingsDep = Annotated[Settings, Depends(_settings)]
SpeechBody = Annotated[SpeechIn, Depends(_speech_in)]

# Documents the two request encodings in OpenAPI (the dependency reads the body itself).
SPEECH_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SpeechIn.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": SpeechIn.model_json_schema()},
        },
    }
}
