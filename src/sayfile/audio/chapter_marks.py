"""Chapter marks that players show, added to finished mp3 (ID3 CHAP/CTOC), Ogg Opus (chapter
comments) and m4b (MP4 chapters) files, from the marks a book's audio carries; and the book's
title, author, language, year and cover in the same files' tags."""

# mutagen declares itself typed (py.typed) but leaves most functions unannotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from mutagen.flac import Picture
from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    CTOCFlags,
    Encoding,
    ID3NoHeaderError,
    PictureType,
)
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus

from sayfile.audio.formats import AudioFormat
from sayfile.audio.timings import Timing, Timings
from sayfile.whole_files import written_whole

# The SSML mark that starts a chapter, followed by its title.
CHAPTER_MARK = "chapter:"
# The most chapters a book (or an SSML text's `chapter:` marks) may have: every format with
# chapters holds this many.
MAX_CHAPTERS = 500

# The m4b muxer's options: the index before the audio (players show chapters and seek at once
# in a file still downloading; FFmpeg reopens the file by name for it) and the audiobook
# brand (players file it under audiobooks, with bookmarks).
MP4_OPTIONS = {"movflags": "+faststart", "brand": "M4B "}


@dataclass(frozen=True, slots=True)
class ChapterMark:
    """One chapter: its title, and where it starts and ends in seconds from the book's start."""

    title: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"chapter {self.title!r} must start at 0 s or later and end after")


# ID3's "no byte offset" value: CHAP frames locate chapters by time alone.
_NO_OFFSET = 0xFFFFFFFF
_ID3_HEADER = 10
_TOC_ID = "toc"
_CTOC_MAX_ENTRIES = 255
# The Vorbis-comment chapter convention numbers chapters with three digits.
_MAX_OPUS_CHAPTERS = 999
_OPUS_CHAPTER_KEY = re.compile(r"CHAPTER\d{3}(NAME|URL)?", re.IGNORECASE)


def add_mp3_chapters(path: Path, marks: Sequence[ChapterMark], title: str) -> None:
    """Tag the mp3 file at `path` with `title` and `marks` as ID3v2.4 chapters: one CHAP frame
    per mark ("ch0", "ch1"... in milliseconds, each titled) and a top-level, ordered table of
    contents listing them. Chapters already in the file are replaced; other tags are kept.
    Raises ValueError when the marks overlap or are out of order."""
    _check_order(marks)
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    tags.delall("CHAP")
    tags.delall("CTOC")
    tags.setall("TIT2", [_id3_title(title)])
    element_ids = [f"ch{index}" for index in range(len(marks))]
    for element_id, mark in zip(element_ids, marks, strict=True):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(mark.start * 1000),
                end_time=round(mark.end * 1000),
                start_offset=_NO_OFFSET,
                end_offset=_NO_OFFSET,
                sub_frames=[_id3_title(mark.title)],
            )
        )
    for table in _tables_of_contents(element_ids, title):
        tags.add(table)
    tags.save(path)
    _order_chapter_frames(path, element_ids)


def _tables_of_contents(element_ids: Sequence[str], title: str) -> list[CTOC]:
    """The top-level, ordered table of contents of `element_ids`. A CTOC counts its entries
    in one byte: past 255 chapters it lists ordered tables of 255 chapters each instead (ID3
    allows tables within tables), so a 500-chapter book keeps all its chapters."""
    flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    if len(element_ids) <= _CTOC_MAX_ENTRIES:
        return [CTOC(_TOC_ID, flags, element_ids, [_id3_title(title)])]
    groups = [
        element_ids[start : start + _CTOC_MAX_ENTRIES]
        for start in range(0, len(element_ids), _CTOC_MAX_ENTRIES)
    ]
    group_ids = [f"{_TOC_ID}{number}" for number in range(len(groups))]
    tables = [CTOC(_TOC_ID, flags, group_ids, [_id3_title(title)])]
    for group_id, group in zip(group_ids, groups, strict=True):
        tables.append(CTOC(group_id, CTOCFlags.ORDERED, group, [_id3_title(title)]))
    return tables


def _chapter_ids(tags: ID3) -> list[str]:
    """The CHAP frames' element ids, in the order of their start."""
    chapters = sorted(tags.getall("CHAP"), key=lambda chapter: chapter.start_time)
    return [chapter.element_id for chapter in chapters]


