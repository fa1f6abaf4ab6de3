"""Speech engines by name, imported only when used."""

from __future__ import annotations

from sayfile.engines.base import Engine
from sayfile.settings import Settings


def build_engines(settings: Settings) -> list[Engine]:
    """The engines sayfile runs, best quality first; nothing is loaded until asked."""
    from sayfile.engines.espeak import EspeakEngine
    from sayfile.engines.piper import PiperEngine

    return [
        PiperEngine(settings.voices_dir, threads=settings.synthesis_threads),
        EspeakEngine(settings.espeak_command),
    ]


__all__ = ["Engine", "build_engines"]
