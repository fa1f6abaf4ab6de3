"""Memory of a real `sayfile serve` process while it takes book uploads of up to 200 MiB:
the file goes to an anonymous temporary file as it arrives, so the server's peak RSS should
stay near its idle RSS whatever the file's size.

Starts the server on 127.0.0.1 (tone engine, so no voice model weighs on the figures), builds
each file in a temporary folder, sends it with a Content-Length in 1 MiB writes, and reads
the server's RSS every 5 ms: its peak while the file was arriving (+receiving) and while the
book was read after its last byte (+reading), over the RSS before the upload, and the
request's peak over the idle server (VmHWM, reset before each upload through
/proc/PID/clear_refs). Prints a table (MiB).

    PYTHONPATH=src .venv/bin/python bench/uploads.py [MiB ...]
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

MIB = 1024 * 1024
BOUNDARY = "sayfile-bench-boundary"
PARAGRAPH = (
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
    "money in my purse, and nothing particular to interest me on shore, I thought I would "
    "sail about a little and see the watery part of the world.\n\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SAYFILE_DATA_DIR": str(data_dir),
        "SAYFILE_ENGINES": "tone",
        "SAYFILE_DEFAULT_VOICE": "tone:beep",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sayfile", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def text_book(path: Path, size: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        chapter = 0
        while out.tell() < size:
            chapter += 1
            out.write(f"CHAPTER {chapter}\n\n" + PARAGRAPH * 40)
        out.truncate(size)


def moby_dick(path: Path, size: int) -> None:
    """Moby-Dick's length (about 1.2 million characters) in 135 chapters, UTF-8."""
    del size
    path.write_text(
        "".join(f"CHAPTER {n}\n\n" + PARAGRAPH * 42 for n in range(1, 136)), encoding="utf-8"
    )


def red_chamber(path: Path, size: int) -> None:
    """The Dream of the Red Chamber's length (about 850,000 characters) in 120 chapters
    (第N回), GB18030."""
    del size
    sentence = (
        "此开卷第一回也。作者自云：曾历过一番梦幻之后，故将真事隐去，而借通灵之说，"
        "撰此《石头记》一书也。故曰“甄士隐”云云。\n\n"
    )
    text = "".join(f"第{n}回 甄士隐梦幻识通灵\n\n" + sentence * 148 for n in range(1, 121))
    path.write_bytes(text.encode("gb18030"))


def picture_epub(path: Path, size: int) -> None:
    """An EPUB 3 of one chapter whose weight is pictures (random bytes, stored), as
    illustrated books are, kept under the reader's 200 MB unpacked limit."""
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="id">bench</dc:identifier><dc:title>Pictures</dc:title>'
        "<dc:language>en</dc:language></metadata><manifest>"
        '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        '{images}</manifest><spine><itemref idref="c1"/></spine></package>'
    )
    pictures = max(1, (size - MIB) // (4 * MIB))
    images = "".join(
        f'<item id="p{n}" href="p{n}.jpg" media-type="image/jpeg"/>' for n in range(pictures)
    )
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="EPUB/book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        book.writestr("EPUB/book.opf", opf.format(images=images))
        xhtml = '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body>'
        book.writestr(
            "EPUB/c1.xhtml", xhtml + "<h1>Loomings</h1><p>" + PARAGRAPH + "</p></body></html>"
        )
        book.writestr(
            "EPUB/nav.xhtml",
            xhtml + '<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc"><ol>'
            '<li><a href="c1.xhtml">Loomings</a></li></ol></nav></body></html>',
        )
        for n in range(pictures):
            with book.open(f"EPUB/p{n}.jpg", "w") as picture:
                for _ in range(4):
                    picture.write(os.urandom(MIB))


class Sampler:
    """The server's RSS every 5 ms, in a thread, with the time of each reading."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.readings: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.readings.append((time.perf_counter(), kib(self.pid, "VmRSS") / 1024))
            time.sleep(0.005)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> float | None:
        return max((rss for at, rss in self.readings if start <= at <= end), default=None)


def upload(port: int, path: Path, media_type: str) -> tuple[int, str, float, float, float]:
    """Send the file; returns the status, the outcome, and when the request started, when its
    last byte was sent and when the answer came (perf_counter)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"'
        f"\r\nContent-Type: {media_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.putrequest("POST", "/jobs")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
    connection.endheaders()
    connection.send(head)
    with path.open("rb") as source:
        while block := source.read(MIB):
            connection.send(block)
    connection.send(tail)
    sent = time.perf_counter()
    response = connection.getresponse()
    body = json.loads(response.read())
    answered = time.perf_counter()
    outcome = f"{len(body['chapters'])} chapters" if "id" in body else body["error"]["code"]
    if "id" in body:
        connection.request("DELETE", body["status_url"])
        connection.getresponse().read()
    return response.status, outcome, started, sent, answered


def _above(peak: float | None, before: float) -> str:
    """MiB over `before`, or "-" when the phase was over before the first reading."""
    return "-" if peak is None else f"{peak - before:.1f}"


def main() -> None:
    scale = [int(arg) for arg in sys.argv[1:]]
    # A text book of about 3 million characters is read and made; 200 MiB of text is more
    # than 4,000,000 characters can be, and refused from its size once it is on disk.
    cases: list[tuple[str, str, str, Callable[[Path, int], None], list[int]]] = [
        ("moby-dick.txt", "text/plain", "moby-dick.txt", moby_dick, [0]),
        ("红楼梦.txt", "text/plain", "hongloumeng.txt", red_chamber, [0]),
        ("txt", "text/plain", "book.txt", text_book, scale or [3, 200]),
        (
            "epub (pictures)",
            "application/epub+zip",
            "pictures.epub",
            picture_epub,
            scale or [20, 199],
        ),
    ]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        process, port = start_server(work / "data")
        try:
            time.sleep(1)
            idle = kib(process.pid, "VmRSS") / 1024
            print(f"server idle RSS {idle:.1f} MiB (pid {process.pid})")
            print(
                f"{'file':<16} {'MiB':>6} {'status':>6} {'outcome':<16} {'send s':>6} "
                f"{'read s':>6} {'RSS before':>10} {'+receiving':>10} {'+reading':>9} "
                f"{'peak-idle':>9}"
            )
            for label, media_type, name, build, sizes in cases:
                for size in sizes:
                    path = work / name
                    build(path, size * MIB)
                    Path(f"/proc/{process.pid}/clear_refs").write_text("5")
                    before = kib(process.pid, "VmRSS") / 1024
                    with Sampler(process.pid) as rss:
                        status, outcome, started, sent, answered = upload(port, path, media_type)
                    peak = kib(process.pid, "VmHWM") / 1024
                    receiving = _above(rss.peak(started, sent), before)
                    reading = _above(rss.peak(sent, answered), before)
                    print(
                        f"{label:<16} {path.stat().st_size / MIB:6.1f} {status:>6} {outcome:<16} "
                        f"{sent - started:6.2f} {answered - sent:6.2f} {before:10.1f} "
                        f"{receiving:>10} {reading:>9} {peak - idle:9.1f}"
                    )
                    path.unlink()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
