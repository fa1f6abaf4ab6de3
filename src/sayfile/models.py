"""Plain data shared by every layer: voices, their quality tiers, and speech requests (no web
imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import BinaryIO

from sayfile.heard import Heard


class Quality(IntEnum):
    """How natural a voice sounds; higher wins when a voice is chosen by language alone."""

    formant = 1
    neural = 2


@dataclass(frozen=True, slots=True)
class Voice:
    """One voice of one engine, as the catalogue lists it.

    `id` is stable (`engine:name`); `language` is a BCP-47 tag; `aliases` are further language
    tags the voice answers to with their priority (espeak-ng's "other languages", such as
    `("zh", 5)` for `cmn`); priorities order voices of one engine (lower is preferred).
    """

    id: str
    engine: str
    name: str
    language: str
    sample_rate: int
    quality: Quality
    gender: str | None = None
    aliases: tuple[tuple[str, int], ...] = ()
    priority: int = 5
    # How good the voice sounds among voices of its quality tier (higher first): the
    # authors' grade where they give one (Kokoro), else sayfile's measure.
    score: int = 50
    grade: str | None = None
    credit: str | None = None
    # Chosen when only a language is asked for; False for voices that speak it badly
    # (espeak-ng's Mandarin reads pinyin with tone numbers in English).
    auto: bool = True
    # How well a speech recognizer understood it (heard.json; None: not graded), and whether
    # that is far below the best of its language (never chosen by language then); both set by
    # the catalogue.
    heard: Heard | None = None
    hard_to_understand: bool = False
    # Engine-private locator (espeak-ng voice file, Piper model path); not shown to users.
    locator: str = field(default="", compare=False, repr=False)

    def public(self) -> dict[str, object]:
        """The fields users see (`sayfile voices --json`, `GET /voices`)."""
        return {
            "id": self.id,
            "engine": self.engine,
            "name": self.name,
            "language": self.language,
            "gender": self.gender,
            "sample_rate": self.sample_rate,
            "quality": self.quality.name,
            "grade": self.grade,
            "credit": self.credit,
            "heard": self.heard.public() if self.heard else None,
            "hard_to_understand": self.hard_to_understand,
        }


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """What a user asked for, before validation (from JSON, a form, the OpenAI route or the
    CLI). `engine` narrows a choice by language to one engine (OpenAI's model names)."""

    text: str
    voice: str | None = None
    language: str | None = None
    format: str | None = None
    speed: float = 1.0
    engine: str | None = None
    # Target loudness in LUFS, "off", or None for the server's default.
    loudness: float | str | None = None
    # Pronunciations for this request only: {"language", "term", "replacement"} each.
    lexicon: tuple[dict[str, str], ...] = ()
    # How the text is read: auto (default), plain, markdown or ssml (`markup.TextFormat`).
    text_format: str | None = None


@dataclass(frozen=True, slots=True)
class BookUpload:
    """A book uploaded for a job (EPUB, Markdown or text), as it came: an open file (a
    temporary file for an upload, never the whole book in memory) of `size` bytes, which its
    opener closes."""

    file: BinaryIO
    size: int
    filename: str
    media_type: str | None


@dataclass(frozen=True, slots=True)
class BookChoice:
    """What a user chose for a book job: which chapters are made (numbers and ranges as
    listed, "1-3,7"; None: all but the front matter) and the bit rate in kbit/s (None: the
    format's own)."""

    chapters: str | None = None
    bitrate: int | None = None
