"""Speech engines by name (SAYFILE_ENGINES), imported only when used: Kokoro, Piper, espeak-ng
and the test tone, each behind one interface and one time box.

May import: audio/ and the shared top-level modules."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sayfile.engines.base import Engine
from sayfile.engines.bounded import BoundedEngine
from sayfile.settings import Settings


def _piper(settings: Settings) -> Engine:
    from sayfile.engines.piper import PiperEngine

    return PiperEngine(
        settings.voices_dir,
        threads=settings.synthesis_threads,
        max_loaded=settings.max_loaded_voices,
    )


def _espeak(settings: Settings) -> Engine:
    from sayfile.engines.espeak import EspeakEngine

    return EspeakEngine(settings.espeak_command, settings.engine_timeout_seconds)


def _kokoro(settings: Settings) -> Engine:
    from sayfile.engines.kokoro import KokoroEngine

    return KokoroEngine(
        settings.kokoro_dir, settings.synthesis_threads, settings.first_piece_threads
    )


def _tone(settings: Settings) -> Engine:
    from sayfile.engines.tone import ToneEngine

    return ToneEngine()


ENGINES: dict[str, Callable[[Settings], Engine]] = {
    "kokoro": _kokoro,
    "piper": _piper,
    "espeak": _espeak,
    "tone": _tone,
}


def build_engines(settings: Settings) -> list[Engine]:
    """The engines SAYFILE_ENGINES names, best quality first, each call time-boxed
    (`BoundedEngine`); nothing is loaded until asked. Raises ValueError naming the known
    engines for an unknown one."""
    unknown = [name for name in settings.engines if name not in ENGINES]
    if unknown:
        raise ValueError(
            f"SAYFILE_ENGINES: unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}"
        )
    return [
        BoundedEngine(functools.partial(ENGINES[name], settings), settings.engine_timeout_seconds)
        for name in settings.engines
    ]


__all__ = ["ENGINES", "BoundedEngine", "Engine", "build_engines"]
