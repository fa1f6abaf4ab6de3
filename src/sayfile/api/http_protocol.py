"""The HTTP/1.1 protocol `sayfile serve` runs: uvicorn's httptools protocol behind a gate with
two bounds it lacks, on the size of a request's head (request line and headers) and on the
time a client may take to send it, so neither a huge header nor a slow trickle can hold
memory or a connection.

The gate is an asyncio protocol of its own (what uvicorn's `http=` setting takes) that reads
every byte first with a parser of its own and hands it on; it overrides nothing in uvicorn.
What it still needs from uvicorn beyond its public settings is where its httptools protocol
lives, `uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`, built with the arguments
uvicorn's server passes to any `http=` class: neither uvicorn's settings (h11's
`h11_max_incomplete_event_size` answers 400 and bounds no time; `timeout_keep_alive` starts
only after a first response) nor an ASGI middleware (called once the whole head has been read)
gives these bounds. tests/test_http_protocol.py fails if that class moves or changes."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, cast

import httptools
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
    """Raised in the meter's callback; httptools hands it on as an HttpParserCallbackError."""


class _HeadMeter:
    """The callbacks of the gate's own parser: counts each request head's bytes and says when
    a head begins and ends. httptools keeps a header's value until it is whole, so bytes
    that arrive wholly inside a head are counted as they come too (`spill`): a header that
    never ends is refused once the limit's worth has arrived, not held until it ends."""

    def __init__(self, max_bytes: int, gate: HeadLimitedProtocol) -> None:
        self._max = max_bytes
        self._gate = gate
        self._bytes = 0
        self._arrived = 0
        self.in_head = False
        self.edges = 0  # heads begun and ended so far
        self.overflowed = False

    def _count(self, size: int) -> None:
        self._bytes += size
        if self._bytes > self._max:
            self.overflowed = True
            raise _HeadTooLarge()

    def spill(self, size: int) -> bool:
        """Count `size` bytes that arrived wholly inside one head; True past the limit."""
        self._arrived += size
        self.overflowed = self._arrived > self._max
        return self.overflowed

    def on_message_begin(self) -> None:
        self._bytes = self._arrived = 0
        self.in_head = True
        self.edges += 1
        self._gate.head_began()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.edges += 1
        self._gate.head_ended()


class HeadLimitedProtocol(asyncio.Protocol):
    """uvicorn's httptools protocol behind a gate: answers 431 and closes when a request's
    head passes the byte limit; closes a connection whose request head has not arrived
    within the time limit. Everything else goes to uvicorn's protocol unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._http = HttpToolsProtocol(*args, **kwargs)
        self._meter = _HeadMeter(int(os.environ.get(MAX_HEAD_ENV, "65536")), self)
        self._parser = httptools.HttpRequestParser(self._meter)
        self._head_timeout = float(os.environ.get(HEAD_TIMEOUT_ENV, "10"))
        self._transport: asyncio.Transport | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._metering = True
        self._rejected = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though not always an asyncio.Transport (uvloop's is its own).
        self._transport = cast(asyncio.Transport, transport)
        self._http.connection_made(self._transport)
        self.head_began()

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_ended()
        self._http.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        if self._metering:
            meter = self._meter
            inside, edges = meter.in_head, meter.edges
            try:
                self._parser.feed_data(data)
            except (httptools.HttpParserUpgrade, httptools.HttpParserError):
                if meter.overflowed:
                    self._reject()
                    return
                # No longer plain HTTP/1.1 requests: uvicorn's protocol takes over the
                # connection (a WebSocket) or answers 400 and closes it.
                self._metering = False
                self.head_ended()
            else:
                wholly_head = inside and meter.in_head and meter.edges == edges
                if wholly_head and meter.spill(len(data)):
                    self._reject()
                    return
        self._http.data_received(data)

    def eof_received(self) -> None:
        self._http.eof_received()

    def pause_writing(self) -> None:
        self._http.pause_writing()

    def resume_writing(self) -> None:
        self._http.resume_writing()

    def head_began(self) -> None:
        if self._head_timer is None and self._metering:
            loop = asyncio.get_running_loop()
            self._head_timer = loop.call_later(self._head_timeout, self._too_slow)

    def head_ended(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def _reject(self) -> None:
        self._rejected = True
        self.head_ended()
        transport = self._transport
        if transport is None:
            return
        transport.write(_TOO_LARGE)
        if not transport.can_write_eof():
            transport.close()
            return
        # A client may still be sending its head: closing now, with its bytes unread, would
        # reset the connection and could lose the 431 on the way. So the answer is followed
        # by the end of what is sent, what still comes is read and dropped, and the
        # connection closes when the client closes its side or after the head's time limit.
        transport.write_eof()
        self._head_timer = asyncio.get_running_loop().call_later(self._head_timeout, self._too_slow)
