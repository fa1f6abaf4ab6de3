"""Shared route dependencies as `Annotated` aliases, so signatures read like sentences."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from sayfile.api.form_origin import refuse_cross_site
from sayfile.api.proxies import client_address
from sayfile.api.rate_limits import RequestLimiter
from sayfile.api.schemas import SpeechIn
from sayfile.errors import InvalidInput, Unauthorized, UnreadableText, UploadTooLarge
from sayfile.models import BookChoice, BookUpload, SpeechRequest
from sayfile.services.catalogue_queries import CatalogueQueries
from sayfile.services.downloads import Downloads
from sayfile.services.job_requests import JobRequests
from sayfile.services.reading import JobReader
from sayfile.services.speaking import Speaker
from sayfile.services.status import ServerStatus
from sayfile.services.submitting import Submissions
from sayfile.settings import Settings
from sayfile.text.encodings import decode_text

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# A multipart form carries one file (the book) and the request's few fields.
_MAX_FORM_FIELDS = 50


# The services the lifespan built (`wiring.Services`): each route depends on the one it uses.
def _speaker(request: Request) -> Speaker:
    speaker: Speaker = request.app.state.services.speaker
    return speaker


def _job_requests(request: Request) -> JobRequests:
    job_requests: JobRequests = request.app.state.services.jobs.requests
    return job_requests


def _submissions(request: Request) -> Submissions:
    submissions: Submissions = request.app.state.services.jobs.submissions
    return submissions


def _reader(request: Request) -> JobReader:
    reader: JobReader = request.app.state.services.jobs.reader
    return reader


def _downloads(request: Request) -> Downloads:
    downloads: Downloads = request.app.state.services.jobs.downloads
    return downloads


def _catalogue(request: Request) -> CatalogueQueries:
    catalogue: CatalogueQueries = request.app.state.services.catalogue
    return catalogue


def _status(request: Request) -> ServerStatus:
    status: ServerStatus = request.app.state.services.status
    return status


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _require_key(request: Request) -> None:
    """When SAYFILE_API_KEYS is set, the request must carry one of the keys: as
    `Authorization: Bearer <key>`, or as the `api_key` field of the page's form post."""
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    given = _bearer(request)
    if not given and _content_type(request) in _FORMS:
        given = (await _form_fields(request)).get("api_key", "").strip()
    if not given:
        raise Unauthorized(missing=True)
    # An address that guessed wrong too often is refused before its key is even looked at,
    # so further guesses tell it nothing.
    limiter: RequestLimiter = request.app.state.limiter
    address = client_address(request)
    await limiter.check_key_failures(address)
    if not _configured(given, keys):
        await limiter.key_failed(address)
        raise Unauthorized(missing=False)


def _configured(key: str, keys: list[str]) -> bool:
    # Compared with every key in constant time, so timing tells nothing about any of them.
    matches = [secrets.compare_digest(key.encode(), known.encode()) for known in keys]
    return any(matches)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def client_of(request: Request) -> str:
    """Who is asking, for limits: the API key when it is one of the configured keys, else the
    client address (taken from X-Forwarded-For only behind a trusted proxy); a made-up key is
    no new identity. Hashed: records and Redis keys never hold keys or addresses."""
    settings: Settings = request.app.state.settings
    key = _bearer(request)
    if key and settings.api_keys and _configured(key, settings.api_keys):
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:20]
    return "ip:" + hashlib.sha256(client_address(request).encode()).hexdigest()[:20]