def add_opus_chapters(path: Path, marks: Sequence[ChapterMark], title: str) -> None:
    """Tag the Ogg Opus file at `path` with `title` (TITLE) and `marks` as chapter comments
    (CHAPTER001=00:00:00.000, CHAPTER001NAME=...). Chapters already in the file are replaced;
    other comments are kept. Raises ValueError for more than 999 marks (the convention's
    limit) or marks that overlap or are out of order."""
    _check_order(marks)
    if len(marks) > _MAX_OPUS_CHAPTERS:
        raise ValueError(f"Ogg chapter comments hold {_MAX_OPUS_CHAPTERS} chapters at most")
    audio = OggOpus(path)
    # Vorbis comments may repeat a key; deleting one deletes all its values.
    for key in {key for key in audio if _OPUS_CHAPTER_KEY.fullmatch(key)}:
        del audio[key]
    audio["TITLE"] = [title]
    for number, mark in enumerate(marks, 1):
        key = f"CHAPTER{number:03d}"
        audio[key] = [_clock(mark.start)]
        audio[f"{key}NAME"] = [mark.title]
    audio.save()


def _check_order(marks: Sequence[ChapterMark]) -> None:
    for earlier, later in itertools.pairwise(marks):
        if later.start < earlier.end:
            raise ValueError(f"chapter {later.title!r} starts before {earlier.title!r} ends")


def _order_chapter_frames(path: Path, element_ids: Sequence[str]) -> None:
    """Rewrite the ID3v2.4 tag at the start of `path` with its CHAP frames in chapter order.

    mutagen writes frames smallest first (quodlibet/mutagen#506), and FFmpeg, with the players
    built on it, lists chapters in the order of their frames rather than by the table of
    contents. The frames are only moved, so the tag keeps its size and the audio its place.
    """
    rank = {element_id.encode(): index for index, element_id in enumerate(element_ids)}
    with path.open("r+b") as file:
        header = file.read(_ID3_HEADER)
        # mutagen writes version 4 without unsynchronisation, extended header or footer; any
        # other tag is left as it is.
        if header[:4] != b"ID3\x04" or header[5] != 0:
            return
        body = file.read(_synchsafe(header[6:10]))
        frames, offset = [], 0
        while offset + _ID3_HEADER <= len(body) and body[offset] != 0:
            end = offset + _ID3_HEADER + _synchsafe(body[offset + 4 : offset + 8])
            frames.append(body[offset:end])
            offset = end
        chapters = sorted(
            (frame for frame in frames if frame[:4] == b"CHAP"),
            key=lambda frame: rank[frame[_ID3_HEADER:].split(b"\0", 1)[0]],
        )
        others = [frame for frame in frames if frame[:4] != b"CHAP"]
        file.seek(_ID3_HEADER)
        file.write(b"".join(others + chapters))


def _synchsafe(data: bytes) -> int:
    # ID3v2.4 sizes: 7 bits in each byte, so that no size looks like an mp3 frame's sync.
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
    return value


def _id3_title(text: str) -> TIT2:
    return TIT2(encoding=Encoding.UTF8, text=[text])


