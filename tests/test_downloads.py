"""JobFileResponse at the ASGI boundary: how many bytes a download hands over (one-time links
end once the file's size has gone out), ranges; and through an app, a job's file and a book's
chapters' own files: HEAD, 304, ranges, and which chapter a number names."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from conftest import TONES, wait_done
from sayfile.api.audio_responses import PATHSEND, JobFileResponse
from sayfile.books.parts import BookFolder
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


def _job() -> Job:
    return Job(
        id="0" * 32,
        status=JobStatus.done,
        format="wav",
        voice="espeak:en-us",
        key="k",
        stem="file",
        created_at=0,
        expires_at=60,
    )


async def ask(
    path: Path, headers: dict[str, str], method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request to JobFileResponse as a server that speaks ASGI 2.4 makes it: the status,
    the headers and the body the client gets."""
    client = Client(leave_after=None)
    scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "asgi": {"version": "3.0", "spec_version": "2.4"},
    }
    await JobFileResponse(path.open("rb"), _job())(scope, client.receive, client.send)
    start = client.messages[0]
    answer = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in client.messages[1:])
    assert not client.messages[-1].get("more_body", False)
    if method == "GET":
        assert int(answer["content-length"]) == len(body)
    return start["status"], answer, body


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.wav"
    path.write_bytes(bytes(range(256)) * 4)
    return path


async def test_a_whole_file_and_its_head(small_file: Path) -> None:
    content = small_file.read_bytes()
    status, headers, body = await ask(small_file, {})
    assert status == 200 and body == content
    assert headers["accept-ranges"] == "bytes" and headers["content-type"] == "audio/wav"
    assert headers["content-disposition"].startswith("attachment")
    status, head, body = await ask(small_file, {}, method="HEAD")
    assert status == 200 and body == b"" and head == headers


async def test_ranges_from_the_start_the_end_and_the_middle(small_file: Path) -> None:
    content = small_file.read_bytes()
    for wanted, expected, first, last in (
        ("bytes=0-9", content[:10], 0, 9),
        ("bytes=1000-", content[1000:], 1000, 1023),
        ("bytes=-24", content[-24:], 1000, 1023),
        ("bytes=1000-5000", content[1000:], 1000, 1023),
    ):
        status, headers, body = await ask(small_file, {"range": wanted})
        assert status == 206 and body == expected, wanted
        assert headers["content-range"] == f"bytes {first}-{last}/1024"