async def _rate_limit(request: Request) -> None:
    await request.app.state.limiter.hit(client_of(request))


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _charset(request: Request) -> str | None:
    """The charset the Content-Type declares, if any."""
    for parameter in request.headers.get("content-type", "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _decoded(data: bytes, request: Request, what: str, field: str | None = None) -> str:
    """`data` as text through the one decoder (`encodings.decode_text`), with the charset the
    request declares; bytes no encoding explains are a 422 naming their offset (and `field`).
    A form field's NUL (%00) in UTF-8 text is a space, as in JSON, where the text's clean-up
    blanks it: in such a field it says nothing of a binary file or of UTF-16."""
    if field is not None and b"\x00" in data and _utf8(spaced := data.replace(b"\x00", b" ")):
        data = spaced
    try:
        return decode_text(data, _charset(request), what=what, field=field or "text").text
    except UnreadableText as error:
        raise InvalidInput(error.message, field=field) from None


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _form_fields(request: Request) -> dict[str, str]:
    """The text fields of a form post. URL-encoded values are decoded like text files
    (`encodings.decode_text`: the declared charset, else UTF-8, else the encoding detected)
    whether the characters are percent-encoded (browsers) or raw (`curl -d text=你好`):
    Starlette's parser would read raw bytes as Latin-1 and garble every non-ASCII character.
    A multipart form's `file` is kept (as a temporary file) only for routes that take a book
    (`UPLOAD`), and refused over `max_upload_bytes`."""
    if _content_type(request) == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("latin-1")
        try:
            pairs = parse_qsl(body, keep_blank_values=True, encoding="latin-1", errors="strict")
        except ValueError:
            raise InvalidInput("The form cannot be read as URL-encoded fields.") from None
        return {
            (name := key.encode("latin-1").decode("utf-8", "replace")): _decoded(
                value.encode("latin-1"), request, f"The form field {name!r}", name
            )
            for key, value in pairs
        }
    form = await request.form(max_files=1, max_fields=_MAX_FORM_FIELDS)
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        # Starlette spooled it to an anonymous temporary file as it arrived (never held in
        # memory, never named on disk); UPLOAD closes it after the request.
        settings: Settings = request.app.state.settings
        size = upload.size if upload.size is not None else upload.file.seek(0, 2)
        if not getattr(request.state, "keeps_upload", False):
            await upload.close()
        elif size > settings.max_upload_bytes:
            await upload.close()
            raise UploadTooLarge(size, settings.max_upload_bytes)
        else:
            request.state.upload = BookUpload(
                upload.file, size, upload.filename or "book", upload.content_type
            )
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if isinstance(upload, UploadFile):
        fields.setdefault("text", "")
    return fields


def _check_file_is_a_file(request: Request, fields: dict[str, str]) -> None:
    """On a route that takes a book, a `file` that came as a text field (curl's `-F file=x`
    without the @, or a URL-encoded form) is refused naming it: otherwise the request reads
    as one without text."""
    sent = fields.get("file")
    if sent is None or not getattr(request.state, "keeps_upload", False):
        return
    raise InvalidInput(
        f"file must be an uploaded file, sent as multipart/form-data (curl: -F file=@path, "
        f"with the @); it came as the text {sent[:60]!r}.",
        field="file",
    )


async def _speech_in(request: Request) -> SpeechIn:
    """Read a speech request from a JSON body or an HTML form (query parameters fill in
    what the body leaves out, so `POST /speech?stream=true` works with either)."""
    content_type = _content_type(request)
    data: dict[str, Any]
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        # JSON is UTF-8 (RFC 8259), but a body that declares another charset is read in it.
        raw: str | bytes = _decoded(body, request, "The JSON body") if _charset(request) else body
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError as error:
            where = f"at line {error.lineno}, column {error.colno} ({error.msg})"
            raise InvalidInput(f"The body is not valid JSON {where}.") from None
        except UnicodeDecodeError:
            raise InvalidInput("The body is not valid JSON (UTF-8).") from None
        except ValueError:  # Python's cap on the digits of an integer it reads
            raise InvalidInput(
                "A number in the JSON body has too many digits to be read."
            ) from None
        except RecursionError:
            raise InvalidInput("The JSON body is nested too deeply.") from None
        if not isinstance(loaded, dict):
            raise InvalidInput('The JSON body must be an object such as {"text": "Hello"}.')
        data = loaded
    elif content_type in _FORMS:
        refuse_cross_site(request)
        data = await _form_fields(request)
        _check_file_is_a_file(request, data)
    else:
        raise InvalidInput(
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
    # Kept to refill the page's form after an error; never the key. A lone surrogate (JSON
    # allows "\ud800") cannot be written out as UTF-8, so it becomes a replacement mark.
    request.state.form = {
        k: v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v
        for k, v in data.items()
        if k != "api_key"
    }
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
        loudness=body.loudness,
        lexicon=tuple(body.lexicon),
        text_format=body.text_format,
    )


def choice_of(body: SpeechIn) -> BookChoice:
    """What a request chose for a book: its chapters and bit rate."""
    return BookChoice(body.chapters, body.bitrate)


def upload_of(request: Request) -> BookUpload | None:
    """The book a multipart request carried in its `file` field, if any (on routes with
    UPLOAD among their dependencies)."""
    upload: BookUpload | None = getattr(request.state, "upload", None)
    return upload


async def _keep_upload(request: Request) -> AsyncIterator[None]:
    """Lets the route keep a multipart `file`, and closes it (so its anonymous temporary file
    is gone) when the request ends, whatever happened: refused, failed or hung up."""
    request.state.keeps_upload = True
    try:
        yield
    finally:
        upload = upload_of(request)
        if upload is not None:
            # Off the loop: closing frees the file's pages (15 ms for 200 MiB).
            await asyncio.to_thread(upload.file.close)


def base_path(request: Request) -> str:
    """Root-relative prefix for links, honouring a proxy's root_path."""
    return f"{request.scope.get('root_path', '').rstrip('/')}/"


SpeakerDep = Annotated[Speaker, Depends(_speaker)]
JobRequestsDep = Annotated[JobRequests, Depends(_job_requests)]
SubmissionsDep = Annotated[Submissions, Depends(_submissions)]
ReaderDep = Annotated[JobReader, Depends(_reader)]
DownloadsDep = Annotated[Downloads, Depends(_downloads)]
CatalogueDep = Annotated[CatalogueQueries, Depends(_catalogue)]
StatusDep = Annotated[ServerStatus, Depends(_status)]
SettingsDep = Annotated[Settings, Depends(_settings)]
SpeechBody = Annotated[SpeechIn, Depends(_speech_in)]
# For `dependencies=[...]` of routes that need an API key when keys are configured.
API_KEY = Depends(_require_key)
# For routes that create work: per-client rate limit (after the key check).
RATE_LIMIT = Depends(_rate_limit)
ClientDep = Annotated[str, Depends(client_of)]
# First in `dependencies=[...]` of routes that take a book upload.
UPLOAD = Depends(_keep_upload)

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

# POST /jobs also takes a book: the same fields as a multipart form, with the file instead of
# the text.
_BOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "A book: EPUB, Markdown (.md) or text (.txt) in any encoding, read "
            "into chapters; up to SAYFILE_MAX_UPLOAD_BYTES (200 MiB) and "
            "SAYFILE_MAX_CHARS_BOOK (4,000,000) characters.",
        },
        **{k: v for k, v in SpeechIn.model_json_schema()["properties"].items() if k != "text"},
    },
}
JOB_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            **SPEECH_BODY_DOC["requestBody"]["content"],
            "multipart/form-data": {"schema": _BOOK_SCHEMA},
        },
    }
}
