"""The HTTP/1.1 protocol `sayfile serve` runs: uvicorn's httptools protocol with two bounds it
lacks, on the size of a request's head (request line and headers) and on the time a client
may take to send it, so neither a huge header nor a slow trickle can hold memory or a
connection. Tied to uvicorn's internals, hence uvicorn's pin in pyproject.toml."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Read in each worker process, where uvicorn builds the protocol (set by `sayfile serve`).
MAX_HEAD_ENV = "SAYFILE_MAX_HEADER_BYTES"
HEAD_TIMEOUT_ENV = "SAYFILE_HEADER_TIMEOUT_SECONDS"

_TOO_LARGE_BODY = json.dumps(
    {"error": {"code": "headers_too_large", "message": "The request's headers are too large."}}
).encode()
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_TOO_LARGE_BODY), _TOO_LARGE_BODY)
)


class _HeadTooLarge(Exception):
    pass


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 431 and closes when a request's head passes the byte limit; closes a
    connection whose request head has not arrived within the time limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_head = int(os.environ.get(MAX_HEAD_ENV, "65536"))
        self._head_timeout = float(os.environ.get(HEAD_TIMEOUT_ENV, "10"))
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._rejected = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout, self._too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._max_head:
            self._rejected = True
            self._stop_head_timer()
            self.transport.write(_TOO_LARGE)
            self.transport.close()
            raise _HeadTooLarge()

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        if self._head_timer is None:
            self._start_head_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._rejected:  # the 431 has gone out already
            super().send_400_response(msg)

    def data_received(self, data: bytes) -> None:
        if not self._rejected:
            super().data_received(data)
