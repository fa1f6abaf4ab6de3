"""Chapter marks as players see them: mp3 and Ogg Opus files read back by Debian's ffprobe and
by mutagen."""

# mutagen declares itself typed (py.typed) but leaves most functions unannotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags
from mutagen.oggopus import OggOpus

from conftest import decode
from sayfile.audio.chapter_marks import (
    ChapterMark,
    add_mp3_chapters,
    add_opus_chapters,
    chapter_marks_from_timings,
)
from sayfile.audio.formats import FORMATS, Samples, open_encoder

pytestmark = pytest.mark.usefixtures("ffmpeg")

RATE = 24_000
SECONDS = 2.0
BOOK = "风暴之书 The Storm Book"
TITLES = ("第一章 风暴", "Chapter 2: The Calm", "Épilogue")
MARKS = tuple(
    ChapterMark(title, index * SECONDS, (index + 1) * SECONDS) for index, title in enumerate(TITLES)
)
TOLERANCE = 0.05


def _tone(frequency: float, seconds: float = SECONDS) -> Samples:
    t = np.arange(int(RATE * seconds)) / RATE
    return (np.sin(2 * np.pi * frequency * t) * 8000).astype(np.int16)


def _chapter_tones() -> Iterator[Samples]:
    for index in range(len(MARKS)):
        yield _tone(220 * (index + 1))


@dataclass(frozen=True)
class Probe:
    """What Debian's ffprobe reads in a file: its chapters (title, start, end), its tags (the
    container's and the streams', as players merge them) and its first audio stream."""

    chapters: list[tuple[str, float, float]]
    tags: dict[str, str]
    format_name: str
    codec: str
    sample_rate: int


def _probe(path: Path) -> Probe:
    command = ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams"]
    result = subprocess.run(
        [*command, "-print_format", "json", str(path)], capture_output=True, check=True
    )
    info = json.loads(result.stdout)
    chapters = [
        (c["tags"]["title"], float(c["start_time"]), float(c["end_time"])) for c in info["chapters"]
    ]
    tags: dict[str, str] = {}
    for tagged in [info["format"], *info["streams"]]:
        tags |= {key.lower(): value for key, value in tagged.get("tags", {}).items()}
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    return Probe(
        chapters,
        tags,
        info["format"]["format_name"],
        audio["codec_name"],
        int(audio["sample_rate"]),
    )


def _assert_chapters(found: list[tuple[str, float, float]], marks: Sequence[ChapterMark]) -> None:
    assert [title for title, _, _ in found] == [mark.title for mark in marks]
    for (_, start, _), mark in zip(found, marks, strict=True):
        assert start == pytest.approx(mark.start, abs=TOLERANCE)


def _encode(fmt: str, path: Path) -> None:
    with path.open("wb") as sink:
        encoder = open_encoder(FORMATS[fmt], RATE, sink)
        for piece in _chapter_tones():
            encoder.write(piece)
        encoder.close()


def _mp3_table_of_contents(path: Path) -> tuple[list[str], list[str], bool]:
    tags = ID3(path)
    (toc,) = tags.getall("CTOC")
    chapters = [tags[f"CHAP:{element_id}"] for element_id in toc.child_element_ids]
    titles = [str(chapter.sub_frames["TIT2"]) for chapter in chapters]
    flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    return list(toc.child_element_ids), titles, toc.flags & flags == flags


def _opus_comments(path: Path) -> dict[str, list[str]]:
    audio = OggOpus(path)
    return {key.upper(): list(audio[key]) for key in audio}


ADD: dict[str, Callable[[Path, Sequence[ChapterMark], str], None]] = {
    "mp3": add_mp3_chapters,
    "opus": add_opus_chapters,
}


