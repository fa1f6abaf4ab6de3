"""A book cut into parts any process can make on its own, and the book's folder, where the
parts are kept: which part is done is which part's file exists (written whole or not at all),
so any process can see how far a book is and carry on after a restart."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sayfile.audio.formats import audio_format
from sayfile.audio.timings import Timings
from sayfile.books.read_along import Layout
from sayfile.books.reading import CHAPTER_PAUSE_MS, Chapter
from sayfile.models import SpeechRequest
from sayfile.text.sentences import sentences
from sayfile.whole_files import is_unfinished, written_whole

_MANIFEST = "manifest.json"
# The key of a finished book's timings record that lists all its chapters, made or skipped.
BOOK_CHAPTERS_KEY = "book_chapters"


class ChapterProgress(StrEnum):
    """How far one chapter of a book is: no part of it begun, some begun, all joined; or
    listed but not made (front matter, or left out by `chapters`)."""

    queued = "queued"
    making = "making"
    done = "done"
    skipped = "skipped"


@dataclass(frozen=True, slots=True)
class BookPart:
    """One part of a book: SSML for a chapter or a run of its sentences."""

    chapter: int
    ssml: str
    chars: int


@dataclass(frozen=True, slots=True)
class BookManifest:
    """What a book job makes, planned once when it is created: its title, its chapters'
    titles, its parts in order, and the request every part is planned with (the voice as
    resolved, so every worker speaks with the same one), and whether the result is one file
    or a ZIP of chapter files."""

    title: str
    chapters: tuple[str, ...]
    parts: tuple[BookPart, ...]
    voice: str
    format: str
    part_format: str
    speed: float
    loudness: float | None
    lexicon: tuple[dict[str, str], ...]
    package: str = "file"
    # The chapters listed but not made (front matter, or left out by the user's choice): their
    # place among all the book's chapters (from 0) and title.
    skipped: tuple[tuple[int, str], ...] = ()
    # What the book says about itself, written into the finished file's tags; `cover` is the
    # name of the cover picture's file in the book's folder.
    author: str | None = None
    language: str | None = None
    year: str | None = None
    cover: str | None = None
    bitrate: int | None = None
    routed: bool = False
    """Nobody named a voice: each part's sentences go to their languages' voices, made at
    `voice`'s rate (the voice of the book's main language)."""
    paragraphs: tuple[tuple[int, ...], ...] = ()
    """Each chapter made: where its paragraphs begin in its text (`Chapter.paragraph_places`),
    for the read-along EPUB's paragraphs; empty for a book planned before they were kept."""
    joined: tuple[tuple[int, ...], ...] = ()
    """Each chapter made: where a sentence follows the one before with no space between
    (`Layout.joined`); empty for a book planned before they were kept."""
    endings: tuple[tuple[tuple[int, str], ...], ...] = ()
    """Each chapter made: the stops its reader added, and what was written in their place
    (`Layout.endings`); empty for a book planned before they were kept."""

    def layout(self, chapter: int) -> Layout:
        """How chapter `chapter` (from 0, among those made) is shown (`read_along.Layout`)."""
        return Layout(
            self.paragraphs[chapter] if chapter < len(self.paragraphs) else (),
            self.joined[chapter] if chapter < len(self.joined) else (),
            self.endings[chapter] if chapter < len(self.endings) else (),
        )

    def request(self, part: BookPart) -> SpeechRequest:
        """The request one part is planned with."""
        return SpeechRequest(
            part.ssml,
            voice=None if self.routed else self.voice,
            format=self.part_format,
            speed=self.speed,
            loudness="off" if self.loudness is None else self.loudness,
            lexicon=self.lexicon,
            text_format="ssml",
        )

    def parts_of(self, chapter: int) -> list[int]:
        """The numbers of the parts chapter `chapter` is made of, in order."""
        return [n for n, part in enumerate(self.parts) if part.chapter == chapter]

    @property
    def chars(self) -> int:
        return sum(part.chars for part in self.parts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["lexicon"] = list(self.lexicon)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookManifest:
        return cls(
            title=str(data["title"]),
            chapters=tuple(data["chapters"]),
            parts=tuple(BookPart(**part) for part in data["parts"]),
            voice=str(data["voice"]),
            format=str(data["format"]),
            part_format=str(data["part_format"]),
            speed=float(data["speed"]),
            loudness=data["loudness"],
            lexicon=tuple(data["lexicon"]),
            package=str(data.get("package", "file")),
            skipped=tuple((int(n), str(t)) for n, t in data.get("skipped", ())),
            author=data.get("author"),
            language=data.get("language"),
            year=data.get("year"),
            cover=data.get("cover"),
            bitrate=data.get("bitrate"),
            routed=bool(data.get("routed", False)),
            paragraphs=tuple(
                tuple(int(start) for start in chapter) for chapter in data.get("paragraphs", ())
            ),
            joined=tuple(tuple(int(at) for at in chapter) for chapter in data.get("joined", ())),
            endings=tuple(
                tuple((int(at), str(written)) for at, written in chapter)
                for chapter in data.get("endings", ())
            ),
        )

    def listed(self) -> list[tuple[str, int | None]]:
        """Every chapter of the book in order, as listed to users: its title and its number
        among the chapters made (from 0), None for a skipped one."""
        skipped = dict(self.skipped)
        listed: list[tuple[str, int | None]] = []
        made = 0
        for number in range(len(self.chapters) + len(self.skipped)):
            if number in skipped:
                listed.append((skipped[number], None))
            else:
                listed.append((self.chapters[made], made))
                made += 1
        return listed


def split_book(chapters: Sequence[Chapter], part_chars: int) -> tuple[BookPart, ...]:
    """The chapters cut into parts of about `part_chars` characters at sentence ends (a
    chapter is never split below that, and a part never spans two chapters). Each part is
    SSML whose text is escaped, never taken as markup; a chapter's last part ends with the
    pause between chapters."""
    parts: list[BookPart] = []
    for number, chapter in enumerate(chapters):
        runs: list[list[str]] = [[]]
        size = 0
        for sentence in sentences(chapter.text, max_chars=part_chars):
            if size and size + len(sentence) > part_chars:
                runs.append([])
                size = 0
            runs[-1].append(sentence)
            size += len(sentence) + 1
        for index, run in enumerate(runs):
            text = " ".join(run)
            pause = f'<break time="{CHAPTER_PAUSE_MS}ms"/>' if index == len(runs) - 1 else ""
            parts.append(
                BookPart(number, f"<speak><p>{escape(text)}</p>{pause}</speak>", len(text))
            )
    return tuple(parts)


def _part_timings_name(number: int) -> str:
    """The file name of part `number`'s timings, written once its audio is whole."""
    return f"part-{number:04d}.timings.json"


def _chapter_timings_name(chapter: int) -> str:
    """The file name of chapter `chapter`'s timings, written once it is joined."""
    return f"chapter-{chapter:03d}.timings.json"


class BookFolder:
    """`<data_dir>/books/<job id>/`: the manifest, each finished part's audio
    (`part-0007.mp3`) and timings (`part-0007.timings.json`), and each finished chapter's
    (`chapter-003.mp3`, `chapter-003.timings.json`). Files appear under their final names
    only when whole. The folder goes when the job is done, failed or deleted."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return (self.path / _MANIFEST).is_file()

    def create(self, manifest: BookManifest, cover: bytes | None = None) -> None:
        """Write the manifest, and the cover picture (under `manifest.cover`) if given."""
        self.path.mkdir(parents=True, exist_ok=True)
        if cover is not None and manifest.cover:
            self._write_atomically(self.path / manifest.cover, cover)
        self._write_atomically(
            self.path / _MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False).encode()
        )

    def manifest(self) -> BookManifest:
        """The book's manifest. Raises FileNotFoundError when the book is gone."""
        return BookManifest.from_json(json.loads((self.path / _MANIFEST).read_text("utf-8")))

    def cover(self, manifest: BookManifest) -> bytes | None:
        """The book's cover picture, if it has one."""
        if not manifest.cover:
            return None
        try:
            return (self.path / manifest.cover).read_bytes()
        except FileNotFoundError:
            return None

    def part_audio(self, number: int, extension: str) -> Path:
        return self.path / f"part-{number:04d}.{extension}"

    def part_timings(self, number: int) -> Path:
        return self.path / _part_timings_name(number)

    def chapter_audio(self, chapter: int, extension: str) -> Path:
        return self.path / f"chapter-{chapter:03d}.{extension}"

    def chapter_timings(self, chapter: int) -> Path:
        return self.path / _chapter_timings_name(chapter)

    def part_done(self, number: int) -> bool:
        """A part is done when its timings are there: they are written after its audio."""
        return self.part_timings(number).is_file()

    def chapter_done(self, chapter: int) -> bool:
        return self.chapter_timings(chapter).is_file()

    def chapter_states(self, manifest: BookManifest) -> list[ChapterProgress]:
        """Each chapter's progress, from one look at the folder: done once joined, being
        made once a part of it is begun (its unfinished file written) or done, else queued.
        Raises FileNotFoundError when the book is gone."""
        names = {path.name for path in self.path.iterdir()}
        # `part-0007.<random>.mp3.unfinished` is being written; `part-0007.timings.json` is done.
        under_way = {
            name.split(".", 1)[0]
            for name in names
            if name.startswith("part-") and (is_unfinished(name) or name.endswith(".json"))
        }
        begun = {
            part.chapter
            for number, part in enumerate(manifest.parts)
            if f"part-{number:04d}" in under_way
        }
        return [
            ChapterProgress.done
            if _chapter_timings_name(chapter) in names
            else ChapterProgress.making
            if chapter in begun
            else ChapterProgress.queued
            for chapter in range(len(manifest.chapters))
        ]

    def made(self, manifest: BookManifest, number: int) -> bool:
        """Whether part `number` needs making no more: it is done, or its chapter is joined
        (and its parts removed)."""
        return self.part_done(number) or self.chapter_done(manifest.parts[number].chapter)

    def unmade(self, manifest: BookManifest) -> list[int]:
        """The numbers of the parts that still need making."""
        names = self._names()
        return [n for n in range(len(manifest.parts)) if not self._made(names, manifest, n)]

    def joinable(self, manifest: BookManifest) -> list[int]:
        """The chapters whose parts are all done and that are not joined yet."""
        names = self._names()
        # Each chapter's parts all done, from one pass over the parts (a pass per chapter
        # was 160,000 looks for a book of 400 chapters, after each part made).
        whole: dict[int, bool] = {}
        for number, part in enumerate(manifest.parts):
            done = _part_timings_name(number) in names
            whole[part.chapter] = whole.get(part.chapter, True) and done
        return [
            chapter
            for chapter in range(len(manifest.chapters))
            if _chapter_timings_name(chapter) not in names and whole.get(chapter, True)
        ]

    def all_chapters_done(self, manifest: BookManifest) -> bool:
        names = self._names()
        return all(_chapter_timings_name(c) in names for c in range(len(manifest.chapters)))

    def progress(self, manifest: BookManifest) -> float:
        """The share of the book's characters whose audio is done (0.99 at most: the book's
        own join is still to come)."""
        names = self._names()
        done = sum(
            part.chars for n, part in enumerate(manifest.parts) if self._made(names, manifest, n)
        )
        return min(0.99, done / max(1, manifest.chars))

    def _names(self) -> frozenset[str]:
        """The folder's file names, from one look: asking after each part's file apart, a
        book of 400 chapters looked at its folder about a million times while it was made.
        A folder that is gone has nothing done, as a file asked after is not there."""
        try:
            # Names alone: `iterdir` makes a Path of each of a book's thousand files, after
            # each part made (9 of the 24 CPU-s of a 400-chapter book said by the test tone).
            return frozenset(os.listdir(self.path))  # noqa: PTH208
        except FileNotFoundError:
            return frozenset()

    def _made(self, names: frozenset[str], manifest: BookManifest, number: int) -> bool:
        chapter = manifest.parts[number].chapter
        return _part_timings_name(number) in names or _chapter_timings_name(chapter) in names

    def remove_parts(self, manifest: BookManifest, chapter: int) -> None:
        """The audio and timings of chapter `chapter`'s parts go (it is joined)."""
        extension = audio_format(manifest.part_format).extension
        for n in manifest.parts_of(chapter):
            self.part_audio(n, extension).unlink(missing_ok=True)
            self.part_timings(n).unlink(missing_ok=True)

    def write_timings(self, path: Path, timings: Timings) -> None:
        self._write_atomically(path, json.dumps(timings.to_json(), ensure_ascii=False).encode())

    def read_timings(self, path: Path) -> Timings:
        return Timings.from_json(json.loads(path.read_text("utf-8")))

    def _write_atomically(self, path: Path, data: bytes) -> None:
        with written_whole(path) as unfinished:
            unfinished.write_bytes(data)