def _clock(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{milliseconds // 1000:02d}.{milliseconds % 1000:03d}"


def chapter_marks_from_timings(timings: Timings) -> list[ChapterMark]:
    """The chapters of a book's audio, read from its timings: from each mark named
    `CHAPTER_MARK` + title to the next one (the last to the end of the audio). Empty when the
    audio has none. The other way: `timing_marks_from_chapters`."""
    starts = [
        (mark.start, mark.text.removeprefix(CHAPTER_MARK))
        for mark in timings.marks
        if mark.text.startswith(CHAPTER_MARK)
    ]
    ends = [start for start, _ in starts[1:]] + [timings.duration]
    return [
        ChapterMark(title, start, max(start, end))
        for (start, title), end in zip(starts, ends[: len(starts)], strict=True)
    ]


def timing_marks_from_chapters(titles: Sequence[str], starts: Sequence[float]) -> list[Timing]:
    """The timing marks (`CHAPTER_MARK` + title) of chapters titled `titles` that start at
    `starts` seconds, for a joined book's timings. The other way: `chapter_marks_from_timings`.
    """
    return [
        Timing(start, start, CHAPTER_MARK + title)
        for start, title in zip(starts, titles, strict=True)
    ]


def mark_chapters(path: Path, fmt: AudioFormat, marks: Sequence[ChapterMark], title: str) -> bool:
    """Write `marks` into the finished file at `path` where its format can hold chapters (mp3,
    Opus, m4b); False for the others, which keep no chapter marks."""
    writer = _CHAPTER_WRITERS.get(fmt.name)
    if writer is None or not marks:
        return False
    writer(path, marks, title)
    return True


def add_mp4_chapters(path: Path, marks: Sequence[ChapterMark], title: str) -> None:
    """Give the MP4 (m4b) file at `path` `title` and `marks` as its chapters: MP4 keeps them
    in its index, so the file is written again around the same packets (nothing is encoded
    again), as an unfinished file renamed over the old one."""
    _check_order(marks)
    with (
        written_whole(path) as unfinished,
        av.open(str(path)) as source,
        av.open(str(unfinished), mode="w", format="ipod", options=MP4_OPTIONS) as output,
    ):
        output.metadata["title"] = title
        output.set_chapters(
            [
                {
                    "id": number,
                    "start": round(mark.start * 1000),
                    "end": round(mark.end * 1000),
                    "time_base": Fraction(1, 1000),
                    "metadata": {"title": mark.title},
                }
                for number, mark in enumerate(marks, 1)
            ]
        )
        stream = source.streams.audio[0]
        copy = output.add_stream_from_template(stream)
        for packet in source.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = copy
            output.mux(packet)


_CHAPTER_WRITERS: dict[str, Callable[[Path, Sequence[ChapterMark], str], None]] = {
    "mp3": add_mp3_chapters,
    "opus": add_opus_chapters,
    "m4b": add_mp4_chapters,
}


@dataclass(frozen=True, slots=True)
class BookTags:
    """What a book's file tells players about it: title, author, language (a BCP-47 or ISO 639
    tag as the book gives it), year, and cover picture (JPEG or PNG bytes)."""

    title: str
    author: str | None = None
    language: str | None = None
    year: str | None = None
    cover: bytes | None = None


def tag_book(path: Path, fmt: AudioFormat, tags: BookTags) -> bool:
    """Write `tags` into the finished file at `path` where its format has tags players read
    (mp3: ID3; Opus: Vorbis comments; m4b: iTunes atoms), after its chapters are marked (its
    chapters are kept). The book's title is also its album. False for other formats."""
    writer = _TAG_WRITERS.get(fmt.name)
    if writer is None:
        return False
    writer(path, tags)
    return True


def _tag_mp3(path: Path, tags: BookTags) -> None:
    try:
        id3 = ID3(path)
    except ID3NoHeaderError:
        id3 = ID3()
    id3.setall("TIT2", [_id3_title(tags.title)])
    id3.setall("TALB", [TALB(encoding=Encoding.UTF8, text=[tags.title])])
    if tags.author:
        id3.setall("TPE1", [TPE1(encoding=Encoding.UTF8, text=[tags.author])])
    if tags.year:
        id3.setall("TDRC", [TDRC(encoding=Encoding.UTF8, text=[tags.year])])
    if tags.language:
        # ID3 wants ISO 639-2 codes; players show what is there, so the book's own tag stays.
        id3.setall("TLAN", [TLAN(encoding=Encoding.UTF8, text=[tags.language])])
    if tags.cover:
        id3.setall(
            "APIC",
            [
                APIC(
                    encoding=Encoding.UTF8,
                    mime=_picture_type(tags.cover),
                    type=PictureType.COVER_FRONT,
                    desc="Cover",
                    data=tags.cover,
                )
            ],
        )
    id3.save(path)
    if chapters := _chapter_ids(id3):
        _order_chapter_frames(path, chapters)


def _tag_opus(path: Path, tags: BookTags) -> None:
    audio = OggOpus(path)
    audio["TITLE"] = [tags.title]
    audio["ALBUM"] = [tags.title]
    for key, value in (("ARTIST", tags.author), ("LANGUAGE", tags.language)):
        if value:
            audio[key] = [value]
    if tags.year:
        audio["DATE"] = [tags.year]
    if tags.cover:
        picture = Picture()
        picture.type = PictureType.COVER_FRONT
        picture.mime = _picture_type(tags.cover)
        picture.desc = "Cover"
        picture.data = tags.cover
        audio["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
    audio.save()


def _tag_mp4(path: Path, tags: BookTags) -> None:
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    audio["\xa9nam"] = [tags.title]
    audio["\xa9alb"] = [tags.title]
    if tags.author:
        audio["\xa9ART"] = [tags.author]
        audio["aART"] = [tags.author]
    if tags.year:
        audio["\xa9day"] = [tags.year]
    if tags.cover:
        kind = MP4Cover.FORMAT_PNG if tags.cover.startswith(_PNG) else MP4Cover.FORMAT_JPEG
        audio["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
    audio.save()


_PNG = b"\x89PNG"


def _picture_type(data: bytes) -> str:
    return "image/png" if data.startswith(_PNG) else "image/jpeg"


_TAG_WRITERS: dict[str, Callable[[Path, BookTags], None]] = {
    "mp3": _tag_mp3,
    "opus": _tag_opus,
    "m4b": _tag_mp4,
}
