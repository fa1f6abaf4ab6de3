"""Chapter marks as players see them: m4b, mp3 and Ogg Opus files read back by Debian's ffprobe,
and the per-chapter ZIP's names and flags read from its raw bytes."""

# mutagen declares itself typed (py.typed) but leaves most functions unannotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import json
import struct
import subprocess
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags
from mutagen.oggopus import OggOpus

from conftest import decode
from sayfile.audio import FORMATS, Samples, open_encoder
from sayfile.chapters import (
    ChapterMark,
    add_mp3_chapters,
    add_opus_chapters,
    chapter_file_name,
    chapter_marks,
    write_m4b,
    write_zip,
)

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


def _top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def test_m4b_shows_the_chapters_and_title_and_decodes_to_the_whole_book(tmp_path: Path) -> None:
    path = tmp_path / "book.m4b"
    write_m4b(_chapter_tones(), RATE, MARKS, path, BOOK)

    probe = _probe(path)
    _assert_chapters(probe.chapters, MARKS)
    ends = [end for _, _, end in probe.chapters]
    assert ends == pytest.approx([mark.end for mark in MARKS], abs=TOLERANCE)
    assert probe.tags["title"] == BOOK
    assert probe.tags["major_brand"].strip() == "M4B"
    assert probe.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert (probe.codec, probe.sample_rate) == ("aac", RATE)
    decoded = decode(path.read_bytes(), "m4b")
    assert decoded.duration_s == pytest.approx(len(MARKS) * SECONDS, abs=TOLERANCE)
    # Fast start: a player reads the chapters before any audio arrives.
    boxes = _top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")


def test_m4b_is_encoded_while_the_pieces_arrive(tmp_path: Path) -> None:
    path = tmp_path / "long.m4b"
    sizes: list[int] = []

    def pieces() -> Iterator[Samples]:
        for second in range(60):
            if second % 20 == 19:
                sizes.append(path.stat().st_size)
            yield _tone(330, 1.0)

    write_m4b(pieces(), RATE, [ChapterMark("One", 0, 30), ChapterMark("Two", 30, 60)], path, "X")

    # 8 KB a second at 64 kbit/s reach the file as the book is spoken, not all at the end.
    assert sizes[0] > 0
    assert sizes[1] - sizes[0] > 100_000
    assert decode(path.read_bytes(), "m4b").duration_s == pytest.approx(60, abs=TOLERANCE)


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


@pytest.mark.parametrize(
    ("number", "title", "extension", "width", "expected"),
    [
        (1, "第一章 风暴", "mp3", 2, "01-第一章 风暴.mp3"),
        (1, "第一章 风暴", "srt", 2, "01-第一章 风暴.srt"),
        (7, "Chapter 7: A/B <or> C?", "opus", 3, "007-Chapter 7 A B or C.opus"),
        (12, 'Back\\slash|pipe*"quoted"', ".m4b", 2, "12-Back slash pipe quoted.m4b"),
        (3, "Line\none\ttab\x00nul\x7f", "mp3", 2, "03-Line one tab nul.mp3"),
        (4, "...hidden. ", "mp3", 2, "04-hidden.mp3"),
        (5, "  \u3000第五章\u3000  ", "mp3", 2, "05-第五章.mp3"),
        (6, "evil\u202egpj.exe", "mp3", 2, "06-evilgpj.exe.mp3"),
        (8, "", "mp3", 2, "08.mp3"),
        (9, "///", "mp3", 2, "09.mp3"),
        (10, "Cafe\u0301", "mp3", 2, "10-Café.mp3"),
        (123, "Over", "mp3", 2, "123-Over.mp3"),
    ],
)
def test_chapter_file_names_are_safe_and_keep_their_script(
    number: int, title: str, extension: str, width: int, expected: str
) -> None:
    assert chapter_file_name(number, title, extension, width) == expected


@pytest.mark.parametrize(
    "title", ["风" * 200, "word " * 100, "q\u0307" * 200, "👩\u200d👩\u200d👧" * 50]
)
def test_long_titles_are_cut_between_whole_characters(title: str) -> None:
    name = chapter_file_name(1, title, "mp3", 2)

    stem = name.removeprefix("01-").removesuffix(".mp3")
    assert len(name.encode()) <= 255
    assert 0 < len(stem) < len(title)
    assert unicodedata.normalize("NFC", title).startswith(stem)
    assert not stem.endswith((" ", "\u200d", "q"))


@pytest.mark.parametrize(("number", "extension"), [(-1, "mp3"), (1, "mp3/x"), (1, "")])
def test_names_that_cannot_be_made_are_refused(number: int, extension: str) -> None:
    with pytest.raises(ValueError):
        chapter_file_name(number, "Title", extension, 2)


def _local_headers(path: Path) -> dict[str, tuple[int, int]]:
    """Each member's general-purpose flags and compression method, read from its local file
    header (the bytes an unzip tool reads), not from Python's parsed view."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    headers = {}
    for info in infos:
        offset = info.header_offset
        signature, _, flags, method = struct.unpack("<IHHH", data[offset : offset + 10])
        assert signature == 0x04034B50
        (name_length,) = struct.unpack("<H", data[offset + 26 : offset + 28])
        raw_name = data[offset + 30 : offset + 30 + name_length]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        headers[name] = (flags, method)
    return headers


def test_zip_holds_one_file_per_chapter_with_utf8_names(tmp_path: Path) -> None:
    files = []
    for number, mark in enumerate(MARKS, 1):
        audio = tmp_path / f"{number}.mp3"
        audio.write_bytes(bytes(range(256)) * 40)
        captions = tmp_path / f"{number}.srt"
        captions.write_text(f"1\n00:00:00,000 --> 00:00:02,000\n{mark.title}\n" * 50)
        for source in (audio, captions):
            files.append((chapter_file_name(number, mark.title, source.suffix, 2), source))
    path = tmp_path / "book.zip"

    write_zip(files, path)

    headers = _local_headers(path)
    assert list(headers) == [
        "01-第一章 风暴.mp3",
        "01-第一章 风暴.srt",
        "02-Chapter 2 The Calm.mp3",
        "02-Chapter 2 The Calm.srt",
        "03-Épilogue.mp3",
        "03-Épilogue.srt",
    ]
    utf8 = {name: bool(flags & 0x800) for name, (flags, _) in headers.items()}
    assert utf8 == {name: not name.isascii() for name in headers}
    methods = {name: method for name, (_, method) in headers.items()}
    assert methods == {
        name: zipfile.ZIP_STORED if name.endswith(".mp3") else zipfile.ZIP_DEFLATED
        for name in headers
    }
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        for name, source in files:
            assert archive.read(name) == source.read_bytes()


def test_zip_refuses_two_files_of_the_same_name(tmp_path: Path) -> None:
    source = tmp_path / "a.srt"
    source.write_text("x")
    with pytest.raises(ValueError, match="same name"):
        write_zip([("01-a.srt", source), ("01-a.srt", source)], tmp_path / "book.zip")


def test_chapter_marks_come_from_the_books_marks_only() -> None:
    from sayfile.subtitles import Timing, Timings

    plain = Timings((Timing(0.0, 1.0, "Hi."),), None, 1.2, marks=(Timing(0.5, 0.5, "note"),))
    assert chapter_marks(plain) == []
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
    assert chapter_marks(book) == [ChapterMark("One", 0.0, 4.0), ChapterMark("第二章", 4.0, 9.0)]
