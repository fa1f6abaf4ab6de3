"""JobFileResponse at the ASGI boundary: how many bytes a download hands over (one-time links
end once the file's size has gone out)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.types import Message

from sayfile.api.downloads import PATHSEND, JobFileResponse
from sayfile.store.records import Job, JobStatus, new_job_id

CHUNK = JobFileResponse.chunk_size


class Client:
    """An ASGI server's side of one GET: records what the app sends, and reports a
    disconnect once `leave_after` bytes have arrived (as curl does once it has
    Content-Length bytes)."""

    def __init__(self, leave_after: int | None) -> None:
        self.leave_after = leave_after
        self.messages: list[Message] = []
        self.received = 0
        self._left = asyncio.Event()

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        self.received += len(message.get("body", b""))
        if self.leave_after is not None and self.received >= self.leave_after:
            self._left.set()

    async def receive(self) -> Message:
        await self._left.wait()
        return {"type": "http.disconnect"}


async def download(
    path: Path, client: Client, extensions: dict[str, object], deleted: bool = False
) -> bool:
    """GET the file through JobFileResponse (the file deleted once the job was looked up, when
    `deleted`); True when the whole file's bytes were counted as sent."""
    size = path.stat().st_size
    counted = 0

    async def on_sent(count: int) -> None:
        nonlocal counted
        counted += count

    job = Job(
        id=new_job_id(),
        status=JobStatus.done,
        format="wav",
        voice="espeak:en-us",
        key="k",
        stem="file",
        created_at=0,
        expires_at=60,
        one_time=True,
    )
    response = JobFileResponse(path.open("rb"), job, on_sent=on_sent)
    if deleted:
        path.unlink()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        # Below 2.4 Starlette listens for the disconnect while it sends, as under Granian.
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "extensions": extensions,
    }
    await response(scope, client.receive, client.send)
    return counted >= size


@pytest.fixture
def exact_file(tmp_path: Path) -> Path:
    """A file whose size is a whole number of chunks: its last bytes still say "more"."""
    path = tmp_path / "audio.wav"
    path.write_bytes(bytes(range(256)) * (2 * CHUNK // 256))
    return path


async def test_leaving_right_after_the_last_byte_is_a_complete_download(exact_file: Path) -> None:
    client = Client(leave_after=exact_file.stat().st_size)
    assert await download(exact_file, client, {})
    assert b"".join(m.get("body", b"") for m in client.messages) == exact_file.read_bytes()


async def test_leaving_before_the_last_byte_keeps_the_link(exact_file: Path) -> None:
    client = Client(leave_after=CHUNK)
    assert not await download(exact_file, client, {})
    assert client.received < exact_file.stat().st_size


async def test_one_time_files_go_in_chunks_even_where_pathsend_is_offered(
    exact_file: Path,
) -> None:
    client = Client(leave_after=None)
    assert await download(exact_file, client, {PATHSEND: {}})
    assert all(m["type"] != PATHSEND for m in client.messages)
    assert client.received == exact_file.stat().st_size


async def test_a_file_deleted_after_the_lookup_still_goes_out_whole(exact_file: Path) -> None:
    """Another download just used up the one-time link, or the sweeper came by: this one had
    the file open already."""
    content = exact_file.read_bytes()
    client = Client(leave_after=None)
    assert await download(exact_file, client, {}, deleted=True)
    assert not exact_file.exists()
    assert client.messages[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in client.messages) == content
