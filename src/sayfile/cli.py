"""The `sayfile` command line: say, voices, chapters, serve, worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from sayfile.audio.chapter_marks import (
    BookTags,
    chapter_marks_from_timings,
    mark_chapters,
    tag_book,
)
from sayfile.audio.formats import format_for_path, with_bitrate
from sayfile.audio.timings import Timing, cues, srt, vtt
from sayfile.books.reading import Book, book_ssml, choose_chapters, open_book, title_of
from sayfile.durations import clock
from sayfile.errors import InvalidInput, SayfileError
from sayfile.jobs.download_names import stem_for, title_stem
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.pace import JobPace, PaceBook
from sayfile.speech.pipeline import timings_of
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.text.encodings import decode_text
from sayfile.text.language_detection import LanguageVoice
from sayfile.text.ssml import looks_like_ssml
from sayfile.wiring import build_synthesizer

# Below this many characters synthesis takes a moment; a progress bar would only flicker.
_PROGRESS_FROM_CHARS = 2000
_SHUTDOWN_GRACE_SECONDS = 10
"""How long `serve` waits on SIGTERM for open requests to finish."""
# How long a `sayfile worker` process takes at most to stop once asked: its jobs' runners
# and the pieces being made get 5 s each (wiring.STOP_WAIT_S), the store the rest.
WORKER_STOP_SECONDS = 15

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="sayfile: text in, audio file out, offline (espeak-ng and Piper voices).",
)
_err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command()
def voices(
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Only voices for this language.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    languages: Annotated[
        bool,
        typer.Option(
            "--languages",
            help="List languages instead: the voice each gets with no hint, whether it is "
            "neural, whether its text is recognised.",
        ),
    ] = False,
) -> None:
    """List the voices: id, engine, language, name, gender, sample rate, quality, and how
    well a speech recognizer understood them (error rate; "hard" when far below the best)."""
    synthesizer = build_synthesizer(_settings())
    if languages:
        _languages(synthesizer.languages.table(), as_json)
        return
    catalogue = synthesizer.catalogue
    found = catalogue.voices(language)
    if language and not found:
        try:
            catalogue.resolve(language=language)
        except SayfileError as exc:
            raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([v.public() for v in found], ensure_ascii=False, indent=2))
        return
    # Ids are what people copy: never cut or wrapped, however narrow the terminal.
    width = max((len(v.id) for v in found), default=2)
    table = Table(
        Column("id", no_wrap=True, min_width=width, overflow="ignore"),
        "engine",
        "language",
        "name",
        "gender",
        "rate",
        "quality",
        "heard",
    )
    for v in found:
        heard = "".join(f"{m} {e:.2f}" for m, e in v.heard.public().items()) if v.heard else ""
        if v.hard_to_understand:
            heard += " (hard to understand)"
        table.add_row(
            v.id,
            v.engine,
            v.language,
            v.name,
            v.gender or "",
            str(v.sample_rate),
            v.quality.name,
            heard,
        )
    Console().print(table)


def _voices(plan: SpeechPlan) -> str:
    """The voice that spoke, or the voices sentences in several languages went to."""
    return f"voices {', '.join(plan.voices)}" if plan.routed else f"voice {plan.voice.id}"


def _languages(rows: list[LanguageVoice], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([row.public() for row in rows], ensure_ascii=False, indent=2))
        return
    table = Table("language", Column("voice", no_wrap=True), "neural", "recognised")
    for row in rows:
        table.add_row(
            row.language, row.voice, "yes" if row.neural else "", "yes" if row.detected else ""
        )
    Console().print(table)


@app.command()
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
        str | None, typer.Option("--voice", "-v", help="Voice id, e.g. piper:en_US-joe-medium.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Pick the best voice for a language.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="mp3, opus, aac, m4b (an audiobook: chapters for books), flac, wav or pcm "
            "(24 kHz s16le).",
        ),
    ] = None,
    speed: Annotated[float, typer.Option("--speed", "-s", help="0.25 to 4.0.")] = 1.0,
    loudness: Annotated[
        str | None,
        typer.Option(help="Loudness in LUFS (-70 to -5) or 'off'. Default: -16 (EBU R128)."),
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
    content, book = _read_text(text, file, chapters)
    if book is not None:
        # A book file is read by its own reader: chapter-marked SSML, or one chapter's text.
        text_format = "ssml" if looks_like_ssml(content) else "plain"
    implied = None
    if output is not None and str(output) != "-":
        implied = format_for_path(output)
        if implied is None and fmt is None:
            raise _fail(f"cannot tell the format from {output.name!r}; add --format.")
        if implied and fmt and implied.name != fmt.lower():
            raise _fail(f"--format {fmt} does not match the output name {output.name!r}.")
    settings = _settings()
    synthesizer = build_synthesizer(settings)
    try:
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
        name = title_stem(book.title) if book else stem_for(plan.words)
        target = output or Path(f"{name}.{plan.format.extension}")
        show = not quiet and len(plan.words) >= _PROGRESS_FROM_CHARS
        pace = PaceBook()
        started = time.monotonic()

        def left(fraction: float) -> str:
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
            console=_err,
            disable=not show,
            transient=False,
        ) as bar:
            task = bar.add_task(f"{plan.voice.id} → {target}", total=1.0, left=left(0.0))

            async def report(fraction: float) -> None:
                bar.update(task, completed=fraction, left=left(fraction))

            result = asyncio.run(_speak(synthesizer, plan, target, report))
    except SayfileError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror or exc}.") from None
    finally:
        synthesizer.executor.close()
        synthesizer.catalogue.close()
    marks = chapter_marks_from_timings(result.timings)
    title = book.title if book else stem_for(plan.words)
    if marks and result.bytes and mark_chapters(target, plan.format, marks, title):
        _err.print(f"marked {len(marks)} chapters in {target}", highlight=False)
    if book is not None and result.bytes:
        info = book.book.info
        cover = info.cover.data if info.cover else None
        tag_book(target, plan.format, BookTags(title, info.author, info.language, info.year, cover))
    if result.bytes:
        _err.print(
            f"wrote {target} ({clock(result.duration_s)} of audio, {result.bytes:,} bytes, "
            f"{_voices(plan)})",
            highlight=False,
        )
    # Beside the audio; beside where it would be for standard output.
    stem = target if str(target) != "-" else Path(stem_for(plan.words))
    for wanted, extension, render in ((srt_file, "srt", srt), (vtt_file, "vtt", vtt)):
        if wanted:
            subtitles = stem.with_suffix(f".{extension}")
            try:
                subtitles.write_text(render(cues(result.timings)), encoding="utf-8")
            except OSError as exc:
                raise _fail(f"cannot write {subtitles}: {exc.strerror or exc}.") from None
            _err.print(f"wrote {subtitles}", highlight=False)


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


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise _fail(f"invalid settings: {exc}") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="SAYFILE_HOST", help="Address to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="SAYFILE_PORT", help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="SAYFILE_DATA_DIR", help="Folder for job records and audio."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            envvar="SAYFILE_WORKERS",
            min=1,
            help="API processes. More than one needs SAYFILE_STORE_URL (Redis) so they share "
            "job records.",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(envvar="SAYFILE_LOG_LEVEL")] = "info",
) -> None:
    """Serve the web page and HTTP API (uvicorn)."""
    import os

    import uvicorn

    from sayfile.logs import log_config

    # Settings are read from the environment inside the app factory, so flags go there too.
    os.environ["SAYFILE_HOST"] = host
    os.environ["SAYFILE_PORT"] = str(port)
    if data_dir is not None:
        os.environ["SAYFILE_DATA_DIR"] = str(data_dir)
    try:
        settings = Settings()
    except ValueError as exc:
        raise _fail(f"invalid settings: {exc}") from None
    if workers > 1 and not settings.store_url:
        raise _fail(
            "--workers above 1 needs SAYFILE_STORE_URL=redis://... so the processes share job "
            "records (and usually SAYFILE_QUEUE_URL for synthesis workers)."
        )
    from sayfile.api.http_protocol import HEAD_TIMEOUT_ENV, MAX_HEAD_ENV, BoundedHttpToolsProtocol

    os.environ[MAX_HEAD_ENV] = str(settings.max_header_bytes)
    os.environ[HEAD_TIMEOUT_ENV] = str(settings.header_timeout_seconds)
    uvicorn.run(
        # With one process the app runs in this one; with more, in child processes that must
        # not outlive uvicorn's supervisor.
        "sayfile.app:worker_app" if workers > 1 else "sayfile.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(settings.log_format, log_level),
        # Access lines come from sayfile (route templates, never job ids in paths), and
        # X-Forwarded-For is trusted only per SAYFILE_TRUSTED_PROXIES.
        access_log=False,
        proxy_headers=False,
        # Bounds on a request's head that uvicorn's own protocol lacks.
        http=BoundedHttpToolsProtocol,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
        workers=workers,
    )


@app.command()
def worker(
    processes: Annotated[
        int,
        typer.Option(envvar="SAYFILE_WORKER_PROCESSES", min=1, help="Synthesis processes."),
    ] = 2,
    log_level: Annotated[str, typer.Option(envvar="SAYFILE_LOG_LEVEL")] = "INFO",
) -> None:
    """Run synthesis worker processes for SAYFILE_QUEUE_URL (Taskiq); each loads its voices
    once and synthesizes one job at a time, SAYFILE_PARALLEL_SENTENCES sentences at once
    (unset: the machine's cores shared out between the processes). Dead processes are
    restarted."""
    import os

    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker

    from sayfile.queue.taskiq import parallel_sentences_per_process
    from sayfile.supervision import SUPERVISOR_ENV

    try:
        settings = Settings()
    except ValueError as exc:
        raise _fail(f"invalid settings: {exc}") from None
    if not settings.queue_url or not settings.store_url:
        raise _fail("`sayfile worker` needs SAYFILE_QUEUE_URL and SAYFILE_STORE_URL (redis://).")
    # The worker processes read their settings from the environment they inherit.
    os.environ["SAYFILE_PARALLEL_SENTENCES"] = str(
        parallel_sentences_per_process(settings, processes)
    )
    # ...and go when this process goes, even if it is killed (see supervision.py).
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    status = run_worker(
        WorkerArgs(
            broker="sayfile.worker:worker_broker",
            modules=[],
            workers=processes,
            max_async_tasks=settings.worker_jobs,
            max_prefetch=0,
            log_level=log_level.upper(),  # type: ignore[arg-type]
            # On SIGTERM the jobs running are stopped at their current piece by the
            # broker's shutdown (queue/taskiq.py), not waited for: a book's part can take
            # minutes. Its bound: WORKER_STOP_SECONDS.
            wait_tasks_timeout=0,
            shutdown_timeout=WORKER_STOP_SECONDS,
        )
    )
    raise typer.Exit(status or 0)


# Files read as books (chapters and all) rather than as plain text: the same reader as
# uploads over HTTP.
_BOOKS = frozenset({".epub", ".md", ".markdown", ".txt", ".text"})


@dataclass(frozen=True, slots=True)
class _ChosenBook:
    title: str
    book: Book


def _read_text(
    text: str | None, file: Path | None, chapters: str | None = None
) -> tuple[str, _ChosenBook | None]:
    """What to say, and the book it comes from (None for text that is not a book file)."""
    if (text is None) == (file is None):
        raise _fail("give the text as an argument, '-' for standard input, or --file PATH.")
    try:
        if file is not None and file.suffix.lower() in _BOOKS and not _is_ssml_file(file):
            # The command line has no character limit.
            book = open_book(file, file.name, max_chars=None)
            if book.encoding not in (None, "utf-8"):
                _err.print(f"read {file.name!r} as {book.encoding}", highlight=False)
            chosen = choose_chapters(book.chapters, chapters)
            spoken = [chapter for chapter in chosen if not chapter.skipped]
            skipped = len(chosen) - len(spoken)
            if skipped:
                _err.print(
                    f"skipping {skipped} of {len(chosen)} chapters (see `sayfile chapters "
                    f"{file}`; --chapters chooses)",
                    highlight=False,
                )
            title = book.info.title or title_of(file.name, spoken)
            # A text of one chapter is said as it is, without a chapter mark.
            content = book_ssml(spoken) if len(spoken) > 1 else spoken[0].text
            return content, _ChosenBook(title, book)
        if chapters is not None:
            raise _fail("--chapters needs a book: --file with .epub, .md or .txt.")
        if file is not None:
            return _decoded(file.read_bytes(), repr(file.name)), None
        if text == "-":
            return _decoded(sys.stdin.buffer.read(), "Standard input"), None
    except InvalidInput as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}.") from None
    assert text is not None
    return text, None


def _is_ssml_file(file: Path) -> bool:
    """Whether a text file holds an SSML document, which is said as SSML, not as a book."""
    if file.suffix.lower() not in (".txt", ".text"):
        return False
    with file.open("rb") as start:
        head = start.read(4096).decode("utf-8", "replace")
    return looks_like_ssml(head)


@app.command("chapters")
def list_chapters(
    file: Annotated[Path, typer.Argument(help="A book: .epub, .md or .txt.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List a book's chapters as `say --chapters` numbers them: number, title, characters,
    and whether it is skipped by default (front matter: cover, title page, copyright,
    contents)."""
    try:
        book = open_book(file.read_bytes(), file.name)
    except InvalidInput as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}.") from None
    chapters = choose_chapters(book.chapters, None)
    rows = [
        {"number": n, "title": c.title, "chars": len(c.text), "skipped": c.skipped}
        for n, c in enumerate(chapters, 1)
    ]
    if as_json:
        info = book.info
        data = {
            "title": info.title or title_of(file.name, chapters),
            "author": info.author,
            "language": info.language,
            "year": info.year,
            "cover": info.cover is not None,
            "chapters": rows,
        }
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table("#", Column("title", overflow="fold"), "chars", "skipped")
    for row in rows:
        table.add_row(
            str(row["number"]),
            str(row["title"]),
            f"{row['chars']:,}",
            "yes" if row["skipped"] else "",
        )
    Console().print(table)


def _decoded(data: bytes, what: str) -> str:
    """Text in the encoding it was written in (the decoder HTTP uses too); says which, when
    it is not UTF-8."""
    decoded = decode_text(data, what=what)
    if decoded.encoding != "utf-8":
        _err.print(f"read {what} as {decoded.encoding}", highlight=False)
    return decoded.text


def main() -> None:
    app()
