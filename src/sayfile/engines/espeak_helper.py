"""The helper program that speaks through espeak-ng's C library and reports where each word
is heard: run as a script (`python -I -S espeak_helper.py`, standard library only, so it
starts in milliseconds), it loads the library once, then serves one request at a time on its
stdin and stdout until stdin closes.

espeak-ng keeps state between calls: a second sentence said in one process differs by a few
samples from the command's, and ending and starting the library again hangs (1.51). So the
helper never speaks itself: it initializes the library, and each request is said by a child
forked from that untouched state, which gives the command's samples exactly. The child's
answer goes through the helper, which checks that the child ended well before passing it on.

Request: `<IiI` (voice name length, words per minute, text length in bytes), the voice name
(an espeak-ng voice file, as `espeak-ng -v` takes it), the text (UTF-8).
Answer: `<iII` (status, samples' length in bytes, number of words), the samples (int16,
little-endian, mono at the library's rate), then `<iii` per word (its first character's
index in the text, counted in characters from 1 as espeak-ng does; its length in characters;
the sample where it begins). Status 0 is success; otherwise the samples are a UTF-8 message.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import struct
import sys

_LIBRARY = "libespeak-ng.so.1"  # as Debian installs it (espeak_helpers.LIBRARY)
_REQUEST = struct.Struct("<IiI")
_ANSWER = struct.Struct("<iII")
_WORD = struct.Struct("<iii")
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples handed to the callback, nothing played
_RATE = 1  # espeakRATE
# espeak-ng's command's flags: UTF-8 text, [[phonemes]] read as such, a pause at the end.
_FLAGS = 0x1 | 0x100 | 0x1000
_POS_CHARACTER = 1
_EVENT_END_OF_LIST = 0
_EVENT_WORD = 1
_FAILED, _NO_VOICE = 1, 2


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _read(fd: int, size: int) -> bytes | None:
    """Exactly `size` bytes from `fd`; None at its end."""
    parts = []
    while size:
        part = os.read(fd, size)
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _failure(status: int, message: str) -> bytes:
    text = message.encode("utf-8")
    return _ANSWER.pack(status, len(text), 0) + text


class _Library:
    """libespeak-ng, initialized once for synchronous output."""

    def __init__(self) -> None:
        self._lib = ctypes.CDLL(_LIBRARY)
        self._lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        if self._lib.espeak_Initialize(_SYNCHRONOUS, 0, None, 0) <= 0:
            raise OSError("espeak_Initialize failed")
        self._samples: list[bytes] = []
        self._words: list[bytes] = []
        self._callback = _Callback(self._heard)  # kept: the library holds only a pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    def _heard(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0 and wav:
            self._samples.append(ctypes.string_at(wav, count * 2))
        at = 0
        while events[at].type != _EVENT_END_OF_LIST:
            event = events[at]
            if event.type == _EVENT_WORD:
                self._words.append(_WORD.pack(event.text_position, event.length, event.sample))
            at += 1
        return 0  # go on

    def say(self, voice: bytes, wpm: int, text: bytes) -> bytes:
        """The answer for one request (run in a forked child: the library's state is lost)."""
        if self._lib.espeak_SetVoiceByName(voice) != 0:
            return _failure(_NO_VOICE, "its voice file did not load")
        self._lib.espeak_SetParameter(_RATE, wpm, 0)
        if self._lib.espeak_Synth(text, len(text) + 1, 0, _POS_CHARACTER, 0, _FLAGS, None, None):
            return _failure(_FAILED, "espeak_Synth failed")
        samples = b"".join(self._samples)
        return _ANSWER.pack(0, len(samples), len(self._words)) + samples + b"".join(self._words)


class _Hooks:
    """What tests make the helper do on a given text: a child that never answers (`hang`), a
    child that crashes (`crash`), the helper itself gone (`die`)."""

    def __init__(self, argv: list[str]) -> None:
        options = dict(zip(argv[::2], argv[1::2], strict=False))
        self.hang = options.get("--hang-on", "").encode("utf-8") or None
        self.crash = options.get("--crash-on", "").encode("utf-8") or None
        self.die = options.get("--die-on", "").encode("utf-8") or None


def _child(library: _Library, hooks: _Hooks, voice: bytes, wpm: int, text: bytes, out: int) -> None:
    if text == hooks.hang:
        signal.pause()
    if text == hooks.crash:
        os.abort()
    _write(out, library.say(voice, wpm, text))


def _relayed(child: int, pipe: int) -> bytes | None:
    """The child's whole answer, once it has ended well; an answer saying why otherwise. None
    when this helper's own stdin closed meanwhile (sayfile is gone): the child is killed."""
    parts = []
    while True:
        ready, _, _ = select.select([pipe, 0], [], [])
        if 0 in ready and not os.read(0, 1):
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            return None
        if pipe in ready:
            part = os.read(pipe, 1 << 16)
            if not part:
                break
            parts.append(part)
    _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return _failure(_FAILED, f"espeak-ng ended with {os.waitstatus_to_exitcode(status)}")
    return b"".join(parts)


def _ended_by(child: list[int]) -> None:
    """On SIGTERM (sayfile gave up waiting), the helper ends, and the child it waits on
    first: both are gone, none left for another process to reap."""

    def end(signum: int, frame: object) -> None:
        if child:
            os.kill(child[0], signal.SIGKILL)
            os.waitpid(child[0], 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, end)


def serve(argv: list[str]) -> int:
    """Answer requests on stdin until it closes."""
    hooks = _Hooks(argv)
    library = _Library()
    running: list[int] = []  # the child saying the current request
    _ended_by(running)
    while True:
        head = _read(0, _REQUEST.size)
        if head is None:
            return 0
        voice_length, wpm, text_length = _REQUEST.unpack(head)
        body = _read(0, voice_length + text_length)
        if body is None:
            return 0
        voice, text = body[:voice_length], body[voice_length:]
        if text == hooks.die:
            return 70
        pipe, out = os.pipe()
        # The library's own thread (its queue for asynchronous speech) only waits: synchronous
        # output never hands it anything, so a child without it lacks nothing.
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(pipe)
            code = 1
            try:
                _child(library, hooks, voice, wpm, text, out)
                code = 0
            finally:
                os._exit(code)
        running.append(child)
        os.close(out)
        answer = _relayed(child, pipe)
        running.clear()
        os.close(pipe)
        if answer is None:
            return 0
        _write(1, answer)


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
