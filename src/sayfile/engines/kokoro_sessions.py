"""Kokoro's sessions and their options: the shared session every sentence runs on (one thread
per call, so that sentences run side by side), and the session a stream's first piece runs on,
with several threads, so that someone waiting hears the first words sooner (bench/first_byte.py
measures the two against each other). Either runtime, by SAYFILE_KOKORO_RUNTIME: onnxruntime on
the int8 timed model, or OpenVINO on the float one in bfloat16 (engines/kokoro_openvino.py;
bench/kokoro_openvino.py measures them)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sayfile.engines.kokoro_run import KokoroRun

RUNTIMES = ("onnxruntime", "openvino")


def session_options(threads: int) -> Any:
    """onnxruntime's options for a Kokoro session with `threads` intra-op threads
    (bench/kokoro_profile.py measures them against others)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Threads that spin while idle steal the other sentence's core on a small machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def kokoro_model(model: Path, styles: Path, options: Any) -> Any:
    """kokoro-onnx's `Kokoro` over a new session of `model` (the timed one) with `options`
    (`session_options`), its voices' styles read from `styles`; `.timed` runs the session
    itself, giving each phoneme's place in the audio (engines/kokoro_run.py)."""
    # onnxruntime queues telemetry for upload unless told not to before its import.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime
    from kokoro_onnx import Kokoro

    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    kokoro = Kokoro.from_session(session, str(styles))
    kokoro.timed = KokoroRun(session, kokoro.tokenizer.vocab)
    return kokoro


@dataclass(frozen=True, slots=True)
class KokoroRuntime:
    """Which runtime Kokoro's sessions run on (one of RUNTIMES), and where OpenVINO keeps its
    compiled model (None: compiled anew by every process)."""

    name: str = "onnxruntime"
    cache: Path | None = None

    def load(self, timed: Path, styles: Path, threads: int, options: Callable[[int], Any]) -> Any:
        """A session of `timed` (the int8 timed model; OpenVINO's float one is made beside
        it) on `threads` threads, with `options(threads)` for onnxruntime."""
        if self.name == "openvino":
            from sayfile.engines.kokoro_float_model import float_model

            return OpenVinoKokoro(float_model(timed), styles, threads, self.cache)
        return kokoro_model(timed, styles, options(threads))


class OpenVinoKokoro:
    """What sayfile uses of kokoro-onnx's `Kokoro` (its tokenizer, the voices' styles, and
    `.timed`), over `model` (the float timed model) compiled by OpenVINO for `threads`
    threads, its compiled form kept in `cache`."""

    def __init__(self, model: Path, styles: Path, threads: int, cache: Path | None) -> None:
        from kokoro_onnx.tokenizer import Tokenizer

        from sayfile.engines.kokoro_openvino import OpenVinoSession

        # The model carries no vocabulary of its own: kokoro-onnx's default is the one
        # onnxruntime's path takes too.
        self.tokenizer = Tokenizer()
        self.voices = np.load(styles)
        self.timed = KokoroRun(OpenVinoSession(model, threads, cache), self.tokenizer.vocab)

    def get_voice_style(self, name: str) -> Any:
        return self.voices[name]


class CallsRunning:
    """How many of an engine's calls run at this moment. A stream's first piece takes the
    session with several threads only when no other call runs: beside other sentences every
    core is taken already, and the extra threads only wait for them (docs/benchmarks.md,
    'First byte')."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def one(self) -> Iterator[int]:
        """Count one call while the block runs; gives how many others ran when it began."""
        with self._lock:
            others = self._count
            self._count += 1
        try:
            yield others
        finally:
            with self._lock:
                self._count -= 1
