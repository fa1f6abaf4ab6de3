"""Responses that carry audio: attachment names, security headers, and the one-time hook."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

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


class JobFileResponse(FileResponse):
    """A finished job's file, with Range/If-Range from Starlette. `on_complete` runs only
    after a plain GET whose whole body was handed to the server with no disconnect seen:
    never for HEAD, a partial range, or an aborted download."""

    def __init__(
        self,
        path: Path,
        job: Job,
        fmt: AudioFormat,
        on_complete: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        headers = download_headers(job.stem, fmt) | {"ETag": etag_of(job)}
        super().__init__(path, media_type=fmt.media_type, headers=headers)
        self._on_complete = on_complete

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = False
        gone = False
        status = 0

        async def watch_send(message: Message) -> None:
            nonlocal whole, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                whole = status == 200 and scope["method"] == "GET"
            await send(message)

        async def watch_receive() -> Message:
            nonlocal gone
            message = await receive()
            # Servers also report "disconnect" once the response is complete; only one that
            # comes before the last byte means the client went away.
            if message["type"] == "http.disconnect" and not whole:
                gone = True
            return message

        await super().__call__(scope, watch_receive, watch_send)
        if whole and not gone and self._on_complete is not None:
            await self._on_complete()
