"""Kokoro's onnxruntime sessions and their options: the shared session every sentence runs
on (one intra-op thread per call, so that sentences run side by side), and the session a
stream's first piece runs on, with several threads, so that someone waiting hears the first
words sooner (bench/first_byte.py measures the two against each other)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sayfile.engines.kokoro_run import KokoroRun


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
