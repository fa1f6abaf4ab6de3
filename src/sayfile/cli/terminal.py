"""What every `sayfile` command shares: the error stream notes and failures go to, a failure
as one line and exit status 2, the settings read from the environment, and the synthesizer
or the lexicons they name, checked."""

from __future__ import annotations

import typer
from rich.console import Console

from sayfile.errors import InvalidLexicon
from sayfile.settings import Settings
from sayfile.speech.synthesizer import Synthesizer
from sayfile.text.lexicon import Lexicon
from sayfile.wiring import build_synthesizer

# Notes, progress and errors; standard output is left for the audio ('-') and for JSON.
err = Console(stderr=True)


def error_exit(message: str) -> typer.Exit:
    """Print `message` as an error on one line; return the exit (status 2) to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def settings_or_exit() -> Settings:
    """The settings from SAYFILE_* variables, or an error exit naming the setting that is
    wrong."""
    try:
        return Settings()
    except ValueError as exc:
        raise error_exit(f"invalid settings: {exc}") from None


def synthesizer_or_exit(settings: Settings) -> Synthesizer:
    """The synthesizer a command speaks with, or an error exit naming the file and line of
    SAYFILE_LEXICON_DIR that cannot be read (which would otherwise stop the command with a
    traceback)."""
    try:
        return build_synthesizer(settings)
    except InvalidLexicon as exc:
        raise error_exit(str(exc)) from None


def lexicons_or_exit(settings: Settings) -> None:
    """Before a server starts (its processes build their synthesizers themselves): an error
    exit naming the file and line of SAYFILE_LEXICON_DIR that cannot be read, if one cannot."""
    if settings.lexicon_dir:
        try:
            Lexicon.load(settings.lexicon_dir)
        except InvalidLexicon as exc:
            raise error_exit(str(exc)) from None
