"""The time box on every engine call: a call that runs past SAYFILE_ENGINE_TIMEOUT_SECONDS
raises EngineTimeout, its thread is abandoned, and the engine is replaced by a fresh instance
so that the next calls do not queue behind whatever the stuck one holds."""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sayfile.audio.formats import Samples
from sayfile.engines.base import Blending, Engine, Pronouncing, Pronunciation, WordSpan, WordTimed
from sayfile.errors import EngineTimeout
from sayfile.models import Voice

log = logging.getLogger(__name__)
T = TypeVar("T")
# Call threads kept waiting per engine (more are started when more calls run at once).
_IDLE_THREADS = 8


class _Call(Generic[T]):
    """One engine call on a thread of its own, which the caller may stop waiting for;
    `after` runs on that thread when the call returns, however late."""

    def __init__(self, fn: Callable[[], T], after: Callable[[], None]) -> None:
        self._fn = fn
        self._after = after
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._result = self._fn()
        except BaseException as exc:  # handed to the caller, whatever it is
            self._error = exc
        finally:
            self._done.set()
            self._after()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def result(self) -> T:
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


class _CallThreads:
    """Threads that run calls, kept for the next call once theirs returns (starting a thread
    costs about as much as a short espeak-ng sentence's tenth). Daemon threads: an abandoned
    call must never keep the process from exiting (a ThreadPoolExecutor's threads are
    joined at exit, which is what a SIGTERM would then wait for)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[_Call[Any]]] = []

    def run(self, call: _Call[Any]) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._serve, args=(inbox,), name=self._name, daemon=True
            ).start()
        inbox.put(call)

    def _serve(self, inbox: queue.SimpleQueue[_Call[Any]]) -> None:
        while True:
            call = inbox.get()
            call.run()
            with self._lock:
                if len(self._idle) >= _IDLE_THREADS:
                    return
                self._idle.append(inbox)


class BoundedEngine:
    """An engine whose `synthesize` and `speak_phonemes` each take at most `timeout` seconds.

    The engine is made by `build` (again after a time-out). Calls already running on the old
    instance keep it, and it is closed when the last of them returns, if the stuck one ever
    does; new calls go to the fresh instance (a new onnxruntime session, a new Piper voice;
    espeak-ng's helpers started afresh), which loads its model on first use like the
    first did. `voices()` and `close()` are passed through unbounded: they read files, they
    do not run a model.
    """

    def __init__(self, build: Callable[[], Engine], timeout: float) -> None:
        self._build = build
        self._timeout = timeout
        self._lock = threading.Lock()
        self._engine = build()
        # Calls running per instance (by id), and the instances given up, closed at zero.
        self._running: dict[int, int] = {}
        self._retired: dict[int, Engine] = {}
        self._closed = False
        self._threads = _CallThreads(f"{self._engine.name}-call")
        self.name = self._engine.name
        self.join_below = self._engine.join_below
        self.replaced = 0  # instances given up, for logs and tests

    @property
    def engine(self) -> Engine:
        """The instance new calls go to."""
        with self._lock:
            return self._engine

    def voices(self) -> list[Voice]:
        return self.engine.voices()

    def blend(self, parts: Sequence[tuple[Voice, int]]) -> Voice | None:
        """The engine's mixed voice (Blending), unbounded like `voices()`: it runs no model."""
        engine = self.engine
        return engine.blend(parts) if isinstance(engine, Blending) else None

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        return self._bounded(voice, lambda engine: engine.synthesize(voice, text, speed))

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """The engine's words with their times (WordTimed), bounded like `synthesize`; None
        for the words of an engine that does not time them. A stream's `first` piece goes to
        the engine's quick path where it has one (`synthesize_first`: more threads), with the
        rest of its sentence (`follows`) for an engine that times its words."""

        def said(engine: Engine) -> tuple[Samples, list[WordSpan] | None]:
            if isinstance(engine, WordTimed):
                return engine.synthesize_timed(voice, text, speed, first, follows)
            quick = getattr(engine, "synthesize_first", engine.synthesize) if first else None
            samples: Samples = (quick or engine.synthesize)(voice, text, speed)
            return samples, None

        return self._bounded(voice, said)

    def synthesize_pronounced(
        self, voice: Voice, text: str, speed: float, pronounced: Sequence[Pronunciation]
    ) -> tuple[Samples, list[WordSpan] | None] | None:
        """The engine's sentence with pronunciations in it (Pronouncing), bounded like
        `synthesize`; None for an engine that cannot say them so."""

        def said(engine: Engine) -> tuple[Samples, list[WordSpan] | None] | None:
            if isinstance(engine, Pronouncing):
                return engine.synthesize_pronounced(voice, text, speed, pronounced)
            return None

        return self._bounded(voice, said)

    def synthesize_first(self, voice: Voice, text: str, speed: float) -> Samples:
        """A stream's first piece: `synthesize_timed` with `first`, without the words."""
        return self.synthesize_timed(voice, text, speed, first=True)[0]

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return self._bounded(
            voice, lambda engine: engine.speak_phonemes(voice, phonemes, alphabet, speed)
        )

    def _bounded(self, voice: Voice, fn: Callable[[Engine], T]) -> T:
        with self._lock:
            engine = self._engine
            self._running[id(engine)] = self._running.get(id(engine), 0) + 1
        # The call runs in this context (on its own thread): its step's interruption with it.
        context = contextvars.copy_context()
        call = _Call(lambda: context.run(fn, engine), lambda: self._returned(engine))
        self._threads.run(call)
        if call.wait(self._timeout):
            return call.result()
        self._give_up(engine)
        raise EngineTimeout(
            f"the engine {self.name} took longer than {self._timeout:g} s for one piece of "
            f"text in voice {voice.id} (SAYFILE_ENGINE_TIMEOUT_SECONDS); the call was abandoned"
        )

    def _give_up(self, engine: Engine) -> None:
        with self._lock:
            if self._engine is not engine or self._closed:
                return  # another call that hung on it replaced it already
            self._engine = self._build()
            self.replaced += 1
            returned = id(engine) not in self._running
            if not returned:
                self._retired[id(engine)] = engine
        if returned:  # the late call returned between the time-out and now
            engine.close()
        log.warning(
            "engine %s: a call ran past %g s; abandoned, engine instance replaced",
            self.name,
            self._timeout,
        )

    def _returned(self, engine: Engine) -> None:
        with self._lock:
            left = self._running[id(engine)] - 1
            if left:
                self._running[id(engine)] = left
                return
            del self._running[id(engine)]
            retired = self._retired.pop(id(engine), None)
        if retired is not None:
            try:
                retired.close()
            except Exception:  # a late close that fails must not hide anything else
                log.exception("engine %s: closing an abandoned instance failed", self.name)

    def close(self) -> None:
        """Close the engine now, or, while a call still runs on it (a process stopping with
        a call hung), when that call returns."""
        with self._lock:
            self._closed = True
            engine = self._engine
            if id(engine) in self._running:
                self._retired[id(engine)] = engine
                return
        engine.close()
