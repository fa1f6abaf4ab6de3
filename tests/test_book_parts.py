"""Books made in parts: chapters split into runs of sentences, joined without encoding again
into one file whose chapters players show (ffprobe), or a ZIP of chapter files; chapters
playable while the rest is made; a cancelled book leaves nothing; a server killed mid-book
goes on from its finished parts."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import TONES, Server, book_done, decode, decode_in_process, wait_done
from sayfile.audio.formats import FORMATS, open_encoder
from sayfile.audio.joining import chapter_file_name, join_audio
from sayfile.books.parts import BookFolder, BookManifest, ChapterProgress, split_book
from sayfile.books.reading import Chapter
from test_audio import _decoded_at
from test_audiobooks import probed_chapters

CHAPTERS = [
    ("The Storm", "The wind rose over the hills. " * 12),
    ("第二章 风暴", "风从山那边吹过来。" * 10),
    ("Morning", "The sun came up, and everything was quiet again. " * 9),
]


def markdown_book() -> bytes:
    return "\n\n".join(f"# {title}\n\n{text}" for title, text in CHAPTERS).encode()


def test_a_chapter_is_split_at_sentences_and_parts_never_span_chapters() -> None:
    chapters = [Chapter(title, text.strip()) for title, text in CHAPTERS]
    parts = split_book(chapters, 200)
    assert [p.chapter for p in parts] == sorted(p.chapter for p in parts)
    assert {p.chapter for p in parts} == {0, 1, 2}
    assert len(parts) > 3  # the chapters are longer than a part
    for part in parts:
        assert part.chars <= 200 + 60  # cut at the sentence end after the limit at most
        assert part.ssml.startswith("<speak><p>") and "&lt;" not in part.ssml
    # Each chapter's last part ends with the pause between chapters; the others do not.
    last = {p.chapter: n for n, p in enumerate(parts)}
    for n, part in enumerate(parts):
        assert ('<break time="1500ms"/>' in part.ssml) == (last[part.chapter] == n)


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "m4b", "flac", "wav", "pcm"])
def test_joined_files_play_end_to_end_and_say_where_each_starts(tmp_path: Path, fmt: str) -> None:
    """Each file is half a second of silence, then a tone: in the joined file, decoded by
    ffmpeg, every tone starts where `join_audio` says its file starts plus half a second
    (plus the codec's own delay, the same for every file: to the millisecond)."""
    spec = FORMATS[fmt]
    joined_as = FORMATS[spec.book_parts or fmt]
    rate = 22050
    lengths = [1.0, 1.37, 2.11, 1.5]
    sources = []
    for n, seconds in enumerate(lengths):
        path = tmp_path / f"{n}.{joined_as.extension}"
        samples = np.zeros(int(rate * seconds), dtype=np.int16)
        tone = np.arange(samples.size - rate // 2) / rate
        samples[rate // 2 :] = (np.sin(2 * np.pi * 440 * tone) * 8000).astype(np.int16)
        with path.open("wb") as file:
            encoder = open_encoder(joined_as, rate, file, streaming=False)
            encoder.write(samples)
            encoder.close()
        sources.append(path)
    target = tmp_path / f"joined.{spec.extension}"
    starts, end = join_audio(sources, spec, target)
    assert starts[0] == 0
    assert not list(tmp_path.glob("*.unfinished"))
    decoded = decode(target.read_bytes(), fmt)
    assert decoded.duration_s == pytest.approx(end, abs=0.03)
    pcm = _decoded_at(target.read_bytes(), fmt, rate)
    heard = np.abs(pcm.astype(np.int32))
    delays = []
    for start in starts:
        search = int((start + 0.3) * rate)
        onset = search + int(np.argmax(heard[search:] > 2000))
        delays.append(onset / rate - (start + 0.5))
    assert 0 <= delays[0] < 0.06  # the codec's delay
    assert max(delays) - min(delays) < 0.002, delays


def test_chapter_file_names_are_safe_and_keep_their_script() -> None:
    assert chapter_file_name(1, "第一章 风暴", "mp3", 2) == "01-第一章 风暴.mp3"
    assert chapter_file_name(12, 'a/b\\c:d*?"<>|', "opus", 3) == "012-a b c d.opus"
    assert chapter_file_name(3, " ..\x00 ", "mp3", 2) == "03.mp3"
    long = chapter_file_name(4, "长" * 100, "mp3", 2)
    assert len(long.encode()) <= 130 and long.endswith(".mp3")


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "m4b"])
def test_a_book_in_many_parts_becomes_one_file_with_its_chapters(
    make_client: Callable[..., TestClient], fmt: str, tmp_path: Path
) -> None:
    client = make_client(**TONES, book_part_chars=200)
    job = book_done(client, "storm.md", markdown_book(), "text/markdown", format=fmt)
    audio = client.get(job["audio_url"])
    assert audio.status_code == 200
    saved = tmp_path / f"book.{fmt}"
    saved.write_bytes(audio.content)
    timings = client.get(job["timings_url"]).json()
    starts = {m["name"].removeprefix("chapter:"): m["time"] for m in timings["marks"]}
    chapters = probed_chapters(saved)
    assert [title for title, _ in chapters] == [title for title, _ in CHAPTERS]
    for title, start in chapters:
        assert start == pytest.approx(starts[title], abs=0.06)
    assert decode(audio.content, fmt).duration_s == pytest.approx(timings["duration"], abs=0.1)
    # Every sentence is there once, in order, and the job lists its chapters.
    said = " ".join(p["text"] for p in timings["pieces"])
    assert said.count("The wind rose") == 12 and said.count("风从山那边吹过来") == 10
    assert said.index("The wind") < said.index("风从") < said.index("The sun")
    listed = client.get(job["status_url"]).json()["chapters"]
    assert [c["title"] for c in listed] == [title for title, _ in CHAPTERS]
    assert all(c["done"] and c["start"] is not None for c in listed)
    assert listed[1]["start"] == pytest.approx(starts["第二章 风暴"], abs=0.001)


@pytest.mark.usefixtures("ffmpeg")
def test_a_book_as_a_zip_holds_each_chapter_and_its_subtitles(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = make_client(**TONES, book_part_chars=200)
    job = book_done(
        client, "storm.md", markdown_book(), "text/markdown", format="mp3", package="zip"
    )
    got = client.get(job["audio_url"])
    assert got.headers["content-type"] == "application/zip"
    assert ".zip" in got.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = archive.namelist()
    assert names[0] == "01-The Storm.mp3" and "02-第二章 风暴.mp3" in names
    for number, (title, _) in enumerate(CHAPTERS, 1):
        stem = f"{number:02d}-{title}"
        audio = decode(archive.read(f"{stem}.mp3"), "mp3")
        assert audio.duration_s > 1.0
        srt = archive.read(f"{stem}.srt").decode()
        assert srt.startswith("1\n00:00:0") and "-->" in srt
        assert archive.read(f"{stem}.vtt").decode().startswith("WEBVTT")
    # A zip needs a book.
    plain = client.post("/jobs", data={"text": "Hello.", "package": "zip"})
    assert plain.status_code == 422 and plain.json()["error"]["field"] == "package"


@pytest.mark.usefixtures("ffmpeg")
def test_a_long_text_job_is_made_in_parts_with_the_chapters_its_lines_name(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """A long plain text sent as JSON goes the book's way (parts any process can take) with
    chapters from its "Chapter 1" and "第二章" lines; short texts and SSML stay whole jobs."""
    client = make_client(**TONES, book_part_chars=200, book_above_chars=500)
    text = "\n\n".join(
        [
            "Chapter 1\n\n" + "The wind rose over the hills. " * 12,
            "第二章 风暴\n\n" + "风从山那边吹过来。" * 10,
            "Chapter 3\n\n" + "The sun came up, and everything was quiet again. " * 9,
        ]
    )
    titles = ["Chapter 1", "第二章 风暴", "Chapter 3"]
    r = client.post("/jobs", json={"text": text, "format": "mp3"})
    assert r.status_code == 202, r.text
    assert [c["title"] for c in r.json()["chapters"]] == titles  # a book from the start
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    listed = client.get(job["status_url"]).json()["chapters"]
    assert [c["title"] for c in listed] == titles
    audio = client.get(job["audio_url"]).content
    saved = tmp_path / "text.mp3"
    saved.write_bytes(audio)
    assert [title for title, _ in probed_chapters(saved)] == titles
    timings = client.get(job["timings_url"]).json()
    said = " ".join(p["text"] for p in timings["pieces"])
    assert said.count("The wind rose") == 12 and said.count("风从山那边吹过来") == 10
    assert said.count("The sun came up") == 9
    assert decode(audio, "mp3").duration_s == pytest.approx(timings["duration"], abs=0.1)

    short = client.post("/jobs", json={"text": "A short one. " * 20}).json()
    ssml = "<speak><p>" + "Marked up, and kept whole. " * 60 + "</p></speak>"
    marked = client.post("/jobs", json={"text": ssml}).json()
    assert short["chapters"] is None and marked["chapters"] is None
    for whole in (short, marked):
        assert wait_done(client, whole["status_url"])["status"] == "done"
        assert client.get(whole["status_url"]).json()["chapters"] is None


def test_an_m4b_cannot_be_streamed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    r = client.post("/speech", params={"stream": "true"}, json={"text": "Hi.", "format": "m4b"})
    assert r.status_code == 422
    assert "m4b" in r.json()["error"]["message"] and "mp3" in r.json()["error"]["message"]
    whole = client.post("/speech", json={"text": "Hi there.", "format": "m4b"})
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/mp4"
    assert decode_in_process(whole.content, "m4b").duration_s > 0.3


LONG_BOOK = "\n\n".join(
    f"# Chapter {n}\n\n" + f"Sentence {n} goes on for a while, and then it stops. " * 40
    for n in range(1, 7)
).encode()


def _book_job(server: Server, **fields: str) -> dict[str, Any]:
    r = httpx.post(
        f"{server.url}/jobs",
        files={"file": ("long.md", LONG_BOOK, "text/markdown")},
        data={"voice": "espeak:en-us", **fields},
    )
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    return job


def _until(
    url: str, holds: Callable[[dict[str, Any]], bool], seconds: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = httpx.get(url).json()
        if holds(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_chapters_play_while_the_book_is_made_and_a_cancelled_book_leaves_nothing(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = server_factory(data, book_part_chars="600", sweep_interval_seconds="0.5")
    job = _book_job(server)
    status_url = f"{server.url}{job['status_url']}"
    state = _until(
        status_url,
        lambda j: j["status"] == "running" and any(c["done"] for c in j["chapters"] or []),
    )
    first = next(c for c in state["chapters"] if c["done"])
    chapter = httpx.get(f"{server.url}{first['audio_url']}")
    assert chapter.status_code == 200 and chapter.headers["content-type"] == "audio/mpeg"
    assert decode(chapter.content, "mp3").duration_s > 10
    waiting = next(
        (c for c in state["chapters"] if not c["done"]),
        None,
    )
    if waiting is not None:
        r = httpx.get(f"{server.url}/jobs/{job['id']}/chapters/{waiting['number']}/audio")
        assert r.status_code in (200, 409)
    assert httpx.delete(status_url).status_code == 204
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [p for p in data.rglob("*") if p.is_file() and "jobs.sqlite" not in p.name]
        if not left:
            break
        time.sleep(0.1)
    assert left == []
    assert httpx.get(status_url).status_code == 404


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_a_server_killed_mid_book_goes_on_from_its_finished_parts(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    # The dead server's parts are handed on once their lease has lapsed: 3 s here (the
    # default, 30 s, would be most of this test's time), found by a sweep every 0.5 s.
    settings = {"book_part_chars": "600", "worker_timeout_seconds": "3"}
    server = server_factory(data, **settings, sweep_interval_seconds="0.5")
    job = _book_job(server)
    status_url = f"{server.url}{job['status_url']}"
    _until(status_url, lambda j: sum(c["done"] for c in j["chapters"] or []) >= 2)
    server.crash()  # SIGKILL: no chance to tidy up
    made = sorted(p.name for p in (data / "books" / str(job["id"])).glob("chapter-*.mp3"))
    assert len(made) >= 2
    again = server_factory(data, **settings, sweep_interval_seconds="0.5")
    status_url = f"{again.url}{job['status_url']}"
    resumed = httpx.get(status_url).json()
    # It goes on where it was: the chapters made before the crash are still done.
    assert resumed["status"] in ("queued", "running", "done"), resumed
    if resumed["status"] != "done":
        assert sum(c["done"] for c in resumed["chapters"]) >= len(made)
    with httpx.Client() as client:
        done = wait_done(client, status_url, timeout=120)
    assert done["status"] == "done", done
    audio = httpx.get(f"{again.url}{done['audio_url']}").content
    timings = httpx.get(f"{again.url}{done['timings_url']}").json()
    said = " ".join(p["text"] for p in timings["pieces"])
    for n in range(1, 7):
        assert said.count(f"Sentence {n} goes on") == 40
    saved = tmp_path / "book.mp3"
    saved.write_bytes(audio)
    assert [t for t, _ in probed_chapters(saved)] == [f"Chapter {n}" for n in range(1, 7)]
    assert decode(audio, "mp3").duration_s == pytest.approx(timings["duration"], abs=0.1)
    assert not (data / "books" / str(job["id"])).exists()


def test_a_manifest_lists_made_and_skipped_chapters_in_the_books_order() -> None:
    """Chapters are numbered as listed (skipped ones included); each made one is found by its
    number among those made, which is where its audio is kept."""
    manifest = BookManifest(
        title="呐喊",
        chapters=("自序", "狂人日记"),
        parts=(),
        voice="tone:beep",
        format="m4b",
        part_format="aac",
        speed=1.0,
        loudness=None,
        lexicon=(),
        skipped=((0, "呐喊"), (1, "版权信息"), (3, "目 录")),
        author="鲁迅",
        cover="cover.jpg",
        bitrate=32,
    )
    assert manifest.listed() == [
        ("呐喊", None),
        ("版权信息", None),
        ("自序", 0),
        ("目 录", None),
        ("狂人日记", 1),
    ]
    assert BookManifest.from_json(manifest.to_json()) == manifest


def test_a_books_chapters_are_queued_then_being_made_then_done(
    make_client: Callable[..., TestClient],
) -> None:
    """One part at a time: a chapter says `queued` until its first part is begun, `making`
    while it is made, `done` once joined; never back. The book's time left falls."""
    client = make_client(
        **TONES, parallel_sentences=1, book_turns=1, book_part_chars=200, book_above_chars=500
    )
    text = "\n\n".join(
        f"Chapter {n}\n\n" + "A slow sentence of the book. " * 14 for n in range(1, 4)
    )
    r = client.post("/jobs", json={"text": text, "voice": "tone:slow"})
    assert r.status_code == 202, r.text
    seen: list[list[str]] = [[c["state"] for c in r.json()["chapters"]]]
    assert seen[0][1:] == ["queued", "queued"]
    etas = []
    deadline = time.monotonic() + 60
    while True:
        job = client.get(r.json()["status_url"]).json()
        if job["status"] not in ("queued", "running"):
            break
        if job["chapters"]:
            seen.append([c["state"] for c in job["chapters"]])
        if job["status"] == "running" and job["progress"] > 0:
            etas.append((job["progress"], job["eta_seconds"]))
        assert time.monotonic() < deadline, "the book did not finish"
        time.sleep(0.03)
    assert job["status"] == "done" and job["eta_seconds"] is None
    assert [c["state"] for c in job["chapters"]] == ["done"] * 3
    order = {"queued": 0, "making": 1, "done": 2}
    for chapter in range(3):
        states = [order[row[chapter]] for row in seen]
        assert states == sorted(states), f"chapter {chapter + 1} went back: {states}"
    # While the first chapter was made, the last one waited its turn.
    assert ["making", "queued", "queued"] in seen
    assert any(row[0] == "done" and row[1] == "making" for row in seen)
    assert len(etas) >= 3 and etas[-1][1] < etas[0][1]


def test_a_chapter_is_queued_until_a_part_of_it_is_begun(tmp_path: Path) -> None:
    """From the files alone: a part's unfinished file or its timings make its chapter begun,
    the chapter's own timings make it done."""
    chapters = [Chapter(f"Chapter {n}", "A sentence of the book. " * 20) for n in (1, 2, 3)]
    manifest = BookManifest(
        title="Book",
        chapters=tuple(c.title for c in chapters),
        parts=split_book(chapters, 200),
        voice="tone:beep",
        format="mp3",
        part_format="mp3",
        speed=1.0,
        loudness=None,
        lexicon=(),
    )
    folder = BookFolder(tmp_path / "book")
    folder.create(manifest)
    queued, making, done = ChapterProgress.queued, ChapterProgress.making, ChapterProgress.done
    assert folder.chapter_states(manifest) == [queued, queued, queued]
    first, *_ = manifest.parts_of(0)
    second = manifest.parts_of(1)[-1]  # a later part of chapter 2 begun before its first
    folder.part_audio(first, "mp3").with_suffix(".mp3.unfinished").write_bytes(b"")
    folder.part_timings(second).write_text("{}")
    assert folder.chapter_states(manifest) == [making, making, queued]
    folder.chapter_timings(0).write_text("{}")
    assert folder.chapter_states(manifest) == [done, making, queued]
