"""What every `sayfile` command shares: the error stream notes and failures go to, a failure
as one line and exit status 2, and the settings read from the environment."""

from __future__ import annotations

import typer
from rich.console import Console

from sayfile.settings import Settings

# Notes, progress and errors; standard output is left for the audio ('-') and for JSON.
err = Console(stderr=True)


def error_exit(message: str) -> typer.Exit:
    """Print `message` as an error on one line; return the exit (status 2) to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def settings_or_exit() -> Settings:
    """The settings from SAYFILE_* variables, or an error exit naming what is wrong."""
    try:
        return Settings()
    except ValueError as exc:
        raise error_exit(f"invalid settings: {exc}") from None
