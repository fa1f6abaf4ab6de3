"""Engines that say each sentence once: for tests that make the same speech again and again
(the same paragraph in every format), so the engine's seconds are paid once, not per format.
What they remember is the real engine's output, handed back as a copy."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from sayfile.audio.formats import Samples
from sayfile.engines.base import Engine, WordSpan
from sayfile.models import Voice

T = TypeVar("T")

Said = tuple[Samples, list[WordSpan] | None]


def _copied(made: Any) -> Any:
    """A copy of an engine's answer (samples, or samples and words), so that no caller can
    change what the next one is given."""
    if made is None:
        return None
    if isinstance(made, tuple):
        samples, words = made
        return samples.copy(), None if words is None else list(words)
    return made.copy()


class RememberingEngine:
    """`engine`, whose calls are made once for each voice, text and way of saying it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.name = engine.name
        self.join_below = engine.join_below
        self._said: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self.calls = 0
        """Calls the engine made (not those answered from memory)."""

    def _once(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._said:
                return _copied(self._said[key])  # type: ignore[no-any-return]
        made = make()
        with self._lock:
            self.calls += 1
            self._said[key] = _copied(made)
        return made

    def voices(self) -> list[Voice]:
        return self._engine.voices()

    def blend(self, parts: Sequence[tuple[Voice, int]]) -> Voice | None:
        blend: Callable[..., Voice | None] | None = getattr(self._engine, "blend", None)
        return None if blend is None else blend(parts)

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        key = ("plain", voice.id, text, speed)
        return self._once(key, lambda: self._engine.synthesize(voice, text, speed))

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> Said:
        key = ("timed", voice.id, text, speed, first, follows)
        timed: Callable[..., Said] = self._engine.synthesize_timed  # type: ignore[attr-defined]
        return self._once(key, lambda: timed(voice, text, speed, first, follows))

    def synthesize_first(self, voice: Voice, text: str, speed: float) -> Samples:
        return self.synthesize_timed(voice, text, speed, first=True)[0]

    def synthesize_pronounced(
        self, voice: Voice, text: str, speed: float, pronounced: Sequence[Any]
    ) -> Said | None:
        key = ("pronounced", voice.id, text, speed, repr(list(pronounced)))
        said: Callable[..., Said | None] = self._engine.synthesize_pronounced  # type: ignore[attr-defined]
        return self._once(key, lambda: said(voice, text, speed, pronounced))

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        key = ("phonemes", voice.id, phonemes, alphabet, speed)
        return self._once(
            key, lambda: self._engine.speak_phonemes(voice, phonemes, alphabet, speed)
        )

    def close(self) -> None:
        """Nothing: the engine is its owner's, closed by it."""
