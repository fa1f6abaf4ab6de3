"""The parts every process that synthesizes is built from, put together in one place: the
API's lifespan, a `sayfile worker` process and the command line build them here."""

from __future__ import annotations

import contextlib
import gc
import logging
from dataclasses import dataclass

from sayfile.audio.remuxing import RemuxExecutor
from sayfile.engines import build_engines
from sayfile.errors import SayfileError
from sayfile.jobs.events import JobEvents, LocalJobEvents, RedisJobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.runners.book_runner import BookRunner
from sayfile.runners.job_runner import JobRunner
from sayfile.runners.lease import LeaseTerms
from sayfile.settings import Settings
from sayfile.speech.pipeline import Observer
from sayfile.speech.scheduler import SentenceExecutor
from sayfile.speech.synthesizer import Synthesizer
from sayfile.store import JobStore, build_store
from sayfile.store.files import AudioFiles
from sayfile.text.lexicon import Lexicon
from sayfile.voices.catalogue import Catalogue

log = logging.getLogger(__name__)
# How long a stopping process waits for the pieces its sentence threads are making.
STOP_WAIT_S = 5.0


def build_synthesizer(settings: Settings, observer: Observer | None = None) -> Synthesizer:
    """Engines, their catalogue, the configured lexicons and the process's one sentence
    executor (no voice loaded until used). Raises InvalidLexicon for a broken lexicon file."""
    catalogue = Catalogue(build_engines(settings), settings.default_voice)
    executor = SentenceExecutor(settings.parallel_sentences)
    lexicon = Lexicon.load(settings.lexicon_dir) if settings.lexicon_dir else Lexicon()
    return Synthesizer(catalogue, executor, settings.max_sentence_chars, observer, lexicon)


def build_events(settings: Settings) -> JobEvents:
    """Redis pub/sub when job records live in Redis (several processes), else in-process."""
    if settings.store_url:
        return RedisJobEvents(settings.store_url, settings.redis_timeout_seconds)
    return LocalJobEvents()


@dataclass
class Parts:
    """Everything below the service, for one process."""

    settings: Settings
    synthesizer: Synthesizer
    store: JobStore
    events: JobEvents
    lifecycle: JobLifecycle
    files: AudioFiles
    runner: JobRunner
    books: BookRunner
    remux: RemuxExecutor

    @classmethod
    def build(cls, settings: Settings, observer: Observer | None = None) -> Parts:
        synthesizer = build_synthesizer(settings, observer)
        store = build_store(settings)
        events = build_events(settings)
        lifecycle = JobLifecycle(store, events, settings.ttl_seconds)
        files = AudioFiles(settings.data_dir)
        remux = RemuxExecutor()
        runner = JobRunner(
            synthesizer,
            synthesizer.executor,
            lifecycle,
            events,
            files,
            LeaseTerms.of(settings),
            remux,
        )
        books = BookRunner(synthesizer, settings, store, lifecycle, events, files, remux=remux)
        return cls(settings, synthesizer, store, events, lifecycle, files, runner, books, remux)

    async def start(self) -> None:
        await self.events.start()

    async def warm_up(self) -> None:
        """List every voice and load the default one, so the first request pays nothing."""
        synthesizer = self.synthesizer
        try:
            plan = synthesizer.planner.plan_of("Ready.", self.settings.default_voice, "wav", 1.0)
            await synthesizer.warm_up(plan)
            # The language identifier too, so the first text with no voice named pays nothing.
            await synthesizer.executor.run(synthesizer.languages.load)
        except SayfileError as exc:
            # A broken default voice fails its own requests, not the start-up.
            log.warning("the default voice could not be loaded: %s", exc)
        # What start-up made (engines, voices, the language identifier, lexicons) lives as
        # long as the process: kept out of the collector's full passes, which would walk it
        # all on whichever thread allocates next, the event loop's included (100 ms and more
        # at a time, measured by tests/test_loop.py). Garbage goes first, so none is kept.
        gc.collect()
        gc.freeze()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.events.close()
        await self.store.close()
        # A piece being made is given a few seconds to end; one hung in its engine is
        # left behind, so that stopping takes a bounded time (see docs/deploy.md).
        self.synthesizer.executor.close(wait_s=STOP_WAIT_S)
        self.remux.close()
        # What `warm_up` froze may be collected again (in tests, the next app's start-up
        # would otherwise keep this one's cycles for good).
        gc.unfreeze()
        self.synthesizer.catalogue.close()