@pytest.mark.parametrize("fmt", list(ADD))
def test_added_chapters_show_in_players_and_the_audio_still_plays(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"book.{fmt}"
    _encode(fmt, path)

    ADD[fmt](path, MARKS, BOOK)

    probe = _probe(path)
    _assert_chapters(probe.chapters, MARKS)
    assert probe.tags["title"] == BOOK
    decoded = decode(path.read_bytes(), fmt)
    assert decoded.duration_s == pytest.approx(len(MARKS) * SECONDS, abs=0.1)


@pytest.mark.parametrize("fmt", list(ADD))
def test_adding_chapters_again_replaces_them(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"book.{fmt}"
    _encode(fmt, path)
    ADD[fmt](path, MARKS, BOOK)

    again = [ChapterMark("Whole", 0, len(MARKS) * SECONDS)]
    ADD[fmt](path, again, "Renamed")

    probe = _probe(path)
    _assert_chapters(probe.chapters, again)
    assert probe.tags["title"] == "Renamed"


@pytest.mark.parametrize("fmt", list(ADD))
def test_many_chapters_are_listed_in_book_order(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"book.{fmt}"
    _encode(fmt, path)
    # Titles of every length, since mutagen writes ID3 frames smallest first.
    lengths = [7, 1, 12, 3, 30, 2, 9, 15, 4, 11, 5, 20]
    step = len(MARKS) * SECONDS / len(lengths)
    marks = [
        ChapterMark(f"{index + 1} " + "章" * length, index * step, (index + 1) * step)
        for index, length in enumerate(lengths)
    ]

    ADD[fmt](path, marks, BOOK)

    _assert_chapters(_probe(path).chapters, marks)


def test_mp3_chapters_are_listed_in_a_top_level_ordered_table(tmp_path: Path) -> None:
    path = tmp_path / "book.mp3"
    _encode("mp3", path)

    add_mp3_chapters(path, MARKS, BOOK)

    element_ids, titles, top_level_ordered = _mp3_table_of_contents(path)
    assert element_ids == ["ch0", "ch1", "ch2"]
    assert titles == list(TITLES)
    assert top_level_ordered
    tags = ID3(path)
    assert [(c.start_time, c.end_time) for c in tags.getall("CHAP")] == [
        (0, 2000),
        (2000, 4000),
        (4000, 6000),
    ]
    assert str(tags["TIT2"]) == BOOK


def test_opus_chapters_follow_the_vorbis_comment_convention(tmp_path: Path) -> None:
    path = tmp_path / "book.opus"
    _encode("opus", path)
    marks = [
        ChapterMark("第一章 风暴", 0, 61.5),
        ChapterMark("Two", 61.5, 3725.25),
        ChapterMark("Three", 3725.25, 3800),
    ]

    add_opus_chapters(path, marks, BOOK)

    comments = _opus_comments(path)
    assert comments["TITLE"] == [BOOK]
    assert comments["CHAPTER001"] == ["00:00:00.000"]
    assert comments["CHAPTER001NAME"] == ["第一章 风暴"]
    assert comments["CHAPTER002"] == ["00:01:01.500"]
    assert comments["CHAPTER002NAME"] == ["Two"]
    assert comments["CHAPTER003"] == ["01:02:05.250"]


@pytest.mark.parametrize("fmt", list(ADD))
def test_overlapping_marks_are_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"book.{fmt}"
    _encode(fmt, path)
    with pytest.raises(ValueError, match="starts before"):
        ADD[fmt](path, [ChapterMark("A", 0, 3), ChapterMark("B", 2, 4)], BOOK)


def test_chapter_marks_come_from_the_books_marks_only() -> None:
    from sayfile.audio.timings import Timing, Timings

    plain = Timings((Timing(0.0, 1.0, "Hi."),), None, 1.2, marks=(Timing(0.5, 0.5, "note"),))
    assert chapter_marks_from_timings(plain) == []
    book = Timings(
        (),
        None,
        9.0,
        marks=(
            Timing(0.0, 0.0, "chapter:One"),
            Timing(0.4, 0.4, "aside"),
            Timing(4.0, 4.0, "chapter:第二章"),
        ),
    )
    assert chapter_marks_from_timings(book) == [
        ChapterMark("One", 0.0, 4.0),
        ChapterMark("第二章", 4.0, 9.0),
    ]


@pytest.mark.parametrize("fmt", list(ADD))
def test_five_hundred_chapters_fit_every_format(tmp_path: Path, fmt: str) -> None:
    """256 marks in mp3 (one byte counts a CTOC's entries) were a ValueError after synthesis."""
    path = tmp_path / f"book.{fmt}"
    _encode(fmt, path)
    step = len(MARKS) * SECONDS / 500
    marks = [ChapterMark(f"Chapter {n + 1}", n * step, (n + 1) * step) for n in range(500)]

    ADD[fmt](path, marks, BOOK)

    _assert_chapters(_probe(path).chapters, marks)
    assert decode(path.read_bytes(), fmt).duration_s == pytest.approx(len(MARKS) * SECONDS, abs=0.1)
