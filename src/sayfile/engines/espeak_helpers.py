"""The espeak-ng helpers sayfile keeps running (engines/espeak_helper.py is their program):
one per call running at once, started on first use and kept for the next call; one that does
not answer in time is killed, with whatever it started, and one that fails is dropped, so the
next call starts afresh. Nothing waits for ever. A helper ends by itself when sayfile does
(its stdin closes)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sayfile.errors import EngineError, EngineTimeout
from sayfile.models import Voice

log = logging.getLogger(__name__)

_PROGRAM = Path(__file__).with_name("espeak_helper.py")
# The library's name where Debian installs it (the helper loads it by the same name).
LIBRARY = "libespeak-ng.so.1"
_REQUEST = struct.Struct("<IiI")
_ANSWER = struct.Struct("<iII")
_WORD = struct.Struct("<iii")
# Helpers kept waiting between calls (a few MB each); more start when more calls run at once.
_KEPT = 8
# How long a helper told to end may take before it is killed.
_GRACE = 1.0


@dataclass(frozen=True, slots=True)
class Said:
    """What espeak-ng's library said: its samples (int16 little-endian bytes) and its word
    events, (first character counted from 1, length in characters, first sample) each."""

    samples: bytes
    words: list[tuple[int, int, int]]


class _Failed(Exception):
    """A helper answered that it could not say the text (no such voice, the library failed),
    saying why."""


class _Helper:
    """One running helper: its process (the leader of its own process group, so a kill takes
    the child it forked with it) and a deadline-bound exchange over its pipes."""

    def __init__(self, options: Sequence[str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_PROGRAM), *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self.pid = self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def ask(self, voice: str, wpm: int, text: str, deadline: float) -> Said:
        """The helper's answer; raises TimeoutError past `deadline` (time.monotonic), EOFError
        when it ends or breaks its pipes, _Failed when it says it failed."""
        name, words = voice.encode("utf-8"), text.encode("utf-8")
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(_REQUEST.pack(len(name), wpm, len(words)) + name + words)
            stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise EOFError("the helper is gone") from exc
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            head = self._read(stdout.fileno(), selector, _ANSWER.size, deadline)
            status, size, count = _ANSWER.unpack(head)
            body = self._read(stdout.fileno(), selector, size + count * _WORD.size, deadline)
        if status != 0:
            raise _Failed(body.decode("utf-8", "replace"))
        return Said(
            body[:size], [_WORD.unpack_from(body, size + i * _WORD.size) for i in range(count)]
        )

    @staticmethod
    def _read(fd: int, selector: selectors.BaseSelector, size: int, deadline: float) -> bytes:
        parts = []
        while size:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise TimeoutError
            part = os.read(fd, min(size, 1 << 20))
            if not part:
                raise EOFError("the helper ended")
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def kill(self) -> None:
        """End the helper and the child it may be waiting on: asked (it kills and reaps its
        child, so no process is left unreaped), then, after `_GRACE`, killed with the child."""
        with contextlib.suppress(ProcessLookupError):  # ended already
            self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self._process.wait()
        self._close_pipes()

    def close(self) -> None:
        """Let the helper end by itself (its stdin closes), or end it."""
        self._close_pipes()
        try:
            self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()


class EspeakHelpers:
    """The helpers of one engine instance. `options` go to each helper's command line (tests
    use its hooks)."""

    def __init__(self, timeout: float, options: Sequence[str] = ()) -> None:
        self._timeout = timeout
        self._options = tuple(options)
        self._lock = threading.Lock()
        self._idle: list[_Helper] = []
        self._closed = False
        self._available: bool | None = None
        self.started = 0  # helpers started, for tests and logs
        self.killed: list[int] = []  # pids of helpers killed for not answering

    @property
    def available(self) -> bool:
        """Whether espeak-ng's library is installed (looked for once; loading it here runs
        nothing of it)."""
        if self._available is None:
            try:
                ctypes.CDLL(LIBRARY)
            except OSError:
                log.warning("%s not found: espeak-ng speaks through its command, no words", LIBRARY)
                self._available = False
            else:
                self._available = True
        return self._available

    @property
    def waiting(self) -> list[int]:
        """The pids of the helpers waiting for a call."""
        with self._lock:
            return [helper.pid for helper in self._idle]

    def say(self, voice: Voice, wpm: int, text: str) -> Said:
        """`text` said by `voice` at `wpm` words a minute. Raises EngineTimeout past the
        timeout (the helper is killed) and EngineError when the library fails (the helper is
        kept) or the helper ends (it is dropped)."""
        helper = self._take()
        deadline = time.monotonic() + self._timeout
        try:
            said = helper.ask(voice.locator, wpm, text, deadline)
        except TimeoutError:
            helper.kill()
            self.killed.append(helper.pid)
            raise EngineTimeout(
                f"the engine espeak took longer than {self._timeout:g} s for one piece of text "
                f"in voice {voice.id} (SAYFILE_ENGINE_TIMEOUT_SECONDS); its helper was killed"
            ) from None
        except _Failed as failed:
            self._give_back(helper)  # it answered: it can serve the next call
            log.warning("espeak-ng failed for voice %s: %s", voice.id, failed)
            raise EngineError(f"espeak-ng failed for voice {voice.id} ({failed})") from None
        except EOFError:
            helper.kill()
            log.warning("espeak-ng helper %d ended without answering", helper.pid)
            raise EngineError(f"espeak-ng's helper ended while saying voice {voice.id}") from None
        self._give_back(helper)
        return said

    def _take(self) -> _Helper:
        with self._lock:
            while self._idle:
                helper = self._idle.pop()
                if helper.alive:
                    return helper
                helper.kill()
            self.started += 1
        return _Helper(self._options)

    def _give_back(self, helper: _Helper) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < _KEPT:
                self._idle.append(helper)
                return
        helper.close()

    def close(self) -> None:
        """End every idle helper; those busy end when their call returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.close()