async def test_several_ranges_come_as_multipart_byteranges(small_file: Path) -> None:
    content = small_file.read_bytes()
    status, headers, body = await ask(small_file, {"range": "bytes=500-509, 0-4, 2-7"})
    assert status == 206
    kind, _, boundary = headers["content-type"].partition("; boundary=")
    assert kind == "multipart/byteranges"
    parts = body.split(f"--{boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--"
    spans = [part.split(b"\r\n\r\n", 1) for part in parts[1:-1]]
    assert [head.split(b"\r\n")[2] for head, _ in spans] == [
        b"Content-Range: bytes 0-7/1024",  # 0-4 and 2-7 overlap: one span
        b"Content-Range: bytes 500-509/1024",
    ]
    assert [data for _, data in spans] == [content[0:8] + b"\r\n", content[500:510] + b"\r\n"]


async def test_bad_ranges_are_refused_and_stale_ones_get_the_whole_file(small_file: Path) -> None:
    # Another unit than bytes is ignored (RFC 9110, 14.2): the whole file.
    status, _, body = await ask(small_file, {"range": "pages=1-2"})
    assert status == 200 and body == small_file.read_bytes()
    # Invalid ranges of bytes (RFC 9110, 14.1.1) and ranges past the end: 416, in JSON
    # naming the problem, with the size.
    for wanted, problem in (
        ("bytes=9-3", "ends before it starts"),
        ("bytes=abc", "names no range of bytes"),
        ("bytes=", "names no range of bytes"),
        ("bytes", "names no range of bytes"),
        ("bytes=2000-", "past the end of the file (1024 bytes)"),
        ("bytes=-0", "past the end"),
    ):
        status, headers, body = await ask(small_file, {"range": wanted})
        assert status == 416 and headers["content-range"] == "bytes */1024", wanted
        error = json.loads(body)["error"]
        assert error["code"] == "range_not_satisfiable" and problem in error["message"], wanted
    _, whole, _ = await ask(small_file, {})
    for validator in (whole["etag"], whole["last-modified"]):
        status, _, body = await ask(small_file, {"range": "bytes=0-0", "if-range": validator})
        assert status == 206 and body == b"\x00"
    status, _, body = await ask(small_file, {"range": "bytes=0-0", "if-range": '"older"'})
    assert status == 200 and len(body) == 1024


async def test_more_than_a_hundred_ranges_get_the_whole_file(small_file: Path) -> None:
    many = "bytes=" + ",".join(f"{n}-{n}" for n in range(0, 202, 2))
    status, _, body = await ask(small_file, {"range": many})
    assert status == 200 and body == small_file.read_bytes()
    status, _, _ = await ask(small_file, {"range": "bytes=" + many[6:].rsplit(",", 1)[0]})
    assert status == 206  # a hundred are still ranges


def test_a_job_s_audio_ignores_other_units_and_refuses_bad_ranges_in_json(
    make_client: Callable[..., TestClient],
) -> None:
    """`Range: items=0-5` was 400 "Only support bytes range", and a malformed range of bytes
    400 in text/plain ("Range header: range must be requested")."""
    client = make_client(**TONES)
    job = wait_done(
        client, client.post("/jobs", json={"text": "Hello there."}).json()["status_url"]
    )
    whole = client.get(job["audio_url"])
    other = client.get(job["audio_url"], headers={"range": "items=0-5"})
    assert other.status_code == 200 and other.content == whole.content
    bad = client.get(job["audio_url"], headers={"range": "bytes=five-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{job['bytes']}"
    assert bad.json()["error"]["code"] == "range_not_satisfiable"
    assert "names no range of bytes" in bad.json()["error"]["message"]


def test_a_chapter_is_a_file_while_the_book_is_made_and_in_the_book_once_done(
    make_client: Callable[..., TestClient],
) -> None:
    """A chapter's link answered the whole file to a Range, 405 to HEAD, without
    Accept-Ranges or a name; chapters beyond the book were 409 `not_ready` (retried for
    ever), chapter 0 "No such job"; and once the book was done every chapter was 409
    `not_ready` with Retry-After, which it would never stop being."""
    client = make_client(
        **TONES, parallel_sentences=1, book_turns=1, book_part_chars=200, book_above_chars=500
    )
    text = "\n\n".join(
        f"Chapter {n}\n\n" + "A slow sentence of the book. " * (10 if n == 1 else 40)
        for n in range(1, 4)
    )
    job = client.post("/jobs", json={"text": text, "voice": "tone:slow"}).json()
    chapters = f"{job['status_url']}/chapters"
    deadline = time.monotonic() + 60
    while not (state := client.get(job["status_url"]).json())["chapters"][0]["done"]:
        assert time.monotonic() < deadline, state
        time.sleep(0.03)
    assert state["status"] == "running" and not state["chapters"][2]["done"], state
    whole = client.get(f"{chapters}/1/audio")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert "Chapter 1 01-Chapter 1.mp3" in unquote(whole.headers["content-disposition"])
    part = client.get(f"{chapters}/1/audio", headers={"range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == whole.content[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(whole.content)}"
    head = client.head(f"{chapters}/1/audio")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(whole.content))
    assert head.headers["etag"] == whole.headers["etag"]
    waiting = client.get(f"{chapters}/3/audio")
    assert waiting.status_code == 409 and waiting.headers["retry-after"] == "2"
    assert "Chapter 3 is still being made" in waiting.json()["error"]["message"]
    for number in (0, -1, 4):
        missing = client.get(f"{chapters}/{number}/audio")
        assert missing.status_code == 404, number
        error = missing.json()["error"]["message"]
        assert f"no chapter {number}: its chapters are numbered 1 to 3" in error

    done = wait_done(client, job["status_url"])
    joined = client.get(f"{chapters}/1/audio")
    assert joined.status_code == 410 and "retry-after" not in joined.headers
    error = joined.json()["error"]
    start, end = done["chapters"][0]["start"], done["chapters"][0]["end"]
    assert error["code"] == "chapter_joined"
    assert f"chapter 1 is in the book's file, from {start:.1f} s to {end:.1f} s" in error["message"]
    assert "no chapter 4" in client.get(f"{chapters}/4/audio").json()["error"]["message"]
    other = client.post("/jobs", json={"text": "Not a book."}).json()
    wait_done(client, other["status_url"])
    plain = client.get(f"{other['status_url']}/chapters/1/audio")
    assert plain.status_code == 404 and "not a book" in plain.json()["error"]["message"]


# A book of three chapters in parts of a few sentences, made one part at a time at 50 ms a
# sentence: its first chapter is done seconds before its last.
_SLOW_BOOK: dict[str, Any] = {
    **TONES,
    "parallel_sentences": 1,
    "book_turns": 1,
    "book_part_chars": 200,
    "book_above_chars": 500,
}


def _book_text() -> str:
    return "\n\n".join(
        f"Chapter {n}\n\n" + "A slow sentence of the book. " * (10 if n == 1 else 40)
        for n in range(1, 4)
    )


def _first_chapter_made(client: TestClient, **fields: str) -> tuple[dict[str, Any], str]:
    """A book uploaded as a job (`book.txt`, with `fields`), once its first chapter made is
    done while its last is not; the job, and the address its chapters' links start with."""
    job = client.post(
        "/jobs",
        files={"file": ("book.txt", _book_text().encode(), "text/plain")},
        data={"voice": "tone:slow", "format": "mp3", **fields},
    ).json()
    deadline = time.monotonic() + 60
    while True:
        state = client.get(job["status_url"]).json()
        if any(chapter["done"] for chapter in state["chapters"]):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.03)
    assert state["status"] == "running" and not state["chapters"][2]["done"], state
    return job, f"{job['status_url']}/chapters"


def test_a_chapter_s_head_reads_nothing_of_its_file(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """A chapter had no HEAD of its own: HEAD went through as a GET whose body was dropped,
    so the chapter's first MiB was read from disk for nothing (a job's own HEAD reads none)."""
    client = make_client(**_SLOW_BOOK)
    job, chapters = _first_chapter_made(client)
    path = BookFolder(tmp_path / "data" / "books" / job["id"]).chapter_audio(0, "mp3")
    mtime_ns = path.stat().st_mtime_ns
    # An access time before the file's change: the next read of it sets it (even relatime).
    os.utime(path, ns=(0, mtime_ns))
    whole = client.get(f"{chapters}/1/audio")
    assert whole.status_code == 200 and whole.content == path.read_bytes()
    if path.stat().st_atime_ns == 0:
        pytest.skip("this file system does not note reads in the access time")
    os.utime(path, ns=(0, mtime_ns))
    head = client.head(f"{chapters}/1/audio")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(whole.content))
    assert head.headers["etag"] == whole.headers["etag"]
    assert path.stat().st_atime_ns == 0
    # Nothing else was reading it meanwhile: the book is not being joined yet.
    assert not client.get(job["status_url"]).json()["chapters"][2]["done"]


def test_a_chapter_and_a_job_s_file_answer_their_etag_with_304(
    make_client: Callable[..., TestClient],
) -> None:
    """A chapter's ETag in If-None-Match got the whole chapter again (only a job's own file
    answered 304), and `*` or a weak tag in a list got the whole file from both."""
    client = make_client(**_SLOW_BOOK)
    _, chapters = _first_chapter_made(client)
    other = client.post("/jobs", json={"text": "Not a book."}).json()
    plain = wait_done(client, other["status_url"])["audio_url"]
    for url in (f"{chapters}/1/audio", plain):
        whole = client.get(url)
        etag = whole.headers["etag"]
        for asked in (etag, f'"other", W/{etag}', "*"):
            for method in ("GET", "HEAD"):
                again = client.request(method, url, headers={"if-none-match": asked})
                assert again.status_code == 304, (url, asked, method)
                assert again.content == b"" and again.headers["etag"] == etag
        changed = client.get(url, headers={"if-none-match": '"other"', "range": "bytes=0-9"})
        assert changed.status_code == 206 and changed.content == whole.content[:10]


def test_ranges_and_chapter_choices_take_ascii_digits_only(
    make_client: Callable[..., TestClient],
) -> None:
    """Byte positions were read with int(), which takes "+5", " 5" and "5_000": `bytes=+0-9`
    got bytes 0 to 9. Chapter numbers were read as any script's digits (`٢` was chapter 2);
    full-width digits and commas, as a Chinese input method types them, are read as the ASCII
    ones they stand for."""
    client = make_client(**TONES)
    job = wait_done(
        client, client.post("/jobs", json={"text": "Hello there."}).json()["status_url"]
    )
    # (A header's bytes are read as Latin-1, which has no other digits than ASCII's.)
    for wanted in (
        "bytes=+0-9",
        "bytes=0-+9",
        "bytes=0- 9",
        "bytes=0 -9",
        "bytes=0-1_0",
        "bytes=-+5",
    ):
        bad = client.get(job["audio_url"], headers={"range": wanted})
        assert bad.status_code == 416, wanted
        assert bad.headers["content-range"] == f"bytes */{job['bytes']}"
        error = bad.json()["error"]
        assert error["code"] == "range_not_satisfiable", wanted
        assert "names no range of bytes" in error["message"], wanted
    assert client.get(job["audio_url"], headers={"range": "bytes= 0-9"}).status_code == 206
    for chosen in ("٢", "+2", "2_0"):
        for refused in (
            client.post("/jobs", json={"text": _book_text(), "chapters": chosen}),
            client.post(
                "/books/chapters",
                files={"file": ("book.txt", _book_text().encode(), "text/plain")},
                data={"chapters": chosen},
            ),
        ):
            assert refused.status_code == 422, (chosen, refused.text)
            error = refused.json()["error"]
            assert error["field"] == "chapters", chosen
            assert "allowed: numbers and ranges from 1 to 3 such as 1-3,7" in error["message"]
    for chosen in (" 2 - 3 ", "２－３", "２，３", "2、3"):
        made = client.post("/jobs", json={"text": _book_text(), "chapters": chosen})
        assert made.status_code == 202, made.text
        assert [c["number"] for c in made.json()["chapters"] if not c["skipped"]] == [2, 3]


def test_a_chapter_s_number_a_bit_rate_and_a_cue_length_take_ascii_digits_only(
    make_client: Callable[..., TestClient],
) -> None:
    """pydantic reads a whole number's text as int() does: chapter `+1` (or `0_1`, or ` 1`)
    was chapter 1, `bitrate=+64` or `6_4` was 64, and `max_chars=5_0` was 50."""
    client = make_client(**TONES)
    job = wait_done(
        client, client.post("/jobs", json={"text": "Hello there."}).json()["status_url"]
    )
    said = "is not a whole number written in the digits 0-9"
    for number in ("+1", "0_1", "%201", "１"):
        refused = client.get(f"{job['status_url']}/chapters/{number}/audio")
        assert refused.status_code == 422, number
        assert refused.json()["error"]["field"] == "number" and said in refused.text, number
    # Numbers as they are written still reach the service: no chapter -1 in a job no book.
    for number in ("1", "-1"):
        assert client.get(f"{job['status_url']}/chapters/{number}/audio").status_code == 404
    for bitrate in ("+64", "6_4", " 64", "６４"):
        for refused in (
            client.post("/jobs", data={"text": "Hello there.", "bitrate": bitrate}),
            client.post("/jobs", json={"text": "Hello there.", "bitrate": bitrate}),
        ):
            assert refused.status_code == 422, (bitrate, refused.text)
            assert refused.json()["error"]["field"] == "bitrate" and said in refused.text
    assert client.post("/jobs", data={"text": "Hello.", "bitrate": "64"}).status_code == 202
    for max_chars in ("5_0", "%2B50", "%2050"):
        refused = client.get(f"{job['status_url']}/subtitles.srt?max_chars={max_chars}")
        assert refused.status_code == 422, max_chars
        assert refused.json()["error"]["field"] == "max_chars" and said in refused.text
    assert client.get(f"{job['status_url']}/subtitles.vtt?max_chars=50").status_code == 200


def test_a_book_s_chapter_link_and_its_zip_number_a_chapter_alike(
    make_client: Callable[..., TestClient],
) -> None:
    """With chapters left out, the ZIP numbered the chapters made (01, 02...) while the job's
    `chapters`, their links and the `chapters` choice count every chapter: chapter 2 on its
    link was `01-...` in the ZIP."""
    client = make_client(**_SLOW_BOOK)
    job, chapters = _first_chapter_made(client, chapters="2-3", package="zip")
    listed = client.get(job["status_url"]).json()["chapters"]
    assert [c["skipped"] for c in listed] == [True, False, False]
    assert client.get(f"{chapters}/1/audio").status_code == 404
    link = client.get(f"{chapters}/2/audio")
    assert link.status_code == 200
    named = unquote(link.headers["content-disposition"].rpartition("''")[2])
    done = wait_done(client, job["status_url"])
    archive = zipfile.ZipFile(io.BytesIO(client.get(done["audio_url"]).content))
    names = archive.namelist()
    assert names == [
        f"{n:02d}-Chapter {n}.{extension}" for n in (2, 3) for extension in ("mp3", "srt", "vtt")
    ]
    assert named.endswith(" " + names[0])
    assert archive.read(names[0]) == link.content
