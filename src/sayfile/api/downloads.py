"""Responses that carry audio: finished files (Range, the one-time hook), streams sent while
synthesized (stopped when the client stops reading), and work that stops when its client
hangs up."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, BinaryIO, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Message, Receive, Scope, Send

from sayfile.audio import AudioFormat, audio_format
from sayfile.jobs import Job
from sayfile.naming import content_disposition

T = TypeVar("T")


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
        on_complete: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        fmt = audio_format(job.format)
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


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, cancelling it when the client hangs up first (its body already read)."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        task.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


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

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        sending = asyncio.ensure_future(stream())
        watching = asyncio.ensure_future(watch())
        try:
            await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, watching):
                task.cancel()
            await asyncio.gather(sending, watching, return_exceptions=True)
            await self._close()
