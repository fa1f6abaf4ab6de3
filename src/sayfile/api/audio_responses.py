"""Responses that carry audio: finished files (Range, the one-time hook), streams sent while
synthesized (stopped when the client stops reading), and work that stops when its client
hangs up."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from email.utils import formatdate
from typing import Any, BinaryIO, TypeVar

from anyio import wrap_file  # imported here: anyio loads its file module lazily, on first use
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from sayfile.api.byte_ranges import Multipart, RangeNotSatisfiable, requested_spans
from sayfile.api.errors import error_response, mapping_of
from sayfile.audio.formats import AudioFormat
from sayfile.jobs.answers import Answer
from sayfile.jobs.download_names import chapter_stem, content_disposition
from sayfile.services.downloads import ChapterFile
from sayfile.store.records import Job

T = TypeVar("T")


def download_headers(stem: str, fmt: AudioFormat) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(stem, fmt.extension)}


def _etag(name: str) -> str:
    """Files never change once done, so what names one (hashed, not repeated) is the
    validator: a job's id, or its id and a chapter's number."""
    return '"' + hashlib.sha256(name.encode()).hexdigest()[:24] + '"'


def _names(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names the file of `etag`: `*`, or a list with that
    tag, strong or weak (RFC 9110, 13.1.2 compares weakly)."""
    if if_none_match is None:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


PATHSEND = "http.response.pathsend"


class FileDownloadResponse(Response):
    """A finished file, from the file object opened when it was looked up: one deleted
    meanwhile (a one-time link just used up by another download, the sweeper, a DELETE, a
    book's chapters joined) still goes out whole rather than breaking off after the headers.
    Answers HEAD (reading nothing of the file), If-None-Match with the ETag (304), Range (one
    span: 206; several: multipart/byteranges; one that is not a valid range of bytes, or
    starts past the end: 416 in the route's error shape; another unit than bytes: the whole
    file) and If-Range with the ETag or Last-Modified.

    `on_sent(n)` runs once the response has ended, however it ended, with the number of body
    bytes handed to the server, whatever the range; one-time links add these up. Where the
    server offers the ASGI pathsend extension the server sends the file itself, except when
    `on_sent` is set: a pathsend hands over a path, not bytes, so nothing would count them.
    Those go in chunks.

    Built on Starlette's public Response (its FileResponse opens the path itself, which a
    deleted file no longer has)."""

    chunk_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO,
        media_type: str,
        disposition: str,
        etag: str,
        on_sent: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        stat = os.fstat(file.fileno())
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(
            {
                "Content-Disposition": disposition,
                "ETag": etag,
                "Accept-Ranges": "bytes",
                "Content-Length": str(stat.st_size),
                "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
            }
        )
        self._file = file
        self._size = stat.st_size
        self._on_sent = on_sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._answer(scope, receive, counting_send)
        finally:
            self._file.close()
            if self._on_sent is not None:
                await self._on_sent(sent)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        request_headers = Headers(scope=scope)
        etag = self.headers["etag"]
        if method in ("GET", "HEAD") and _names(request_headers.get("if-none-match"), etag):
            # RFC 9110, 13.2.2: before Range and If-Range. Nothing of the file is sent.
            not_modified = [(b"etag", etag.encode("latin-1"))]
            await send({"type": "http.response.start", "status": 304, "headers": not_modified})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        wanted = request_headers.get("range")
        spans: list[tuple[int, int]] = []
        if wanted is not None and method in ("GET", "HEAD") and self._unchanged(request_headers):
            try:
                spans = requested_spans(wanted, self._size)
            except RangeNotSatisfiable as exc:
                refusal = error_response(Request(scope), mapping_of(exc), exc.message)
                refusal.headers["content-range"] = f"bytes */{exc.size}"
                await refusal(scope, receive, send)
                return
        headers = MutableHeaders(raw=list(self.raw_headers))
        status = 206 if spans else 200
        if len(spans) == 1:
            start, end = spans[0]
            headers["content-range"] = f"bytes {start}-{end - 1}/{self._size}"
            headers["content-length"] = str(end - start)
        multipart = Multipart.new(self.media_type or "", self._size) if len(spans) > 1 else None
        if multipart is not None:
            headers["content-type"] = multipart.media_type
            headers["content-length"] = str(multipart.length(spans))
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if not spans and self._on_sent is None and PATHSEND in scope.get("extensions", {}):
            await send({"type": PATHSEND, "path": str(self._file.name)})
            return
        body = self._body(send, spans or [(0, self._size)], multipart)
        spec = tuple(int(n) for n in scope.get("asgi", {}).get("spec_version", "2.0").split("."))
        if spec >= (2, 4):  # the server's send raises once the client has gone
            await body
        else:
            await _until_disconnected(receive, body, sending_fails=True)

    def _unchanged(self, request_headers: Headers) -> bool:
        """Whether If-Range, if sent, names this file (else the whole file goes out)."""
        validator = request_headers.get("if-range")
        if validator is None:
            return True
        own = (self.headers["etag"], self.headers["last-modified"])
        return not validator.startswith("W/") and validator in own

    async def _body(
        self, send: Send, spans: list[tuple[int, int]], multipart: Multipart | None
    ) -> None:
        file = wrap_file(self._file)
        for n, (start, end) in enumerate(spans):
            final = n == len(spans) - 1 and multipart is None
            if multipart is not None:
                head = multipart.head(start, end)
                await send({"type": "http.response.body", "body": head, "more_body": True})
            await file.seek(start)
            position = start
            while True:
                chunk = (
                    await file.read(min(self.chunk_size, end - position)) if position < end else b""
                )
                position += len(chunk)
                spent = position >= end or not chunk
                body = {
                    "type": "http.response.body",
                    "body": chunk,
                    "more_body": not (final and spent),
                }
                await send(body)
                if spent:
                    break
            if multipart is not None:
                await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
        if multipart is not None:
            await send({"type": "http.response.body", "body": multipart.tail, "more_body": False})


