"""Book uploads over HTTP: spooled to an anonymous temporary file under their own limit
(SAYFILE_MAX_UPLOAD_BYTES), books under theirs (SAYFILE_MAX_CHARS_BOOK), the quota's room,
errors that name the limit, and files that are not books refused with nothing left behind."""

from __future__ import annotations

import http.client
import io
import json
import random
import struct
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, wait_done
from test_books import _epub

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder uploads are spooled to (Python's temporary folder) for this test."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def left_behind(spool: Path) -> list[str]:
    """Files in the spool folder, and files of it this process still holds open (an
    anonymous temporary file has no name, but an open descriptor shows where it was)."""
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith(str(spool)):
            held.append(target)
    return sorted(path.name for path in spool.iterdir()) + held


def data_files(client: TestClient) -> list[str]:
    """Every file under the data folder but the job store's own."""
    root = Path(client.app.state.settings.data_dir)  # type: ignore[attr-defined]
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith("jobs.sqlite3")
    )


def upload(
    client: TestClient, name: str, data: bytes, media_type: str = "text/plain", **fields: str
) -> Any:
    return client.post("/jobs", files={"file": (name, data, media_type)}, data=fields)


def test_a_book_is_taken_past_the_body_limit_up_to_its_own(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    client = make_client(**TONES, max_body_bytes=64 * KIB, max_upload_bytes=1 * MIB)
    text = "Chapter 1\n\n" + "The wind rose over the grey sea. " * 6000 + "\n\nChapter 2\n\nCalm."
    data = text.encode()
    assert 64 * KIB < len(data) < 1 * MIB
    r = upload(client, "sea.txt", data)
    assert r.status_code == 202, r.text
    assert [c["title"] for c in r.json()["chapters"]] == ["Chapter 1", "Chapter 2"]
    assert client.get(r.json()["status_url"]).json()["encoding"] == "utf-8"
    client.delete(r.json()["status_url"])
    # The same text as JSON is a body, under the body limit, which its error names.
    r = client.post("/jobs", json={"text": text})
    error = r.json()["error"]
    assert r.status_code == 413 and error["code"] == "body_too_large"
    assert error["setting"] == "SAYFILE_MAX_BODY_BYTES" and error["limit"] == 64 * KIB
    assert "SAYFILE_MAX_BODY_BYTES" in error["message"] and error["size"] > 64 * KIB
    assert left_behind(spool) == []


def test_an_upload_over_its_limit_is_refused_naming_the_setting_and_the_size(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    client = make_client(**TONES, max_body_bytes=64 * KIB, max_upload_bytes=1 * MIB)
    # Over the file's limit by its Content-Length alone: refused before it is read.
    r = upload(client, "big.txt", b"a" * (2 * MIB))
    error = r.json()["error"]
    assert r.status_code == 413 and error["code"] == "upload_too_large"
    assert error["setting"] == "SAYFILE_MAX_UPLOAD_BYTES" and error["limit"] == MIB
    assert error["size"] > 2 * MIB and error["field"] == "file"
    assert "SAYFILE_MAX_UPLOAD_BYTES" in error["message"]
    # Within the body's allowance for fields, but the file itself is over: its exact size.
    r = upload(client, "big.txt", b"a" * (MIB + 1000))
    error = r.json()["error"]
    assert r.status_code == 413 and error["code"] == "upload_too_large"
    assert error["size"] == MIB + 1000 and f"is {MIB + 1000:,} bytes" in error["message"]
    # Sent without a length (chunked): stopped as it passes the limit.
    body, content_type = _multipart("big.txt", b"a" * (3 * MIB))
    r = client.post("/jobs", content=_chunks(body), headers={"content-type": content_type})
    error = r.json()["error"]
    assert r.status_code == 413 and error["code"] == "upload_too_large" and "size" not in error
    assert left_behind(spool) == [] and data_files(client) == []


def test_a_book_over_the_character_limit_is_refused_naming_it(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    client = make_client(**TONES, max_chars_book=5000, book_above_chars=1000)
    text = "Chapter 1\n\n" + "The wind rose over the grey sea. " * 200
    r = upload(client, "sea.txt", text.encode())
    error = r.json()["error"]
    assert r.status_code == 413 and error["code"] == "book_too_long"
    assert error["setting"] == "SAYFILE_MAX_CHARS_BOOK" and error["limit"] == 5000
    assert error["size"] > 5000 and f"has {error['size']:,} characters" in error["message"]
    # A file with more bytes than so many characters can take is refused by its size.
    r = upload(client, "sea.txt", text.encode() * 4)
    assert r.status_code == 413 and r.json()["error"]["code"] == "book_too_long"
    # Pasted text made as a book is under the same limit; short jobs keep theirs.
    r = client.post("/jobs", json={"text": text})
    assert r.status_code == 413 and r.json()["error"]["setting"] == "SAYFILE_MAX_CHARS_BOOK"
    short = make_client(**TONES, max_chars_job=100, book_above_chars=0)
    r = short.post("/jobs", json={"text": text})
    assert r.status_code == 413 and r.json()["error"]["setting"] == "SAYFILE_MAX_CHARS_JOB"
    assert left_behind(spool) == [] and data_files(client) == []


def test_a_web_novel_of_a_thousand_chapters_is_listed_and_made_in_parts(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    # A web novel as people download it: a chapter heading a line, over a thousand of them.
    # It had been refused whole ("the limit is 500 chapters"), even with chapters=1-10.
    client = make_client(**TONES)
    novel = "".join(f"第{n}章 归来\n\n他走了很久。天快黑了。\n\n" for n in range(1, 1201))
    data = novel.encode("gb18030")
    listed = client.post("/books/chapters", files={"file": ("小说.txt", data, "text/plain")})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["chapters"]) == 1200
    r = upload(client, "小说.txt", data)
    error = r.json()["error"]
    assert r.status_code == 422 and error["field"] == "chapters"
    assert error["message"] == (
        "1,200 chapters would be made, and one file holds at most 500: make them in parts, "
        "chapters 1-500 first, then the next ones."
    )
    r = upload(client, "小说.txt", data, chapters="1-10")
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert [c["title"] for c in job["chapters"]][:2] == ["第1章 归来", "第2章 归来"]
    assert sum(not c["skipped"] for c in job["chapters"]) == 10


def test_a_book_the_quota_has_no_room_for_is_refused_at_once_with_the_room_left(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    client = make_client(**TONES, storage_quota_bytes=1_000_000)
    text = "Chapter 1\n\n" + "The wind rose over the grey sea. " * 1000
    r = upload(client, "sea.txt", text.encode(), format="mp3")
    error = r.json()["error"]
    assert r.status_code == 507 and error["code"] == "storage_full"
    assert error["setting"] == "SAYFILE_STORAGE_QUOTA_BYTES" and error["room"] == 1_000_000
    # About 0.065 s a character at mp3's 64 kbit/s.
    assert error["size"] == pytest.approx(len(text) * 0.065 * 8000, rel=0.05)
    assert left_behind(spool) == [] and data_files(client) == []
    # A shorter book fits.
    assert upload(client, "sea.txt", text[:1000].encode(), format="mp3").status_code == 202


def _png() -> bytes:
    """A real 8x8 grey PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + bytes(range(0, 256, 32)) for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _jpeg(tmp_path: Path) -> bytes:
    """A real JPEG, as FFmpeg's encoder writes one."""
    target = tmp_path / "picture.jpg"
    source = ["-f", "lavfi", "-i", "testsrc=size=64x48"]
    subprocess.run(["ffmpeg", "-v", "error", *source, "-frames:v", "1", str(target)], check=True)
    return target.read_bytes()


def _pdf() -> bytes:
    """A one-page PDF saying a book's first line."""
    stream = b"BT /F1 12 Tf 72 720 Td (Call me Ishmael.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    table = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    )
    return out.getvalue()


def _zip_bomb() -> bytes:
    """An EPUB whose picture unpacks to 210 MB of zeros from a few hundred KB."""
    buffer = io.BytesIO(_epub())
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("EPUB/images/cover.png", "w", force_zip64=True) as bomb,
    ):
        zeros = bytes(MIB)
        for _ in range(210):
            bomb.write(zeros)
    return buffer.getvalue()


@pytest.mark.usefixtures("ffmpeg")
def test_files_that_are_not_books_are_refused_before_any_synthesis(
    make_client: Callable[..., TestClient], spool: Path, tmp_path: Path
) -> None:
    client = make_client(**TONES)
    noise = random.Random(21).randbytes(50_000)
    cases = [
        ("moby-dick.epub", _zip_bomb(), "application/epub+zip", "unpacks to"),
        ("cover.png", _png(), "image/png", "is a PNG image, not a book"),
        ("book.txt", _png(), "text/plain", "is a PNG image, not a book"),
        ("photo.jpg", _jpeg(tmp_path), "image/jpeg", "is a JPEG image, not a book"),
        ("moby-dick.pdf", _pdf(), "application/pdf", "is a PDF document, not a book"),
        ("moby-dick.epub", _pdf(), "application/epub+zip", "is a PDF document, not a book"),
        ("noise.txt", noise, "text/plain", f"offset {_first_invalid(noise)} "),
        ("noise", noise, "application/octet-stream", f"offset {_first_invalid(noise)} "),
    ]
    assert len(cases[0][1]) < 1 * MIB
    for name, data, media_type, says in cases:
        r = upload(client, name, data, media_type)
        assert r.status_code == 422, (name, r.text)
        error = r.json()["error"]
        assert error["field"] == "file" and says in error["message"], (name, error)
        assert "EPUB, Markdown (.md) or plain text (.txt)" in error["message"] or "unpacks" in says
    assert left_behind(spool) == [] and data_files(client) == []


def _first_invalid(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    raise AssertionError("valid UTF-8")


def test_an_upload_cut_off_midway_leaves_nothing(
    make_client: Callable[..., TestClient], spool: Path
) -> None:
    client = make_client(**TONES)
    body, content_type = _multipart("sea.txt", b"The sea. " * 300_000)
    # Half the body, then the client hangs up, as the server hears it.
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if len(messages) > 1 else messages[0]

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/jobs",
        "raw_path": b"/jobs",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", content_type.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def post() -> None:
        await client.app(scope, receive, send)

    client.portal.call(post)  # type: ignore[union-attr]
    assert sent == []  # nobody is left to answer
    assert left_behind(spool) == [] and data_files(client) == []


@pytest.mark.parametrize(
    ("name", "text", "chapters"),
    [
        # Moby-Dick's length, built from one of its paragraphs under 135 chapter headings.
        (
            "moby-dick.txt",
            "".join(
                f"CHAPTER {n}\n\n"
                + "Call me Ishmael. Some years ago, never mind how long precisely, having "
                "little or no money in my purse, and nothing particular to interest me on "
                "shore, I thought I would sail about a little and see the watery part of the "
                "world. " * 42 + "\n\n"
                for n in range(1, 136)
            ),
            135,
        ),
        # The Dream of the Red Chamber's length in GB18030, 120 chapters (第N回).
        (
            "红楼梦.txt",
            "".join(
                f"第{n}回 甄士隐梦幻识通灵\n\n"
                + "此开卷第一回也。作者自云：曾历过一番梦幻之后，故将真事隐去，而借通灵之说，"
                "撰此《石头记》一书也。故曰“甄士隐”云云。" * 148 + "\n\n"
                for n in range(1, 121)
            ),
            120,
        ),
    ],
    ids=["1.2M characters", "850,000 GB18030 characters"],
)
def test_whole_novels_are_taken_with_the_defaults(
    make_client: Callable[..., TestClient], spool: Path, name: str, text: str, chapters: int
) -> None:
    client = make_client(**TONES)
    data = text.encode("gb18030")
    r = upload(client, name, data)
    assert r.status_code == 202, r.text
    job = r.json()
    assert len(job["chapters"]) == chapters
    read = client.get(job["status_url"]).json()
    assert read["encoding"] == ("utf-8" if text.isascii() else "gb18030")
    client.delete(job["status_url"])
    assert left_behind(spool) == []


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "sayfile-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def _chunks(body: bytes, size: int = 64 * KIB) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.slow
def test_a_server_takes_a_large_upload_without_holding_it_in_memory(
    server_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real `sayfile serve` process: 64 MiB of text arrive, are spooled to disk and refused
    from their size (more bytes than 4,000,000 characters take), with the process's peak RSS
    over the request (VmHWM, reset first) within a few MiB of what it was before."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    server = server_factory(engines="tone", default_voice="tone:beep")
    pid = server.process.pid
    status = Path(f"/proc/{pid}/status")

    def kib(field: str) -> int:
        line = next(x for x in status.read_text().splitlines() if x.startswith(field + ":"))
        return int(line.split()[1])

    size = 64 * MIB
    empty, content_type = _multipart("big.txt", b"")
    closing = b"\r\n--" + content_type.split("=")[1].encode() + b"--\r\n"
    head, tail = empty.removesuffix(closing), closing
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = kib("VmRSS")
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    connection.putrequest("POST", "/jobs")
    connection.putheader("Content-Type", content_type)
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    block = b"The wind rose over the grey sea.\n" * (MIB // 33) + b"\n" * (MIB % 33)
    for _ in range(size // MIB):
        connection.send(block)
    connection.send(tail)
    response = connection.getresponse()
    error = json.loads(response.read())["error"]
    connection.close()
    assert response.status == 413 and error["code"] == "book_too_long", error
    grown = (kib("VmHWM") - before) / 1024
    assert grown < 16, f"the server grew by {grown:.1f} MiB while taking 64 MiB"
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("path", ["/jobs", "/books/chapters"])
def test_a_file_field_sent_as_text_is_refused_naming_it(
    make_client: Callable[..., TestClient], path: str
) -> None:
    """`curl -F file=book.epub` (the @ forgotten) sends the name as a text field: that was
    422 "text: Field required", which says nothing about the file."""
    client = make_client(**TONES)
    as_text = client.post(path, files={"file": (None, "book.epub")})
    url_encoded = client.post(path, data={"file": "book.epub", "voice": "tone:beep"})
    for r in (as_text, url_encoded):
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["field"] == "file" and "-F file=@path" in error["message"]
        assert "'book.epub'" in error["message"]
