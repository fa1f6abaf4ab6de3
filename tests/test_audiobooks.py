"""Books as jobs: an uploaded EPUB or Markdown file becomes one audio file whose chapter marks
players show (checked with Debian's ffprobe), through the HTTP API and the command line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, book_done, decode, sayfile_cli
from test_books import _epub, _with_files

# The title page before the first chapter of the table of contents is a chapter of its own,
# named after the book, listed but not made (front matter).
TITLES = ["Chapter One: The Storm", "第二章 风暴", "Chapter Three"]


def probed_chapters(path: Path) -> list[tuple[str, float]]:
    """(title, start in seconds) of each chapter ffprobe finds in the file."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-print_format", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    chapters: list[dict[str, Any]] = json.loads(out)["chapters"]
    return [(c["tags"]["title"], float(c["start_time"])) for c in chapters]


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "m4b"])
def test_an_uploaded_epub_becomes_one_file_with_its_chapters(
    make_client: Callable[..., TestClient], fmt: str, tmp_path: Path
) -> None:
    client = make_client(**TONES)
    job = book_done(client, "the-test-book.epub", _epub(), "application/epub+zip", format=fmt)
    audio = client.get(job["audio_url"])
    saved = tmp_path / f"book.{fmt}"
    saved.write_bytes(audio.content)
    timings = client.get(job["timings_url"]).json()
    starts = {m["name"].removeprefix("chapter:"): m["time"] for m in timings["marks"]}
    chapters = probed_chapters(saved)
    assert [title for title, _ in chapters] == TITLES
    assert [(c["title"], c["skipped"]) for c in job["chapters"]] == [
        ("The Test Book", True),
        *((title, False) for title in TITLES),
    ]
    for title, start in chapters:
        # mp3 decoders keep LAME's 50 ms lead-in before the first frame of speech.
        assert start == pytest.approx(starts[title], abs=0.06)
    assert decode(audio.content, fmt).duration_s == pytest.approx(timings["duration"], abs=0.1)
    # The book's words are spoken, its markup and note markers are not.
    said = " ".join(p["text"] for p in timings["pieces"])
    assert "wind rose" in said and "<" not in said and "[2]" not in said


def test_a_broken_or_protected_book_is_refused_clearly(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    locked = _with_files(_epub(), {"META-INF/rights.xml": b"<rights/>"})
    r = client.post("/jobs", files={"file": ("locked.epub", locked, "application/epub+zip")})
    assert r.status_code == 422 and "DRM" in r.json()["error"]["message"]
    r = client.post("/jobs", files={"file": ("notes.txt", b"\xff\xfe\x00broken", "text/plain")})
    assert r.status_code == 422 and r.json()["error"]["field"] == "file"


@pytest.mark.usefixtures("ffmpeg")
def test_the_command_line_reads_a_markdown_book(tmp_path: Path) -> None:
    book = tmp_path / "guide.md"
    book.write_text(
        "# Getting started\n\nInstall it and run it.\n\n"
        "# Going further\n\nRead the **manual** at [the site](https://example.com).\n",
        encoding="utf-8",
    )
    target = tmp_path / "guide.mp3"
    result = sayfile_cli("say", "-f", str(book), "-o", str(target), "--srt")
    assert result.returncode == 0, result.stderr
    assert "marked 2 chapters" in result.stderr, result.stderr
    assert [title for title, _ in probed_chapters(target)] == ["Getting started", "Going further"]
    srt = (tmp_path / "guide.srt").read_text("utf-8")
    assert "manual" in srt and "**" not in srt and "example.com" not in srt
