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

from sayfile.audio.formats import AudioFormat
from sayfile.jobs.answers import Answer
from sayfile.jobs.download_names import content_disposition
from sayfile.store.records import Job

T = TypeVar("T")


def download_headers(stem: str, fmt: AudioFormat) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(stem, fmt.extension)}


def etag_of(job: Job) -> str:
    """Files never change once done, so the job id (hashed, not repeated) is the validator."""
    return '"' + hashlib.sha256(job.id.encode()).hexdigest()[:24] + '"'


PATHSEND = "http.response.pathsend"


class JobFileResponse(FileResponse):
    """A finished job's file, with Range/If-Range from Starlette. `on_sent(n)` runs once the
    response has ended, however it ended, with the number of body bytes handed to the
    server, whatever the range; one-time links add these up.

    Where the server offers the ASGI pathsend extension the server sends the file itself,
    except when `on_sent` is set: a pathsend hands over a path, not bytes, so nothing would
    count them. Those go in chunks."""

    chunk_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO,
        job: Job,
        on_sent: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        disposition = content_disposition(job.stem, job.extension)
        headers = {"Content-Disposition": disposition, "ETag": etag_of(job)}
        stat = os.fstat(file.fileno())
        super().__init__(file.name, media_type=job.media_type, headers=headers, stat_result=stat)
        self._file = file
        self._on_sent = on_sent

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        # Starlette would open the path again here; the file opened while the job was looked
        # up is read instead, so one deleted meanwhile (a one-time link just used up by
        # another download, the sweeper, a DELETE) still goes out whole rather than breaking
        # off after the headers.
        yield anyio.wrap_file(self._file)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        if self._on_sent is not None and "extensions" in scope:
            extensions = {k: v for k, v in scope["extensions"].items() if k != PATHSEND}
            scope = {**scope, "extensions": extensions}
        try:
            await super().__call__(scope, receive, counting_send)
        finally:
            self._file.close()
            if self._on_sent is not None:
                await self._on_sent(sent)


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (the request's body already read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, cancelling it when the client hangs up first (its body already read)."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        await _disconnected(request.receive)
        task.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


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

        sending = asyncio.ensure_future(stream())
        watching = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sending, watching):
                task.cancel()
            await asyncio.gather(sending, watching, return_exceptions=True)
            await self._close()
