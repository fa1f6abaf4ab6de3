"""An engine whose calls hang, for tests and the fault suite: beeps like the `tone` engine,
but a piece containing the word HANG (or, in a real process, the first call after a file
named by SAYFILE_TEST_HANG_FILE appears) blocks until released, holding the instance's
lock as a stuck model would. Never one of sayfile's engines: it is registered by the tests,
or by running this file as `sayfile` (`python tests/hanging.py worker ...`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from sayfile.audio.formats import Samples
from sayfile.engines import ENGINES, Engine
from sayfile.engines.tone import ToneEngine
from sayfile.models import Quality, Voice
from sayfile.settings import Settings

HANG_FILE_ENV = "SAYFILE_TEST_HANG_FILE"
VOICE = "hang:beep"
SLOW_VOICE = "hang:slow"


class HangingEngine:
    """`hang:beep` and `hang:slow`. `release` ends every hang (never set: hangs for good);
    `hang_file`, when given and present, is taken (deleted) by the one call that hangs."""

    name = "hang"
    join_below = 0

    def __init__(self, release: threading.Event, hang_file: Path | None = None) -> None:
        self._release = release
        self._hang_file = hang_file
        self._tone = ToneEngine()
        self._lock = threading.Lock()  # one call at a time, as a model held by a lock
        self.calls = 0

    def voices(self) -> list[Voice]:
        # `hang:slow` takes 50 ms a piece, as tone's `Slow beep` does (its name says so).
        return [
            Voice(VOICE, "hang", "Beep", "zxx", 16_000, Quality.formant, priority=1),
            Voice(SLOW_VOICE, "hang", "Slow beep", "zxx", 16_000, Quality.formant, priority=2),
        ]

    def _hangs(self, text: str) -> bool:
        if "HANG" in text.split():
            return True
        if self._hang_file is None:
            return False
        try:
            self._hang_file.unlink()  # only one call takes it
        except FileNotFoundError:
            return False
        return True

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        with self._lock:
            self.calls += 1
            if self._hangs(text):
                self._release.wait()
            return self._tone.synthesize(voice, text.replace("HANG", "hang"), speed)

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None

    def close(self) -> None:
        return None


def hanging_engines(
    release: threading.Event,
) -> tuple[Callable[[Settings], Engine], list[HangingEngine]]:
    """A builder for ENGINES["hang"], and the instances it makes, in order (a new one after
    each time-out)."""
    made: list[HangingEngine] = []

    def build(settings: Settings) -> Engine:
        hang_file = os.environ.get(HANG_FILE_ENV)
        engine = HangingEngine(release, Path(hang_file) if hang_file else None)
        made.append(engine)
        return engine

    return build, made


if __name__ == "__main__":
    # Never released: a hang lasts until the time-out abandons it.
    ENGINES["hang"] = hanging_engines(threading.Event())[0]
    from sayfile.cli import main

    main()
