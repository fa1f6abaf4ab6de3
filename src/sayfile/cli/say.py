"""`sayfile say`: text, a file or a book into an audio file (or standard output), with a
progress bar, chapter marks and tags for books, and subtitles beside it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from sayfile.audio.chapter_marks import (
    BookTags,
    chapter_marks_from_timings,
    mark_chapters,
    tag_book,
)
from sayfile.audio.formats import AudioFormat, format_for_path, with_bitrate
from sayfile.audio.timings import Timing, cues, srt, vtt
from sayfile.audio.word_captions import vtt_with_words
from sayfile.cli.input_text import ChosenBook, read_input
from sayfile.cli.read_along import is_read_along, say_read_along
from sayfile.cli.terminal import err, error_exit, settings_or_exit, synthesizer_or_exit
from sayfile.durations import clock
from sayfile.errors import SayfileError
from sayfile.jobs.download_names import speech_stem, stem_for, title_stem
from sayfile.models import SpeechRequest
from sayfile.settings import MAX_LUFS, MIN_LUFS
from sayfile.speech.pace import JobPace, PaceBook
from sayfile.speech.pipeline import timings_of
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.text.ssml import looks_like_ssml

# Below this many characters synthesis takes a moment; a progress bar would only flicker.
_PROGRESS_FROM_CHARS = 2000


def say(
    text: Annotated[
        str | None, typer.Argument(help="Text to speak; '-' reads standard input.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Read the text from this file (any encoding)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Audio file to write ('-' for standard output); the "
            "extension picks the format. Default: named after the first words.",
        ),
    ] = None,
    voice: Annotated[
        str | None,
        typer.Option(
            "--voice",
            "-v",
            help="Voice id, e.g. piper:en_US-joe-medium, or a mix of Kokoro voices, "
            "af_bella(2)+af_sky(1).",
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Pick the best voice for a language.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="mp3, opus, aac, m4b (an audiobook: chapters for books), flac, wav or pcm "
            "(24 kHz s16le); epub for a book file: a read-along EPUB 3 (its text, mp3 per "
            "chapter, Media Overlays).",
        ),
    ] = None,
    speed: Annotated[float, typer.Option("--speed", "-s", help="0.25 to 4.0.")] = 1.0,
    loudness: Annotated[
        str | None,
        typer.Option(
            help=f"Loudness in LUFS ({MIN_LUFS:g} to {MAX_LUFS:g}) or 'off'. Default: -16 "
            "(EBU R128)."
        ),
    ] = None,
    text_format: Annotated[
        str | None,
        typer.Option(
            "--text-format",
            help="How the text is read: auto (default: SSML, Markdown or HTML by its signs, "
            "else plain with addresses said briefly), plain (as written), markdown or ssml.",
        ),
    ] = None,
    srt_file: Annotated[
        bool, typer.Option("--srt", help="Also write subtitles (SubRip) beside the audio.")
    ] = False,
    vtt_file: Annotated[
        bool, typer.Option("--vtt", help="Also write subtitles (WebVTT) beside the audio.")
    ] = False,
    words: Annotated[
        bool,
        typer.Option(
            "--words",
            help="Also write WebVTT subtitles (as --vtt does) with each word's start inside its "
            "cue (karaoke), for voices that time their words (Kokoro's, Piper's, espeak-ng's).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    chapters: Annotated[
        str | None,
        typer.Option(
            help="For a book (--file .epub, .md, .txt): the chapters to make, numbered as "
            "`sayfile chapters FILE` lists them ('1-3,7', or 'all'). Default: all but the "
            "front matter.",
        ),
    ] = None,
    bitrate: Annotated[
        int | None,
        typer.Option(
            help="kbit/s: mp3, aac, m4b 32, 48, 64, 96; opus 24, 32, 48, 64. Default: the "
            "format's own.",
        ),
    ] = None,
) -> None:
    """Speak TEXT (or --file, or standard input with '-') into an audio file. Text that is an
    SSML <speak> document is read as SSML; Markdown or HTML as a reader sees it (see
    --text-format); a book file (.epub, .md, .txt) is read into chapters, marked in mp3, opus
    and m4b files with the book's title, author and cover."""
    content, book = read_input(text, file, chapters)
    if book is not None:
        # A book file is read by its own reader: chapter-marked SSML, or one chapter's text.
        text_format = "ssml" if looks_like_ssml(content) else "plain"
    if is_read_along(fmt, output):
        given = {"--srt": srt_file, "--vtt": vtt_file, "--words": words}
        if asked := [flag for flag, on in given.items() if on]:
            # A read-along EPUB carries its timings inside (Media Overlays): there is no one
            # audio file for subtitles to go beside.
            raise error_exit(
                f"{' and '.join(asked)}: subtitles go beside an audio file, and a read-along "
                "EPUB has its timings inside; leave them out, or choose an audio --format."
            )
        _say_read_along(content, book, output, voice, language, speed, loudness, bitrate, quiet)
        return
    implied = _format_of_output(output, fmt)
    settings = settings_or_exit()
    synthesizer = synthesizer_or_exit(settings)
    target: Path | None = output
    with _closed_after(synthesizer, lambda: target):
        request = SpeechRequest(
            content,
            voice=voice,
            language=language,
            format=fmt or (implied.name if implied else None),
            speed=speed,
            loudness=loudness,
            text_format=text_format,
        )
        plan = validate(request, synthesizer, settings, None)
        plan = replace(plan, format=with_bitrate(plan.format, bitrate))
        name = title_stem(book.title) if book else speech_stem(plan.words, plan.title)
        named = Path(f"{name}.{plan.format.extension}")
        target = output / named if output is not None and output.is_dir() else output or named
        show = not quiet and len(plan.words) >= _PROGRESS_FROM_CHARS
        result = _speak_with_progress(synthesizer, plan, target, show)
    if result.bytes:
        _mark_and_tag(target, plan, result, book)
        err.print(
            f"wrote {target} ({clock(result.duration_s)} of audio, {result.bytes:,} bytes, "
            f"{_speakers(plan)})",
            highlight=False,
        )
    # Beside the audio; beside where it would be for standard output.
    stem = target if str(target) != "-" else Path(speech_stem(plan.words, plan.title))
    webvtt = functools.partial(vtt_with_words, words=result.timings.words) if words else vtt
    # Words' times go only into WebVTT: --words alone asks for that file.
    for wanted, extension, render in ((srt_file, "srt", srt), (vtt_file or words, "vtt", webvtt)):
        if wanted:
            subtitles = stem.with_suffix(f".{extension}")
            try:
                subtitles.write_text(render(cues(result.timings)), encoding="utf-8")
            except OSError as exc:
                raise error_exit(f"cannot write {subtitles}: {exc.strerror or exc}.") from None
            err.print(f"wrote {subtitles}", highlight=False)


