"""Books as jobs: an uploaded EPUB or Markdown file becomes one audio file whose chapter marks
players show (checked with Debian's ffprobe), through the HTTP API and the command line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, book_done, decode, sayfile_cli, wait_done
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


DATA = Path(__file__).parent / "data"
NAHAN = (DATA / "nahan-calibre-epub2.epub").read_bytes()
MOBY = (DATA / "moby-dick-epub3.epub").read_bytes()


def probed(path: Path) -> dict[str, Any]:
    """ffprobe's format (with its tags), streams and chapters of a file."""
    command = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters"]
    out = subprocess.run(
        [*command, "-print_format", "json", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, Any] = json.loads(out)
    return found


def book_tags(info: dict[str, Any]) -> dict[str, str]:
    """The tags players read: the container's, or (Ogg) the audio stream's, keys lower case."""
    tags = dict(info["format"].get("tags") or {})
    for stream in info["streams"]:
        if stream["codec_type"] == "audio":
            tags.update(stream.get("tags") or {})
    return {key.lower(): value for key, value in tags.items()}


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["m4b", "mp3", "opus"])
def test_a_calibre_epub_leaves_out_its_front_matter_and_tells_players_what_it_is(
    make_client: Callable[..., TestClient], fmt: str, tmp_path: Path
) -> None:
    """《呐喊》 as Calibre makes it: the title page, copyright page and "目 录" are listed as
    skipped, not spoken; the file carries the book's title, author, year and cover, is named
    after the book, and is kept a week."""
    client = make_client(**TONES)
    job = book_done(client, "nahan.epub", NAHAN, "application/epub+zip", format=fmt)
    assert [(c["number"], c["title"], c["skipped"], c["done"]) for c in job["chapters"]] == [
        (1, "呐喊", True, False),
        (2, "版权信息", True, False),
        (3, "目 录", True, False),
        (4, "自序", False, True),
        (5, "狂人日记", False, True),
    ]
    timings = client.get(job["timings_url"]).json()
    said = " ".join(piece["text"] for piece in timings["pieces"])
    assert said.startswith("自序。 我在年青时候") and "版权" not in said and "目 录" not in said
    audio = client.get(job["audio_url"])
    assert "filename*=UTF-8''%E5%91%90%E5%96%8A." in audio.headers["content-disposition"]
    saved = tmp_path / f"nahan.{fmt}"
    saved.write_bytes(audio.content)
    info = probed(saved)
    assert [c["tags"]["title"] for c in info["chapters"]] == ["自序", "狂人日记"]
    tags = book_tags(info)
    assert (tags["title"], tags["artist"], tags["album"], tags["date"]) == (
        "呐喊",
        "鲁迅",
        "呐喊",
        "1923",
    )
    covers = [s for s in info["streams"] if s.get("disposition", {}).get("attached_pic")]
    assert [s["codec_name"] for s in covers] == ["mjpeg"]
    assert decode(audio.content, fmt).duration_s == pytest.approx(timings["duration"], abs=0.1)
    done = client.get(job["status_url"]).json()
    expires = datetime.fromisoformat(done["expires_at"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) > timedelta(days=6.9)


@pytest.mark.usefixtures("ffmpeg")
def test_chosen_chapters_and_bit_rate_are_what_is_made(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """Moby-Dick (EPUB 3 with landmarks): chapters "1,3" make the title page, though it is
    front matter, and chapter 1; the contents, chapter 2 and copyright page are listed as
    skipped. 32 kbit/s makes a 32 kbit/s mp3."""
    client = make_client(**TONES)
    job = book_done(
        client,
        "moby.epub",
        MOBY,
        "application/epub+zip",
        format="mp3",
        chapters="1,3",
        bitrate="32",
    )
    assert [(c["title"], c["skipped"]) for c in job["chapters"]] == [
        ("Moby-Dick", False),
        ("Contents", True),
        ("Chapter 1. Loomings.", False),
        ("Chapter 2. The Carpet-Bag.", True),
        ("Copyright Page", True),
    ]
    timings = client.get(job["timings_url"]).json()
    said = " ".join(piece["text"] for piece in timings["pieces"])
    assert "or, The Whale" in said and "Call me Ishmael" in said and "carpet-bag" not in said
    saved = tmp_path / "moby.mp3"
    saved.write_bytes(client.get(job["audio_url"]).content)
    info = probed(saved)
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert int(audio["bit_rate"]) == 32_000
    assert book_tags(info)["artist"] == "Herman Melville"


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"chapters": "2-9"}, "chapters", "from 1 to 5 such as 1-3,7, or all"),
        ({"chapters": "first"}, "chapters", "is not a chapter number or range"),
        ({"bitrate": "40"}, "bitrate", "allowed (kbit/s): 32, 48, 64, 96"),
        ({"bitrate": "96", "format": "opus"}, "bitrate", "allowed (kbit/s): 24, 32, 48, 64"),
        ({"bitrate": "64", "format": "flac"}, "bitrate", "allowed (kbit/s): none"),
    ],
)
def test_a_choice_that_does_not_fit_the_book_is_refused_with_what_fits(
    make_client: Callable[..., TestClient], fields: dict[str, str], field: str, says: str
) -> None:
    client = make_client(**TONES)
    r = client.post(
        "/jobs", files={"file": ("moby.epub", MOBY, "application/epub+zip")}, data=fields
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field and says in error["message"]
    assert client.get("/jobs/none").status_code == 404


def test_a_books_chapters_and_expected_size_are_listed_before_it_is_made(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)

    def listed(**fields: str) -> dict[str, Any]:
        r = client.post(
            "/books/chapters",
            files={"file": ("nahan.epub", NAHAN, "application/epub+zip")},
            data=fields,
        )
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    book = listed(format="m4b")
    assert (book["title"], book["author"], book["year"], book["cover"]) == (
        "呐喊",
        "鲁迅",
        "1923",
        True,
    )
    assert book["bitrates"] == [32, 48, 64, 96] and book["bitrate"] == 64
    assert [(c["number"], c["title"], c["skipped"]) for c in book["chapters"]] == [
        (1, "呐喊", True),
        (2, "版权信息", True),
        (3, "目 录", True),
        (4, "自序", False),
        (5, "狂人日记", False),
    ]
    preface = book["chapters"][3]
    assert preface["chars"] > 100 and preface["seconds"] > 10
    small = listed(format="m4b", bitrate="32")
    everything = listed(format="m4b", bitrate="32", chapters="all")
    assert small["expected_bytes"] == pytest.approx(book["expected_bytes"] / 2, rel=0.01)
    assert everything["expected_bytes"] > small["expected_bytes"]
    # Nothing was made or kept.
    assert client.get("/jobs/none").status_code == 404


@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_lists_a_books_chapters(tmp_path: Path) -> None:
    result = sayfile_cli("chapters", str(DATA / "nahan-calibre-epub2.epub"), "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert (listing["title"], listing["author"]) == ("呐喊", "鲁迅")
    assert [(c["number"], c["title"], c["skipped"]) for c in listing["chapters"]] == [
        (1, "呐喊", True),
        (2, "版权信息", True),
        (3, "目 录", True),
        (4, "自序", False),
        (5, "狂人日记", False),
    ]
    table = sayfile_cli("chapters", str(DATA / "moby-dick-epub3.epub"))
    assert table.returncode == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if "Chapter 1. Loomings." in line]
    assert len(rows) == 1 and "3" in rows[0] and "yes" not in rows[0]
    assert "Copyright Page" in table.stdout and "yes" in table.stdout


@pytest.mark.usefixtures("ffmpeg")
def test_the_command_line_finds_chapters_in_a_text_file(tmp_path: Path) -> None:
    """The same reader as HTTP: a .txt with 第一章 headings is made with chapters, its
    contents list is skipped, and --chapters chooses."""
    (tmp_path / "风雨.txt").write_text(
        "目录\n\n第一章 风起\n第二章 雨落\n第三章 天晴\n\n"
        "第一章 风起\n\n风越来越大。\n\n第二章 雨落\n\n雨也下起来了。\n\n第三章 天晴\n\n天晴了。\n",
        encoding="utf-8",
    )
    tone = {"engines": "tone", "voice": "tone:beep", "cwd": tmp_path}
    result = sayfile_cli("say", "-f", "风雨.txt", "--format", "m4b", **tone)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stderr
    assert "skipping 1 of 4 chapters" in result.stderr
    assert [t for t, _ in probed_chapters(tmp_path / "风雨.m4b")] == [
        "第一章 风起",
        "第二章 雨落",
        "第三章 天晴",
    ]
    chosen = sayfile_cli(
        "say",
        "-f",
        "风雨.txt",
        "-o",
        "two.mp3",
        "--chapters",
        "2,4",
        "--bitrate",
        "48",
        **tone,  # type: ignore[arg-type]
    )
    assert chosen.returncode == 0, chosen.stderr
    assert [t for t, _ in probed_chapters(tmp_path / "two.mp3")] == ["第一章 风起", "第三章 天晴"]
    refused = sayfile_cli("say", "-f", "风雨.txt", "--chapters", "7", **tone)  # type: ignore[arg-type]
    assert refused.returncode == 2 and "which has 4 chapters" in refused.stderr


def test_a_short_text_sent_with_chapters_is_made_as_a_book(
    make_client: Callable[..., TestClient],
) -> None:
    """A choice of chapters makes a text a book whatever its length; the short-job TTL stays
    an hour for a text made whole."""
    client = make_client(**TONES)
    text = "第1章 风起\n\n风越来越大。\n\n第2章 雨落\n\n雨也下起来了。\n\n第三回 天晴\n\n天晴了。"
    r = client.post("/jobs", json={"text": text, "chapters": "2-3"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert [(c["title"], c["skipped"]) for c in job["chapters"]] == [
        ("第1章 风起", True),
        ("第2章 雨落", False),
        ("第三回 天晴", False),
    ]
    said = " ".join(p["text"] for p in client.get(job["timings_url"]).json()["pieces"])
    assert "雨也下起来了" in said and "风越来越大" not in said
    plain = wait_done(client, client.post("/jobs", json={"text": text}).json()["status_url"])
    assert plain["chapters"] is None
    expires = datetime.fromisoformat(plain["expires_at"].replace("Z", "+00:00"))
    assert expires - datetime.now(UTC) < timedelta(hours=1.1)


@pytest.mark.usefixtures("ffmpeg")
def test_an_ssml_text_file_is_said_as_ssml_not_read_as_a_book(tmp_path: Path) -> None:
    (tmp_path / "wait.txt").write_text(
        '<speak>Wait<break time="1s"/> for it.</speak>\n', encoding="utf-8"
    )
    result = sayfile_cli(
        "say",
        "-f",
        "wait.txt",
        "-o",
        "wait.mp3",
        "--srt",
        engines="tone",
        voice="tone:beep",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    srt = (tmp_path / "wait.srt").read_text("utf-8")
    assert "Wait" in srt and "<" not in srt and "break" not in srt


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"speed": "0"}, "speed"), ({"format": "ogg"}, "format"), ({"voice": "tone:nope"}, "voice")],
)
def test_listing_a_book_refuses_what_making_it_would(
    make_client: Callable[..., TestClient], fields: dict[str, str], field: str
) -> None:
    client = make_client(**TONES)
    r = client.post(
        "/books/chapters", files={"file": ("moby.epub", MOBY, "application/epub+zip")}, data=fields
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
