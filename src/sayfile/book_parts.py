"""A book cut into parts any process can make on its own, and the book's folder, where the
parts are kept: which part is done is which part's file exists (written whole or not at all),
so any process can see how far a book is and carry on after a restart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sayfile.books import CHAPTER_PAUSE_MS, Chapter
from sayfile.files import written_whole
from sayfile.models import SpeechRequest
from sayfile.subtitles import Timings
from sayfile.text import sentences

_MANIFEST = "manifest.json"


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
    routed: bool = False
    """Nobody named a voice: each part's sentences go to their languages' voices, made at
    `voice`'s rate (the voice of the book's main language)."""

    def request(self, part: BookPart) -> SpeechRequest:
        """The request one part is planned with."""
        return SpeechRequest(
            part.ssml,
            voice=None if self.routed else self.voice,
            format=self.part_format,
            speed=self.speed,
            loudness="off" if self.loudness is None else self.loudness,
            lexicon=self.lexicon,
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
            routed=bool(data.get("routed", False)),
        )


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


class BookFolder:
    """`<data_dir>/books/<job id>/`: the manifest, each finished part's audio
    (`part-0007.mp3`) and timings (`part-0007.timings.json`), and each finished chapter's
    (`chapter-003.mp3`, `chapter-003.timings.json`). Files appear under their final names
    only when whole. The folder goes when the job is done, failed or deleted."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return (self.path / _MANIFEST).is_file()

    def create(self, manifest: BookManifest) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_atomically(
            self.path / _MANIFEST, json.dumps(manifest.to_json(), ensure_ascii=False).encode()
        )

    def manifest(self) -> BookManifest:
        """The book's manifest. Raises FileNotFoundError when the book is gone."""
        return BookManifest.from_json(json.loads((self.path / _MANIFEST).read_text("utf-8")))

    def part_audio(self, number: int, extension: str) -> Path:
        return self.path / f"part-{number:04d}.{extension}"

    def part_timings(self, number: int) -> Path:
        return self.path / f"part-{number:04d}.timings.json"

    def chapter_audio(self, chapter: int, extension: str) -> Path:
        return self.path / f"chapter-{chapter:03d}.{extension}"

    def chapter_timings(self, chapter: int) -> Path:
        return self.path / f"chapter-{chapter:03d}.timings.json"

    def part_done(self, number: int) -> bool:
        """A part is done when its timings are there: they are written after its audio."""
        return self.part_timings(number).is_file()

    def chapter_done(self, chapter: int) -> bool:
        return self.chapter_timings(chapter).is_file()

    def write_timings(self, path: Path, timings: Timings) -> None:
        self._write_atomically(path, json.dumps(timings.to_json(), ensure_ascii=False).encode())

    def read_timings(self, path: Path) -> Timings:
        return Timings.from_json(json.loads(path.read_text("utf-8")))

    def _write_atomically(self, path: Path, data: bytes) -> None:
        with written_whole(path) as part:
            part.write_bytes(data)