@contextlib.contextmanager
def _closed_after(synthesizer: Synthesizer, target: Callable[[], Path | None]) -> Iterator[None]:
    """Run the block, then close `synthesizer`'s threads and engines; its errors end the
    command with their message (an OSError naming the file being written, `target()`)."""
    try:
        yield
    except SayfileError as exc:
        raise error_exit(str(exc)) from None
    except OSError as exc:
        raise error_exit(f"cannot write {target()}: {exc.strerror or exc}.") from None
    finally:
        synthesizer.executor.close()
        synthesizer.catalogue.close()


def _say_read_along(
    content: str,
    book: ChosenBook | None,
    output: Path | None,
    voice: str | None,
    language: str | None,
    speed: float,
    loudness: str | None,
    bitrate: int | None,
    quiet: bool,
) -> None:
    """A book file as a read-along EPUB (`--format epub`), each chapter with a progress bar."""
    if book is None or str(output) == "-":
        raise error_exit("--format epub needs a book (--file with .epub, .md or .txt) and a file.")
    target = output or Path(f"{title_stem(book.title)}.epub")
    settings = settings_or_exit()
    synthesizer = synthesizer_or_exit(settings)
    request = SpeechRequest(content, voice=voice, language=language, speed=speed, loudness=loudness)
    show = not quiet and len(content) >= _PROGRESS_FROM_CHARS

    def speak(plan: SpeechPlan, path: Path) -> SpeechResult:
        return _speak_with_progress(synthesizer, plan, path, show)

    with _closed_after(synthesizer, lambda: target):
        seconds = say_read_along(synthesizer, settings, request, book, bitrate, target, speak)
    err.print(
        f"wrote {target} (a read-along EPUB: {len(book.chapters)} chapters, "
        f"{clock(seconds)} of audio)",
        highlight=False,
    )