class JobFileResponse(FileDownloadResponse):
    """A done job's file, named for download from its text or title."""

    def __init__(
        self,
        file: BinaryIO,
        job: Job,
        on_sent: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        disposition = content_disposition(job.stem, job.extension)
        super().__init__(file, job.media_type, disposition, _etag(job.id), on_sent)


class ChapterFileResponse(FileDownloadResponse):
    """A finished chapter's file of a book being made, named for download after the book and
    the chapter."""

    def __init__(self, chapter: ChapterFile) -> None:
        stem = chapter_stem(chapter.job.stem, chapter.number, chapter.title, chapter.count)
        disposition = content_disposition(stem, chapter.format.extension)
        # Distinct from the book's: a chapter's file never changes once joined either.
        etag = _etag(f"{chapter.job.id}:{chapter.number}")
        super().__init__(chapter.file, chapter.format.media_type, disposition, etag)


async def _until_disconnected(
    receive: Receive, sending: Coroutine[Any, Any, None], sending_fails: bool
) -> None:
    """Await `sending`, cancelling it when the client hangs up first. Where `sending_fails`,
    its failure is raised here (a download that breaks off is an error); otherwise it ends
    the response quietly (a stream ends however its sending ended: the client stopped
    reading, or the synthesis failed after the status went out)."""
    tasks = asyncio.ensure_future(sending), asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        failure = (await asyncio.gather(*tasks, return_exceptions=True))[0]
    if (
        sending_fails
        and isinstance(failure, BaseException)
        and not isinstance(failure, asyncio.CancelledError)
    ):
        raise failure


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (the request's body already read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, cancelling it when the client hangs up first (its body already read).
    Raises ClientDisconnect then: the request ends as a hang-up (logged as 499), not as a
    cancellation, which the server would log as an error with its traceback."""
    task = asyncio.ensure_future(work)
    hung_up = False

    async def watch() -> None:
        nonlocal hung_up
        await _disconnected(request.receive)
        hung_up = True
        task.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    except asyncio.CancelledError:
        # Only the watcher's own cancelling is a hang-up; the request's task being cancelled
        # (the server stopping) goes on as a cancellation.
        if hung_up and not _cancelling(asyncio.current_task()):
            raise ClientDisconnect() from None
        raise
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def _cancelling(task: asyncio.Task[Any] | None) -> bool:
    return task is not None and task.cancelling() > 0


class AnswerResponse(Response):
    """A whole file made in memory, named for download like a job's file."""

    def __init__(self, answer: Answer) -> None:
        headers = download_headers(answer.stem, answer.format)
        super().__init__(answer.data, media_type=answer.format.media_type, headers=headers)


class SpeechStreamResponse(Response):
    """Audio sent chunk by chunk as it is made. A client that takes nothing for
    `idle_seconds`, or hangs up, ends the stream; `close` runs whatever happens (it stops
    synthesis and gives the stream's place back)."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        media_type: str,
        headers: dict[str, str],
        idle_seconds: float,
    ) -> None:
        # Like Starlette's StreamingResponse: no body, so no Content-Length.
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self._chunks = chunks
        self._close = close
        self._idle = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stream() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self._chunks:
                # A client that stops reading fills the socket's buffers and send waits.
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": chunk, "more_body": True}),
                    self._idle,
                )
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        try:
            await _until_disconnected(receive, stream(), sending_fails=False)
        finally:
            await self._close()
