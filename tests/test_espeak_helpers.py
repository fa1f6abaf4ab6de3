"""espeak-ng through its library in helpers kept running: the command's samples exactly, and
helpers that hang, crash or end are killed or dropped, never waited on for ever."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sayfile.engines.espeak import EspeakEngine
from sayfile.engines.espeak_helpers import EspeakHelpers
from sayfile.errors import EngineError, EngineTimeout
from sayfile.models import Voice

pytestmark = pytest.mark.slow


def _voice(engine: EspeakEngine, voice_id: str) -> Voice:
    return next(voice for voice in engine.voices() if voice.id == voice_id)


@contextlib.contextmanager
def _helped(timeout: float, *options: str) -> Iterator[tuple[EspeakEngine, EspeakHelpers, Voice]]:
    """An engine whose helpers take the test hooks `options`, its helpers and en-us."""
    engine = EspeakEngine(timeout=timeout, helper_options=options)
    assert engine.helpers is not None
    try:
        yield engine, engine.helpers, _voice(engine, "espeak:en-us")
    finally:
        engine.close()


def _gone(pid: int) -> bool:
    """Whether no process of `pid`'s group is left (the helper and the child it forked)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_library_gives_the_commands_samples_piece_after_piece_in_one_helper() -> None:
    library, command = EspeakEngine(), EspeakEngine(library=False)
    assert library.helpers is not None and command.helpers is None
    try:
        for voice_id, text, speed in [
            ("espeak:en-us", "Good morning, Dr. Smith: 42 apples!", 1.0),
            ("espeak:ru", "Привет, мир! Как дела сегодня?", 1.0),
            ("espeak:en-us", "Good morning, Dr. Smith: 42 apples!", 2.0),
            ("espeak:en-us", "Slowly now.", 0.3),  # below 80 wpm: stretched after
        ]:
            voice = _voice(library, voice_id)
            samples, words = library.synthesize_timed(voice, text, speed)
            expected = command.synthesize(voice, text, speed)
            assert samples.shape == expected.shape and np.array_equal(samples, expected)
            assert words is not None and len(words) >= 2
            assert all(end <= samples.size for _, _, _, end in words)
        # One helper said them all, each from the library as it was first loaded.
        assert library.helpers.started == 1
    finally:
        library.close()
        command.close()


def test_a_helper_that_hangs_is_killed_at_the_timeout_and_the_next_call_starts_afresh() -> None:
    with _helped(2.0, "--hang-on", "Hang here.") as (engine, helpers, voice):
        engine.synthesize(voice, "Good.", 1.0)
        (first,) = helpers.waiting
        with pytest.raises(EngineTimeout, match="helper was killed"):
            engine.synthesize(voice, "Hang here.", 1.0)
        assert helpers.killed == [first] and _gone(first)
        samples = engine.synthesize(voice, "Good.", 1.0)
        assert samples.size > 0 and helpers.started == 2 and helpers.waiting != [first]


def test_a_crash_of_the_library_or_a_missing_voice_fails_the_piece_and_keeps_the_helper() -> None:
    with _helped(10.0, "--crash-on", "Crash here.") as (engine, helpers, voice):
        with pytest.raises(EngineError, match="ended with"):
            engine.synthesize(voice, "Crash here.", 1.0)
        gone = dataclasses.replace(voice, locator="gmw/no-such-voice")
        with pytest.raises(EngineError, match="voice file did not load") as failed:
            engine.synthesize(gone, "Good.", 1.0)
        assert "gmw/" not in str(failed.value)  # the voice's file is not the users' business
        assert engine.synthesize(voice, "Good.", 1.0).size > 0 and helpers.started == 1


def test_a_helper_that_ends_fails_the_piece_and_the_next_starts_a_new_one() -> None:
    with _helped(10.0, "--die-on", "Die here.") as (engine, helpers, voice):
        engine.synthesize(voice, "Good.", 1.0)
        (first,) = helpers.waiting
        with pytest.raises(EngineError, match="helper ended"):
            engine.synthesize(voice, "Die here.", 1.0)
        assert _gone(first)
        assert engine.synthesize(voice, "Good.", 1.0).size > 0 and helpers.started == 2


def test_helpers_end_when_their_pipe_closes() -> None:
    engine = EspeakEngine()
    assert engine.helpers is not None
    engine.synthesize(_voice(engine, "espeak:en-us"), "Good.", 1.0)
    (pid,) = engine.helpers.waiting
    engine.close()  # closes their stdin, as sayfile's end does, and waits for them
    assert _gone(pid)


@pytest.mark.parametrize("hung", [False, True])
def test_helpers_end_when_sayfile_ends_without_closing_them(hung: bool) -> None:
    """A process that dies without a word (as sayfile killed): its helpers read their pipe's
    end and go, a helper waiting on a hung piece too, with that piece's child."""
    program = (
        "import os, threading, time\n"
        "from sayfile.engines.espeak import EspeakEngine\n"
        "engine = EspeakEngine(helper_options=('--hang-on', 'Hang here.'))\n"
        "voice = next(v for v in engine.voices() if v.id == 'espeak:en-us')\n"
        "engine.synthesize(voice, 'Good.', 1.0)\n"
        "print(engine.helpers.waiting[0], flush=True)\n"
        f"if {hung}:\n"
        "    hang = lambda: engine.synthesize(voice, 'Hang here.', 1.0)\n"
        "    threading.Thread(target=hang, daemon=True).start()\n"
        "    while engine.helpers.waiting:\n"
        "        time.sleep(0.01)\n"
        "os._exit(0)\n"
    )
    ended = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(ended.stdout)
    deadline = time.monotonic() + 10
    while _left(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _left(pid)


def _left(group: int) -> list[int]:
    """The processes of `group` still running (not only waiting to be reaped: their parent
    was the ended process)."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            left.append(int(stat.parent.name))
    return left
