"""The parts every process that synthesizes is built from, put together in one place: the
API's lifespan, a `sayfile worker` process and the command line build them here; and the
services the API's routes call, each given only the parts it uses."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sayfile.audio.remuxing import RemuxExecutor
from sayfile.engines import Engine, build_engines
from sayfile.errors import SayfileError
from sayfile.jobs.admission import Admission
from sayfile.jobs.answers import AnswerCache
from sayfile.jobs.events import JobEvents, LocalJobEvents, RedisJobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.jobs.quota import StorageQuota
from sayfile.queue import JobQueue
from sayfile.runners.book_joining import BookJoiner
from sayfile.runners.book_leases import BookLeases
from sayfile.runners.book_runner import BookRunner
from sayfile.runners.job_runner import JobRunner
from sayfile.runners.lease import LeaseTerms
from sayfile.runners.part_maker import PartMaker
from sayfile.services.catalogue_queries import CatalogueQueries
from sayfile.services.downloads import Downloads
from sayfile.services.job_requests import JobRequests
from sayfile.services.limits import ActiveLimit, PurposePlanner
from sayfile.services.reading import JobReader
from sayfile.services.speaking import LiveSpeech, Speaker
from sayfile.services.status import ServerStatus
from sayfile.services.submitting import Submissions
from sayfile.services.sweeping import Sweeper
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


def build_synthesizer(
    settings: Settings, observer: Observer | None = None, catalogue: Catalogue | None = None
) -> Synthesizer:
    """Engines, their catalogue (unless one is given), the configured lexicons and the
    process's one sentence executor (no voice loaded until used). Raises InvalidLexicon for a
    broken lexicon file."""
    if catalogue is None:
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
class Records:
    """What a process keeps about jobs: the store, the events announced to whoever waits, the
    lifecycle that writes both, and the audio files in the data folder."""

    store: JobStore
    events: JobEvents
    lifecycle: JobLifecycle
    files: AudioFiles

    @classmethod
    def build(cls, settings: Settings) -> Records:
        store = build_store(settings)
        events = build_events(settings)
        lifecycle = JobLifecycle(store, events, settings.ttl_seconds)
        return cls(store, events, lifecycle, AudioFiles(settings.data_dir))


def build_book_runner(
    settings: Settings,
    synthesizer: Synthesizer,
    records: Records,
    remux: RemuxExecutor,
    terms: LeaseTerms | None = None,
) -> BookRunner:
    """A process's book runner, with the part maker and the joiner it hands the work to, all
    three under the same leases (`terms` from the settings unless given)."""
    leases = BookLeases(
        records.store, records.lifecycle, records.events, terms or LeaseTerms.of(settings)
    )
    maker = PartMaker(synthesizer, settings, records.lifecycle)
    joiner = BookJoiner(remux, records.store, records.lifecycle, records.files, leases, settings)
    return BookRunner(records.store, records.lifecycle, records.files, leases, maker, joiner)


@dataclass
class Parts:
    """Everything below the services, for one process."""

    settings: Settings
    synthesizer: Synthesizer
    records: Records
    runner: JobRunner
    books: BookRunner
    remux: RemuxExecutor
    # Whether these parts built their engines, and so are their process's one app's: `close`
    # closes the engines, and the start readies the process for a long life (the warm-up's
    # heap frozen, the app's OpenAPI document built). Engines handed in were built by
    # someone else, for many apps of one process (the tests').
    owns_engines: bool = True

    @classmethod
    def build(
        cls,
        settings: Settings,
        observer: Observer | None = None,
        engines: Sequence[Engine] | None = None,
    ) -> Parts:
        """Everything for `settings`; with `engines` (build_engines' for the same settings),
        those instead of new ones, left open at `close` for whoever built them (the tests'
        apps share one set, so that each does not load its voices again)."""
        catalogue = None if engines is None else Catalogue(list(engines), settings.default_voice)
        synthesizer = build_synthesizer(settings, observer, catalogue)
        records = Records.build(settings)
        remux = RemuxExecutor()
        runner = JobRunner(
            synthesizer,
            synthesizer.executor,
            records.lifecycle,
            records.events,
            records.files,
            LeaseTerms.of(settings),
            remux,
        )
        books = build_book_runner(settings, synthesizer, records, remux)
        return cls(settings, synthesizer, records, runner, books, remux, engines is None)

    async def start(self) -> None:
        await self.records.events.start()

    async def warm_up(self, streams: bool = False) -> None:
        """List every voice and load the default one, so the first request pays nothing (a
        process that `streams` also loads what streams' first pieces take)."""
        synthesizer = self.synthesizer
        try:
            plan = synthesizer.planner.plan_of("Ready.", self.settings.default_voice, "wav", 1.0)
            await synthesizer.warm_up(plan, streams)
            # The language identifier too, so the first text with no voice named pays nothing.
            await synthesizer.executor.run(synthesizer.languages.load)
        except SayfileError as exc:
            # A broken default voice fails its own requests, not the start-up.
            log.warning("the default voice could not be loaded: %s", exc)
        # What start-up made (engines, voices, the language identifier, lexicons) lives as
        # long as the process: kept out of the collector's full passes, which would walk it
        # all on whichever thread allocates next, the event loop's included (100 ms and more
        # at a time, measured by tests/test_loop.py). Garbage goes first, so none is kept.
        # Parts on engines built elsewhere are one of many in their process (the tests'
        # apps): what they made does not live as long as it, and the collection (0.12 s of
        # a test process's heap, at every app's start) would buy nothing.
        if self.owns_engines:
            gc.collect()
            gc.freeze()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.records.events.close()
        await self.records.store.close()
        # A piece being made is given a few seconds to end; one hung in its engine is
        # left behind, so that stopping takes a bounded time (see docs/deploy.md).
        self.synthesizer.executor.close(wait_s=STOP_WAIT_S)
        self.remux.close()
        # What `warm_up` froze may be collected again (in tests, the next app's start-up
        # would otherwise keep this one's cycles for good).
        gc.unfreeze()
        if self.owns_engines:
            self.synthesizer.catalogue.close()


@dataclass
class JobServices:
    """The use cases of jobs the routes call: asking for one, its submission and cancelling,
    reading it, and downloading what it made."""

    requests: JobRequests
    submissions: Submissions
    reader: JobReader
    downloads: Downloads


@dataclass
class Services:
    """The use cases the API's routes call, one concern each (a route depends on one)."""

    speaker: Speaker
    jobs: JobServices
    sweeper: Sweeper
    catalogue: CatalogueQueries
    status: ServerStatus

    @classmethod
    def build(
        cls,
        parts: Parts,
        queue: JobQueue,
        admission: Admission,
        clock: Callable[[], float] = time.time,
    ) -> Services:
        settings, synthesizer, records = parts.settings, parts.synthesizer, parts.records
        store, lifecycle, events, files = (
            records.store,
            records.lifecycle,
            records.events,
            records.files,
        )
        quota = StorageQuota(files, settings.storage_quota_bytes, store, events)
        planner = PurposePlanner(settings, synthesizer)
        limit = ActiveLimit(settings, store, admission)
        submissions = Submissions(settings, limit, store, lifecycle, files, quota, queue, clock)
        catalogue = synthesizer.catalogue
        reader = JobReader(store, events, files, catalogue, lifecycle.pace, clock)
        downloads = Downloads(reader, store, lifecycle, files, clock)
        answers = AnswerCache(settings.answer_cache_bytes)
        live = LiveSpeech(settings, synthesizer, limit, answers, submissions, clock)
        return cls(
            speaker=Speaker(settings, planner, live, submissions, reader, downloads, catalogue),
            jobs=JobServices(
                JobRequests(settings, planner, limit, synthesizer.executor, submissions, reader),
                submissions,
                reader,
                downloads,
            ),
            sweeper=Sweeper(settings, store, lifecycle, files, queue, clock),
            catalogue=CatalogueQueries(synthesizer),
            status=ServerStatus(store, files, admission, quota),
        )
