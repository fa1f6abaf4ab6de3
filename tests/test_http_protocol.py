"""The protocol `sayfile serve` runs (api/http_protocol.py) on a real uvicorn server in this
process: requests pass through it unchanged, a huge head gets 431, a slow one is cut off.
These fail if uvicorn's httptools protocol, which the gate wraps, moves or changes."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
import uvloop
from starlette.types import Receive, Scope, Send

from sayfile.api.http_protocol import HEAD_TIMEOUT_ENV, MAX_HEAD_ENV, HeadLimitedProtocol


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the path and how many body bytes arrived."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = f"{scope['path']} {size}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=["asyncio", "uvloop"])
def address(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, int]]:
    """A server on either event loop `sayfile serve` may run on (uvloop where installed)."""
    monkeypatch.setenv(MAX_HEAD_ENV, "4096")
    monkeypatch.setenv(HEAD_TIMEOUT_ENV, "0.5")
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        echo, http=HeadLimitedProtocol, ws="none", lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    run = uvloop.run if request.param == "uvloop" else asyncio.run
    thread = threading.Thread(target=lambda: run(server.serve(sockets=[listening])))
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield listening.getsockname()
    server.should_exit = True
    thread.join(30)
    listening.close()


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_requests_and_bodies_pass_through_on_one_connection(address: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*address, timeout=10)
    answers = []
    for method, path, body in (
        ("GET", "/first", None),
        ("POST", "/upload", b"x" * 300_000),  # a body is not a head: no limit here
        ("GET", "/third", None),
    ):
        headers = {"X-Fits": "a" * 3000}  # under the 4096 bytes a head may have
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answers.append((response.status, response.read()))
    connection.close()
    assert answers == [(200, b"/first 0"), (200, b"/upload 300000"), (200, b"/third 0")]


def test_a_huge_head_gets_431_and_the_server_goes_on(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert answer.endswith(
        b'"code": "headers_too_large", "message": "The request\'s headers are too large."}}'
    )
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET /" + b"u" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")  # a long URL
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request("GET", "/after")
    assert connection.getresponse().read() == b"/after 0"
    connection.close()


def test_a_header_that_never_ends_is_refused_once_the_limit_has_arrived(
    address: tuple[str, int],
) -> None:
    """Not held until it ends (httptools keeps a header's value until then) nor until the
    time limit: the 431 comes while the client is still sending."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        for _ in range(100):
            sock.sendall(b"a" * 1000)
            time.sleep(0.001)
        sock.shutdown(socket.SHUT_WR)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_a_head_that_never_ends_is_cut_off(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        assert _read_all(sock) == b""  # closed by the server, well before the 10 s
    with socket.create_connection(address, timeout=10) as sock:
        assert _read_all(sock) == b""  # nothing sent at all
    with socket.create_connection(address, timeout=10) as sock:
        # A second request on a kept-alive connection gets the same bound.
        sock.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\n")
        answer = _read_all(sock)
    assert answer.count(b"HTTP/1.1 200 ") == 1 and b"\r\n/one 0\r\n" in answer
