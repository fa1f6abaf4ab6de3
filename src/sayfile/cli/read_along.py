"""`sayfile say --format epub` for a book file: each chosen chapter spoken into its own mp3,
then written with its text as a read-along EPUB by the writer a book job uses."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sayfile.audio.formats import BOOK_FORMATS, audio_format, with_bitrate
from sayfile.audio.joining import played
from sayfile.books.read_along_epub import BookAudio, ChapterAudio, write_read_along
from sayfile.books.reading import book_ssml
from sayfile.cli.input_text import ChosenBook
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.synthesizer import SpeechResult, Synthesizer

_COVER_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png"}

Speak = Callable[[SpeechPlan, Path], SpeechResult]
"""Speaks a plan into a file (with the command's progress bar)."""


def is_read_along(fmt: str | None, output: Path | None) -> bool:
    """Whether the command asks for a read-along book (`--format epub`, or `-o book.epub`)."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return (fmt or "").strip().lower() in BOOK_FORMATS or suffix in BOOK_FORMATS


def say_read_along(
    synthesizer: Synthesizer,
    settings: Settings,
    request: SpeechRequest,
    book: ChosenBook,
    bitrate: int | None,
    target: Path,
    speak: Speak,
) -> float:
    """The book's chapters spoken one by one (as `request` asks, in the audio format the
    EPUB holds) and written to `target`; returns the seconds of audio. Raises what
    `validate` and synthesis raise."""
    audio = audio_format(BOOK_FORMATS["epub"])
    made: list[ChapterAudio] = []
    voice = ""
    with tempfile.TemporaryDirectory(prefix="sayfile-epub-") as folder:
        for number, chapter in enumerate(book.chapters, 1):
            said = replace(
                request, text=book_ssml([chapter]), text_format="ssml", format=audio.name
            )
            plan = validate(said, synthesizer, settings, None)
            plan = replace(plan, format=with_bitrate(plan.format, bitrate))
            path = Path(folder) / f"chapter-{number:03d}.{audio.extension}"
            result = speak(plan, path)
            heard = played(path)
            made.append(
                ChapterAudio(
                    chapter.title,
                    path,
                    result.timings,
                    heard.seconds,
                    heard.lead_s(plan.format),
                    chapter.layout(settings.max_sentence_chars),
                )
            )
            voice = plan.voice.id
        info = book.book.info
        cover = None
        if info.cover is not None and info.cover.media_type in _COVER_SUFFIXES:
            cover = Path(folder) / f"cover{_COVER_SUFFIXES[info.cover.media_type]}"
            cover.write_bytes(info.cover.data)
        written = BookAudio(
            title=book.title,
            author=info.author,
            language=info.language,
            narrator=voice,
            identifier=f"urn:uuid:{uuid.uuid4()}",
            chapters=made,
            audio_media_type=audio.media_type,
            cover=cover,
        )
        return write_read_along(written, target)
