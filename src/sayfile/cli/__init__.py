"""The `sayfile` command line: say, voices, chapters, serve, worker, wyoming. This module is
the parser (typer) and names each command's module; each command parses its own options
there.

May import anything in sayfile; nothing imports it but `python -m sayfile`."""

from __future__ import annotations

import typer

from sayfile.cli import listings, say, servers


def parser() -> typer.Typer:
    """The `sayfile` command with its six subcommands."""
    app = typer.Typer(
        add_completion=False,
        no_args_is_help=True,
        help="sayfile: text in, audio file out, offline (Kokoro, Piper and espeak-ng voices).",
    )
    app.command()(listings.voices)
    app.command()(say.say)
    app.command()(servers.serve)
    app.command()(servers.worker)
    app.command()(servers.wyoming)
    app.command("chapters")(listings.chapters)
    return app


def main() -> None:
    parser()()
