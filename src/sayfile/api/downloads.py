"""Responses that carry audio: attachment names, security headers, and the one-time hook."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import BinaryIO

import anyio
from starlette.responses import FileResponse
from starlette.types import Message, Receive, Scope, Send

from sayfile.audio import AudioFormat
from sayfile.jobs import Job
from sayfile.naming import content_disposition


def download_headers(stem: str, fmt: AudioFormat) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(stem, fmt.extension)}


def etag_of(job: Job) -> str:
    """Files never change once done, so the job id (hashed, not repeated) is the validator."""
    return '"' + hashlib.sha256(job.id.encode()).hexdigest()[:24] + '"'


PATHSEND = "http.response.pathsend"


class JobFileResponse(FileResponse):
    """A finished job's file, with Range/If-Range from Starlette. `on_complete` runs only
    after a plain GET whose whole body was handed to the server with no disconnect seen:
    never for HEAD, a partial range, or an aborted download.

    Where the server offers the ASGI pathsend extension the server sends the file itself,
    except when `on_complete` is set: a pathsend hands over a path, not bytes, so nothing
    would tell a finished one-time download from an aborted one. Those go in chunks."""

    chunk_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO,
        job: Job,
        fmt: AudioFormat,
        on_complete: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        headers = download_headers(job.stem, fmt) | {"ETag": etag_of(job)}
        stat = os.fstat(file.fileno())
        super().__init__(file.name, media_type=fmt.media_type, headers=headers, stat_result=stat)
        self._file = file
        self._size = stat.st_size
        self._on_complete = on_complete

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        # Starlette would open the path again here; the file opened while the job was looked
        # up is read instead, so one deleted meanwhile (a one-time link just used up by
        # another download, the sweeper, a DELETE) still goes out whole rather than breaking
        # off after the headers.
        yield anyio.wrap_file(self._file)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = False
        gone = False
        status = 0
        sent = 0

        async def watch_send(message: Message) -> None:
            nonlocal whole, status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                # Counted, not told by `more_body`: when the size is a multiple of the chunk,
                # the last bytes still say "more", and a client that has them all may leave
                # before the empty closing message.
                sent += len(message.get("body", b""))
                whole = status == 200 and scope["method"] == "GET" and sent == self._size
            await send(message)

        async def watch_receive() -> Message:
            nonlocal gone
            message = await receive()
            # Servers also report "disconnect" once the response is complete; only one that
            # comes before the last byte means the client went away.
            if message["type"] == "http.disconnect" and not whole:
                gone = True
            return message

        if self._on_complete is not None and "extensions" in scope:
            extensions = {k: v for k, v in scope["extensions"].items() if k != PATHSEND}
            scope = {**scope, "extensions": extensions}
        try:
            await super().__call__(scope, watch_receive, watch_send)
        finally:
            self._file.close()
        if whole and not gone and self._on_complete is not None:
            await self._on_complete()