def _format_of_output(output: Path | None, fmt: str | None) -> AudioFormat | None:
    """The format the output file's name implies (None for standard output or no name);
    an error exit when it says none and --format is missing, or another than --format."""
    if output is None or str(output) == "-" or output.is_dir():
        return None  # a folder: the file goes in it, named as without -o
    implied = format_for_path(output)
    if implied is None and fmt is None:
        raise error_exit(f"cannot tell the format from {output.name!r}; add --format.")
    if implied and fmt and implied.name != fmt.lower():
        raise error_exit(f"--format {fmt} does not match the output name {output.name!r}.")
    return implied


def _speak_with_progress(
    synthesizer: Synthesizer, plan: SpeechPlan, target: Path, show: bool
) -> SpeechResult:
    """Synthesize into `target`, with a progress bar and the time left on the error stream
    when `show`."""
    pace = PaceBook()
    started = time.monotonic()

    def time_left(fraction: float) -> str:
        elapsed = time.monotonic() - started
        seconds = pace.seconds_left(plan.voice, JobPace(len(plan.words), fraction, elapsed))
        if seconds is None or fraction >= 1:
            return ""
        return f"about {clock(seconds)} left"

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[left]}"),
        console=err,
        disable=not show,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{plan.voice.id} → {target}", total=1.0, left=time_left(0.0))

        async def report(fraction: float) -> None:
            bar.update(task, completed=fraction, left=time_left(fraction))

        return asyncio.run(_speak(synthesizer, plan, target, report))


async def _speak(
    synthesizer: Synthesizer,
    plan: SpeechPlan,
    target: Path,
    report: Callable[[float], Awaitable[None]],
) -> SpeechResult:
    """Write the audio to `target`, or to standard output for '-' (0 bytes written then)."""
    turn = synthesizer.executor.turn(Lane.interactive)
    if str(target) == "-":
        heard: list[Timing] = []
        async with contextlib.aclosing(
            synthesizer.stream(plan, turn, report, quick_start=False, heard=heard)
        ) as pieces:
            async for piece in pieces:
                sys.stdout.buffer.write(piece)
        sys.stdout.buffer.flush()
        duration = heard[-1].end if heard else 0.0
        return SpeechResult(duration, 0, timings_of(heard, duration))
    return await synthesizer.write(plan, target, turn, report)


def _mark_and_tag(
    target: Path, plan: SpeechPlan, result: SpeechResult, book: ChosenBook | None
) -> None:
    """Chapter marks in the written file, and a book's title, author, language, year and
    cover as its tags."""
    marks = chapter_marks_from_timings(result.timings)
    title = book.title if book else plan.title or stem_for(plan.words)
    if marks and mark_chapters(target, plan.format, marks, title):
        err.print(f"marked {len(marks)} chapters in {target}", highlight=False)
    if book is not None:
        info = book.book.info
        cover = info.cover.data if info.cover else None
        tag_book(target, plan.format, BookTags(title, info.author, info.language, info.year, cover))


def _speakers(plan: SpeechPlan) -> str:
    """The voice that spoke, or the voices sentences in several languages went to."""
    if plan.routed and plan.voices:
        return f"voices {', '.join(plan.voices)}"
    return f"voice {plan.voice.id}"
