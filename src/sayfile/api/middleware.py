"""Plain ASGI middleware: security headers, a cap on request bodies, request ids with
metrics and access logs, HEAD wherever GET is."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sayfile.api.errors import on_sayfile_error
from sayfile.api.path_prefix import route_path
from sayfile.errors import BodyTooLarge, SayfileError, UploadTooLarge
from sayfile.logs import request_id
from sayfile.metrics import Metrics

_access = logging.getLogger("sayfile.access")
log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# What the request metrics count a request as when its client left before any answer.
_CLIENT_CLOSED = 499

_SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
# The page loads everything from sayfile itself; previews play from blob: URLs. (The API
# manual at /docs and /redoc runs inline scripts of FastAPI's and goes without.)
_PAGE_POLICY = (
    "default-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
_MANUAL = ("/docs", "/redoc")
# The messages that carry a response's body (pathsend names a file the server sends).
_BODY = ("http.response.body", "http.response.pathsend")


class SecurityHeaders:
    """nosniff and no-referrer everywhere; `private, no-store` on everything but /static; a
    Content-Security-Policy on the page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        static = path.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "private, no-store"
                html = headers.get("content-type", "").startswith("text/html")
                if html and not path.startswith(_MANUAL):
                    headers["content-security-policy"] = _PAGE_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse bodies over `max_bytes` with 413 in the route's error shape (the page for a
    browser's form post), by Content-Length or while reading. A
    multipart body posted to one of `upload_paths` may carry a file of up to
    `max_upload_bytes` beside its fields (the file's own size is checked exactly where the
    form is read); the refusal names the setting that was passed."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_upload_bytes: int = 0,
        upload_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = frozenset(upload_paths)

    def _is_upload(self, scope: Scope) -> bool:
        if scope["method"] != "POST" or not self.max_upload_bytes:
            return False
        path = route_path(scope)
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        return path in self.upload_paths and content_type.startswith(b"multipart/form-data")

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, upload: bool, size: int | None
    ) -> None:
        error: SayfileError = (
            UploadTooLarge(size, self.max_upload_bytes)
            if upload
            else BodyTooLarge(size, self.max_bytes)
        )
        # In the route's shape, as every error: the page for a browser's form post.
        response = await on_sayfile_error(Request(scope), error)
        # The rest of the body is not read: the client must not send it on this connection.
        response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self._is_upload(scope)
        # The file's limit plus the ordinary limit for the form's other fields.
        limit = self.max_bytes + (self.max_upload_bytes if upload else 0)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._too_large(scope, receive, send, upload, int(value))
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        sending = _Sending(send)
        try:
            await self.app(scope, counted, sending)
        except _TooLarge:
            if not sending.started:
                await self._too_large(scope, receive, send, upload, None)


class _Sending:
    """`send`, noting whether the response has started (after which no error can be sent)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class _TooLarge(Exception):
    """Raised from `receive` past the limit; BodyLimit answers it."""


class RequestLog:
    """Gives every request an id (`X-Request-ID`, kept from the client when it is a short
    token), counts it in the metrics by route template, and logs one access line. Paths are
    logged by route template so job ids (capabilities) never reach the logs."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        # Taken now: a mount (the static files) rewrites the scope's root_path as it routes.
        static = route_path(scope).startswith("/static/")
        status = 500
        audio_kind: str | None = None
        sent = 0
        hung_up = answered = False

        async def receive_watching() -> Message:
            nonlocal hung_up
            message = await receive()
            hung_up = hung_up or message["type"] == "http.disconnect"
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, audio_kind, sent, answered
            if message["type"] == "http.response.start":
                answered = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = rid
                if headers.get("content-type", "").startswith("audio/"):
                    audio_kind = "file" if "content-length" in headers else "stream"
            elif message["type"] == "http.response.body" and audio_kind is not None:
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_watching, send_with_id)
        finally:
            if hung_up and not answered:
                # The client left before any answer (mid-body, or while its audio was made):
                # nginx's 499, not a 500 that would page someone.
                status = _CLIENT_CLOSED
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if static:
                template = "/static"
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            if audio_kind is not None and sent:
                self.metrics.bytes_served.labels(audio_kind).inc(sent)
            _access.info(
                "%s %s %s %.1fms",
                scope["method"],
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id.reset(token)


class InternalErrors:
    """An exception no handler took becomes a 500 in the route's error shape (JSON, OpenAI's
    error object, or the page) naming the request id, inside the other middleware so it
    still gets the security headers; a client that hung up mid-body gets nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sending = _Sending(send)
        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:
            return  # nobody is left to answer
        except _TooLarge:
            raise  # BodyLimit, outside, answers it
        except Exception:
            log.exception("unexpected error")
            if sending.started:
                return  # the answer is under way: the server ends the connection
            from sayfile.api.errors import internal_error_response

            response = internal_error_response(Request(scope), request_id.get())
            await response(scope, receive, send)


class HeadLikeGet:
    """HEAD answered wherever GET is (RFC 9110, 9.3.2: the headers GET would send, no body),
    for every GET route at once: FastAPI's routes answer only the methods they name. A route
    with a HEAD of its own (a job's audio, which must not count as a download, and a book's
    chapter: neither reads its file for a HEAD) and the mounted static files answer HEAD
    themselves."""

    def __init__(self, app: ASGIApp, routes: Collection[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    def _routed(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] == Match.FULL for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or self._routed(scope):
            await self.app(scope, receive, send)
            return
        # A copy: the server reads the method from its own scope to send no body.
        as_get = {**scope, "method": "GET"}
        if not self._routed(as_get):
            await self.app(scope, receive, send)  # no GET here either: the router's 404 or 405
            return
        ended = False

        async def send_headers(message: Message) -> None:
            nonlocal ended
            if message["type"] not in _BODY:
                await send(message)
            elif not ended:
                # The body's first bytes end the answer; the server then tells a stream that
                # its client has gone, and what it still sends is dropped here.
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await self.app(as_get, receive, send_headers)
        finally:
            if "route" in as_get:  # the route the router found, for the access log
                scope["route"] = as_get["route"]
