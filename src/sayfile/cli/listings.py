"""`sayfile voices` and `sayfile chapters`: the voice catalogue, the languages, and a book's
chapters, as tables or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from sayfile.books.reading import choose_chapters, open_book, title_of
from sayfile.cli.terminal import error_exit, settings_or_exit, synthesizer_or_exit
from sayfile.errors import InvalidInput, SayfileError
from sayfile.text.language_detection import LanguageVoice

# Columns of a table written into a pipe or a file.
_PIPED_WIDTH = 240


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
    synthesizer = synthesizer_or_exit(settings_or_exit())
    if languages:
        _print_languages(synthesizer.languages.table(), as_json)
        return
    catalogue = synthesizer.catalogue
    found = catalogue.voices(language)
    if language and not found:
        try:
            catalogue.resolve(language=language)
        except SayfileError as exc:
            raise error_exit(str(exc)) from None
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
    _out().print(table)


def _print_languages(rows: list[LanguageVoice], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([row.public() for row in rows], ensure_ascii=False, indent=2))
        return
    table = Table("language", Column("voice", no_wrap=True), "neural", "recognised")
    for row in rows:
        table.add_row(
            row.language, row.voice, "yes" if row.neural else "", "yes" if row.detected else ""
        )
    _out().print(table)


def chapters(
    file: Annotated[Path, typer.Argument(help="A book: .epub, .md or .txt.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List a book's chapters as `say --chapters` numbers them: number, title, characters,
    and whether it is skipped by default (front matter: cover, title page, copyright,
    contents)."""
    try:
        book = open_book(file.read_bytes(), file.name)
    except InvalidInput as exc:
        raise error_exit(str(exc)) from None
    except OSError as exc:
        raise error_exit(f"cannot read {file}: {exc.strerror}.") from None
    numbered = choose_chapters(book.chapters, None)
    rows = [
        {"number": n, "title": c.title, "chars": len(c.text), "skipped": c.skipped}
        for n, c in enumerate(numbered, 1)
    ]
    if as_json:
        info = book.info
        data = {
            "title": info.title or title_of(file.name, numbered),
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
    _out().print(table)


def _out() -> Console:
    """Standard output for a table: the terminal's width, or wide enough for any row when the
    table goes into a pipe or a file (rich would cut it to 80 columns: "240…")."""
    return Console() if sys.stdout.isatty() else Console(width=_PIPED_WIDTH)
