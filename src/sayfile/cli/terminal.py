"""What every `sayfile` command shares: the error stream notes and failures go to, a failure
as one line and exit status 2, and the settings read from the environment."""

from __future__ import annotations

import typer
from rich.console import Console

from sayfile.errors import InvalidLexicon
from sayfile.settings import Settings
from sayfile.text.lexicon import Lexicon

# Notes, progress and errors; standard output is left for the audio ('-') and for JSON.
err = Console(stderr=True)


def error_exit(message: str) -> typer.Exit:
    """Print `message` as an error on one line; return the exit (status 2) to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def settings_or_exit() -> Settings:
    """The settings from SAYFILE_* variables, or an error exit naming what is wrong: a setting,
    or a file of SAYFILE_LEXICON_DIR that cannot be read (its line), which would otherwise stop
    the command, or the server's start, with a traceback."""
    try:
        settings = Settings()
    except ValueError as exc:
        raise error_exit(f"invalid settings: {exc}") from None
    if settings.lexicon_dir:
        try:
            Lexicon.load(settings.lexicon_dir)
        except InvalidLexicon as exc:
            raise error_exit(str(exc)) from None
    return settings
