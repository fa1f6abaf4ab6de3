"""The job and book runners under faults, on the in-memory store: a store error at each of
their calls (before or after the store committed), a full disk, an engine that hangs, a job
deleted while it runs. Whatever fails, the job ends done with its whole file, or failed with
its true reason and no file left, once the sweeper has been by; never stuck, never done
without its file. Time is a hand-moved clock: nothing here sleeps or measures time."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import multiprocessing
import resource
import signal
import threading
import wave
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from conftest import TONES
from sayfile.audio.formats import Samples
from sayfile.audio.remuxing import RemuxExecutor
from sayfile.books.parts import BookFolder, BookManifest, split_book
from sayfile.books.reading import Chapter
from sayfile.engines.tone import ToneEngine
from sayfile.errors import Busy, StoreUnavailable
from sayfile.jobs.events import LocalJobEvents
from sayfile.jobs.lifecycle import JobLifecycle
from sayfile.models import SpeechRequest, Voice
from sayfile.queue.taskiq import TurnSlots
from sayfile.runners.book_runner import BookRunner
from sayfile.runners.job_runner import JobRunner
from sayfile.runners.lease import LeaseTerms
from sayfile.services.sweeping import Sweeper
from sayfile.settings import Settings
from sayfile.speech.pipeline import Progress
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import SentenceExecutor, Turn
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.store.files import AudioFiles
from sayfile.store.memory import MemoryJobStore
from sayfile.store.records import FailureReason, Job, JobStatus, new_job_id
from sayfile.text.lexicon import Lexicon
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import Records, build_book_runner
from sayfile.worker import worker_broker

NOW = 1_000_000.0
TEXT = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
BOOK = [
    ("The Storm", "The wind rose over the hills. " * 8),
    ("Morning", "The sun came up, and all was quiet. " * 6),
]
# Beats every 5 s; a lock lasts 30 s past a beat; work that finishes no piece for 60 s stalls.
TERMS = {"beat_s": 5.0, "lock_s": 30.0, "stall_s": 60.0}


class HandClock:
    """Time that moves only when a test says so; waiting on it parks a task until then."""

    def __init__(self) -> None:
        self.now = NOW
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []
        # How long each wait was for, as they begin: a test learns so that a task is parked.
        self.waits: asyncio.Queue[float] = asyncio.Queue()

    def time(self) -> float:
        return self.now

    async def wait(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((self.now + seconds, future))
        self.waits.put_nowait(seconds)
        await future

    async def parked(self, seconds: float) -> None:
        """Return once some task waits `seconds` (others' waits are passed over)."""
        while await self.waits.get() != seconds:
            pass

    async def advance(self, seconds: float) -> None:
        """Move time on, wake whoever waited for it, and let them run."""
        self.now += seconds
        due = [future for at, future in self._waiting if at <= self.now]
        self._waiting = [(at, f) for at, f in self._waiting if at > self.now]
        for future in due:
            if not future.done():
                future.set_result(None)
        for _ in range(20):
            await asyncio.sleep(0)  # yield to the woken tasks (no time passes)


@dataclass
class Fault:
    """At the `nth` call (from 1) of `method` and the `times - 1` after it, raise
    StoreUnavailable (a Redis time-out), before the store did anything or, with `after`,
    once it did (the answer was lost)."""

    method: str
    nth: int
    after: bool = False
    times: int = 1


class FaultyStore(MemoryJobStore):
    """The in-memory store, counting every call and failing at the one a test chooses."""

    def __init__(self, clock: HandClock) -> None:
        super().__init__(clock.time)
        self.calls: list[str] = []
        self.fault: Fault | None = None
        self.armed = False  # counting (and failing) the runners' calls only
        self._counts: Counter[str] = Counter()

    def _hit(self, method: str, after: bool) -> None:
        if not self.armed:
            return  # the test's own calls and the sweeper's
        if not after:
            self.calls.append(method)
            self._counts[method] += 1
        fault, count = self.fault, self._counts[method]
        if fault is None or (fault.method, fault.after) != (method, after):
            return
        if fault.nth <= count < fault.nth + fault.times:
            if count == fault.nth + fault.times - 1:
                self.fault = None
            raise StoreUnavailable("Redis")

    async def get(self, job_id: str) -> Job | None:
        self._hit("get", False)
        job = await super().get(job_id)
        self._hit("get", True)
        return job

    async def change(
        self, job_id: str, expected: Collection[JobStatus], **fields: Any
    ) -> Job | None:
        self._hit("change", False)
        job = await super().change(job_id, expected, **fields)
        self._hit("change", True)
        return job

    async def try_lock(self, name: str, seconds: float, token: str | None = None) -> str | None:
        self._hit("try_lock", False)
        taken = await super().try_lock(name, seconds, token)
        self._hit("try_lock", True)
        return taken

    async def extend_lock(self, name: str, token: str, seconds: float) -> bool:
        self._hit("extend_lock", False)
        kept = await super().extend_lock(name, token, seconds)
        self._hit("extend_lock", True)
        return kept

    async def unlock(self, name: str, token: str) -> None:
        self._hit("unlock", False)
        await super().unlock(name, token)
        self._hit("unlock", True)


class GatedEngine(ToneEngine):
    """The tone engine, except that a piece holding the word HANG blocks its thread until
    the test releases it (a hung onnxruntime call)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        if "HANG" in text.split():
            self.entered.set()
            self.release.wait(60)
        return super().synthesize(voice, text, speed)


class FullDisk(Synthesizer):
    """A synthesizer whose `nth` file write finds the disk full once its audio is written:
    the flush fails with ENOSPC and nothing of it stays, as the real encoder leaves it."""

    nth = 0
    writes = 0

    async def write(
        self, plan: SpeechPlan, path: Path, turn: Turn, progress: Progress | None = None
    ) -> SpeechResult:
        result = await super().write(plan, path, turn, progress)
        FullDisk.writes += 1
        if FullDisk.writes == FullDisk.nth:
            path.unlink()
            raise OSError(errno.ENOSPC, "No space left on device")
        return result


class Turns:
    """A job queue that keeps what it is given and runs it when the test drains it: the
    runners' own work, with no task left behind."""

    def __init__(self, runner: JobRunner, books: BookRunner) -> None:
        self.runner = runner
        self.books = books
        self.book_turns: list[str] = []
        self.depth = 0
        self.full = 0  # the next this many books are refused: the queue is full
        self.given: list[tuple[str, int]] = []  # every book given turns, and how many

    async def enqueue(self, job: Job, plan: SpeechPlan) -> None:
        raise AssertionError("jobs are run by the test")

    async def enqueue_book(self, job: Job, turns: int) -> None:
        if self.full:
            self.full -= 1
            raise Busy(retry_after=2)
        self.given.append((job.id, turns))
        self.book_turns.append(job.id)

    def cancel(self, job_id: str) -> None:
        return None

    async def close(self) -> None:
        return None

    async def drain(self) -> None:
        store = self.books.store
        assert isinstance(store, FaultyStore)
        store.armed = True
        try:
            while self.book_turns:
                job_id = self.book_turns.pop(0)
                while await self.books.turn(job_id):
                    pass
        finally:
            store.armed = False


class Rig:
    """Runners, sweeper and store of one process, on a hand-moved clock."""

    def __init__(self, tmp_path: Path, engine: ToneEngine | None = None, **settings: Any):
        self.clock = HandClock()
        self.store = FaultyStore(self.clock)
        self.settings = Settings(
            data_dir=tmp_path, **TONES, book_part_chars=200, queued_timeout_seconds=300, **settings
        )
        engine = engine or ToneEngine()
        self.synthesizer = FullDisk(
            Catalogue([engine], "tone:beep"),
            SentenceExecutor(2),
            self.settings.max_sentence_chars,
            None,
            Lexicon(),
        )
        self.events = LocalJobEvents()
        self.lifecycle = JobLifecycle(self.store, self.events, 3600, clock=self.clock.time)
        self.files = AudioFiles(tmp_path)
        self.files.ensure()
        terms = LeaseTerms(clock=self.clock.time, wait=self.clock.wait, **TERMS)
        self.runner = JobRunner(
            self.synthesizer,
            self.synthesizer.executor,
            self.lifecycle,
            self.events,
            self.files,
            terms,
        )
        self.remux = RemuxExecutor()
        records = Records(self.store, self.events, self.lifecycle, self.files)
        self.books = build_book_runner(self.settings, self.synthesizer, records, self.remux, terms)
        self.queue = Turns(self.runner, self.books)
        self.sweeper = Sweeper(
            self.settings,
            self.store,
            self.lifecycle,
            self.files,
            self.queue,
            clock=self.clock.time,
        )

    def close(self) -> None:
        self.synthesizer.executor.close()
        self.remux.close()

    def plan(self, text: str = TEXT) -> SpeechPlan:
        request = SpeechRequest(text, voice="tone:beep", format="wav")
        return validate(request, self.synthesizer, self.settings, None)

    async def job(self, plan: SpeechPlan) -> Job:
        job = Job(
            id=new_job_id(),
            status=JobStatus.queued,
            format="wav",
            voice="tone:beep",
            key="k",
            stem="test",
            created_at=self.clock.now,
            expires_at=self.clock.now + 3600,
            client="alice",
        )
        await self.store.add(job)
        return job

    async def book(self) -> Job:
        chapters = [Chapter(title, text.strip()) for title, text in BOOK]
        manifest = BookManifest(
            title="The Test Book",
            chapters=tuple(title for title, _ in BOOK),
            parts=split_book(chapters, 200),
            voice="tone:beep",
            format="wav",
            part_format="wav",
            speed=1.0,
            loudness=None,
            lexicon=(),
        )
        job = (await self.job(self.plan())).evolve(book=True)
        await self.store.delete(job.id)
        await self.store.add(job)
        BookFolder(self.files.book_dir(job.id)).create(manifest)
        return job

    async def settle(self, job_id: str) -> Job | None:
        """Let the sweeper come by (a worker timeout and more later) until the job ends."""
        for _ in range(60):
            job = await self.store.get(job_id)
            if job is None or job.status.finished:
                return job
            await self.clock.advance(self.settings.worker_timeout_seconds + 1)
            await self.sweeper.sweep()
            await self.queue.drain()
        raise AssertionError(f"the job is stuck: {await self.store.get(job_id)}")

    def left(self) -> list[str]:
        """Every file the data folder holds."""
        return sorted(
            str(path.relative_to(self.settings.data_dir))
            for path in self.settings.data_dir.rglob("*")
            if path.is_file() and not path.name.endswith(".sqlite3")
        )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    FullDisk.nth = FullDisk.writes = 0
    made = Rig(tmp_path)
    yield made
    made.close()


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


def assert_whole_or_nothing(rig: Rig, job: Job | None, sentences: int) -> None:
    """Done with its whole file (every sentence in it, as long as the record says), or
    failed (or deleted) with no file left at all."""
    if job is not None and job.status == JobStatus.done:
        path = rig.files.path(job.id, "wav")
        assert path.is_file(), "done without its file"
        assert job.bytes == path.stat().st_size
        assert job.duration_s == pytest.approx(wav_seconds(path), abs=0.01)
        timings = json.loads(rig.files.timings_path(job.id).read_text())
        assert len([p for p in timings["pieces"] if p["text"]]) == sentences
        assert [n for n in rig.left() if not n.startswith(f"audio/{job.id}")] == []
    else:
        assert job is None or job.status == JobStatus.failed, job
        assert rig.left() == []


# -- the job runner ----------------------------------------------------------------------


async def test_a_job_is_made_with_its_file_and_said_done(rig: Rig) -> None:
    plan = rig.plan()
    job = await rig.job(plan)
    await rig.runner.run(job, plan)
    done = await rig.store.get(job.id)
    assert done is not None and done.status == JobStatus.done
    assert_whole_or_nothing(rig, done, 4)


def _job_calls(tmp_path: Path) -> list[str]:
    async def count() -> list[str]:
        rig = Rig(tmp_path / "count")
        plan = rig.plan()
        job = await rig.job(plan)
        rig.store.armed = True
        await rig.runner.run(job, plan)
        rig.close()
        return rig.store.calls

    return asyncio.run(count())


def _faults(calls: list[str]) -> list[Fault]:
    seen: Counter[str] = Counter()
    faults = []
    for method in calls:
        seen[method] += 1
        faults += [Fault(method, seen[method]), Fault(method, seen[method], after=True)]
    return faults


JOB_CALLS = ["change", "change"]  # start, finish: checked by the test below


def test_the_job_runner_calls_the_store_as_the_fault_table_expects(tmp_path: Path) -> None:
    assert _job_calls(tmp_path) == JOB_CALLS


@pytest.mark.parametrize("fault", _faults(JOB_CALLS), ids=repr)
async def test_a_store_error_at_any_call_of_a_job_never_loses_or_strands_it(
    rig: Rig, fault: Fault
) -> None:
    """A Redis time-out at the start or the finish (before or after Redis committed it):
    the runner records no engine error and deletes nothing the record still wants; the
    sweeper then ends the job done (its file was whole) or failed as lost, no file left."""
    plan = rig.plan()
    job = await rig.job(plan)
    rig.store.fault = fault
    rig.store.armed = True
    run = asyncio.create_task(rig.runner.run(job, plan))
    if fault.method == "change" and fault.nth == 1 and not fault.after:
        await rig.clock.parked(TERMS["beat_s"])  # the start is tried again a beat later
        await rig.clock.advance(TERMS["beat_s"])
    await run
    rig.store.armed = False
    assert rig.store.fault is None, "the fault was not reached"
    record = await rig.store.get(job.id)
    assert record is not None and record.reason != FailureReason.engine_error
    ended = await rig.settle(job.id)
    assert_whole_or_nothing(rig, ended, 4)
    # Started (at once, or again a beat later; or the record says so though its answer was
    # lost) and made whole: recorded done by the runner's own finish, or by the sweeper.
    assert ended is not None and ended.status == JobStatus.done


async def test_a_store_away_through_every_start_leaves_the_job_to_the_sweeper(rig: Rig) -> None:
    plan = rig.plan()
    job = await rig.job(plan)
    rig.store.fault = Fault("change", 1, times=4)
    rig.store.armed = True
    run = asyncio.create_task(rig.runner.run(job, plan))
    for _ in range(3):
        await rig.clock.parked(TERMS["beat_s"])
        await rig.clock.advance(TERMS["beat_s"])
    await run
    rig.store.armed = False
    queued = await rig.store.get(job.id)
    assert queued is not None and queued.status == JobStatus.queued
    ended = await rig.settle(job.id)
    assert ended is not None and ended.reason == FailureReason.not_picked_up
    assert rig.left() == []


async def test_a_failure_is_recorded_with_its_reason_once_the_store_is_back(rig: Rig) -> None:
    """The store is away when the engine error is to be recorded: the runner tries again
    (rather than leaving "worker lost" to the sweeper) and only then removes the file."""
    plan = rig.plan("One two. Three FAIL four. Five six.")
    job = await rig.job(plan)
    rig.store.fault = Fault("change", 2, times=3)  # the start goes through; the failure not
    rig.store.armed = True
    run = asyncio.create_task(rig.runner.run(job, plan))
    for _ in range(3):
        await rig.clock.parked(0.5)
        running = await rig.store.get(job.id)
        assert running is not None and running.status == JobStatus.running
        await rig.clock.advance(0.5)
    await run
    failed = await rig.store.get(job.id)
    assert failed is not None and failed.reason == FailureReason.engine_error
    assert rig.left() == []


async def test_an_engine_error_fails_the_job_with_its_reason_and_no_file(rig: Rig) -> None:
    plan = rig.plan("One two. Three FAIL four. Five six.")
    job = await rig.job(plan)
    await rig.runner.run(job, plan)
    failed = await rig.store.get(job.id)
    assert failed is not None and failed.reason == FailureReason.engine_error
    assert "failed" in (failed.error or "")
    assert rig.left() == []


async def test_a_full_disk_fails_the_job_as_disk_full_and_leaves_no_file(rig: Rig) -> None:
    FullDisk.nth = 1
    plan = rig.plan()
    job = await rig.job(plan)
    await rig.runner.run(job, plan)
    failed = await rig.store.get(job.id)
    assert failed is not None and failed.reason == FailureReason.disk_full
    assert rig.left() == []


async def test_a_disk_that_fills_at_the_timings_fails_the_job_as_disk_full_and_leaves_no_file(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job's timings are written last, on a thread: a full disk there fails the job as
    disk full, with neither its audio nor a part of its timings left, and nothing waits."""
    write_text = Path.write_text
    filled: list[str] = []

    def full_at_the_timings(path: Path, data: str, *args: Any, **kwargs: Any) -> int:
        if "timings" in path.name:
            filled.append(path.name)
            write_text(path, data[: len(data) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_text(path, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_at_the_timings)
    plan = rig.plan()
    job = await rig.job(plan)
    await asyncio.wait_for(rig.runner.run(job, plan), 30)
    failed = await rig.store.get(job.id)
    assert failed is not None and failed.reason == FailureReason.disk_full, failed
    assert len(filled) == 1 and rig.left() == [], (filled, rig.left())


async def test_a_job_deleted_while_it_runs_stops_and_leaves_no_file(tmp_path: Path) -> None:
    """The delete stops the runner's own child task; the caller's task goes on (in a worker
    it is Taskiq's) and sees the runner return normally."""
    engine = GatedEngine()
    rig = Rig(tmp_path, engine)
    try:
        plan = rig.plan("One two. Three HANG four. Five six.")
        job = await rig.job(plan)
        run = asyncio.create_task(rig.runner.run(job, plan))
        await asyncio.to_thread(engine.entered.wait, 30)
        await rig.lifecycle.delete(job.id)
        await run  # returns: it was not the caller that was cancelled
        assert not run.cancelled()
        assert rig.left() == []
    finally:
        engine.release.set()
        rig.close()


async def test_a_hung_engine_call_fails_the_job_within_the_stall_bound(tmp_path: Path) -> None:
    engine = GatedEngine()
    rig = Rig(tmp_path, engine)
    try:
        plan = rig.plan("One two. Three HANG four. Five six.")
        job = await rig.job(plan)
        run = asyncio.create_task(rig.runner.run(job, plan))
        await asyncio.to_thread(engine.entered.wait, 30)
        # Beats go on while it is within the bound: the job stays running.
        await rig.clock.advance(TERMS["beat_s"])
        assert not run.done()
        running = await rig.store.get(job.id)
        assert running is not None and running.heartbeat_at == rig.clock.now
        await rig.clock.advance(TERMS["stall_s"])
        await rig.clock.advance(TERMS["beat_s"])
        await run
        failed = await rig.store.get(job.id)
        assert failed is not None and failed.status == JobStatus.failed
        assert failed.reason == FailureReason.engine_error
        assert "SAYFILE_STALL_SECONDS" in (failed.error or "")
        assert rig.left() == []
    finally:
        engine.release.set()
        rig.close()


# -- the book runner ---------------------------------------------------------------------

BOOK_SENTENCES = 14


async def make_book(rig: Rig) -> Job | None:
    job = await rig.book()
    rig.queue.book_turns.append(job.id)
    await rig.queue.drain()
    return await rig.settle(job.id)


async def test_a_book_is_made_whole_in_parts(rig: Rig) -> None:
    done = await make_book(rig)
    assert done is not None and done.status == JobStatus.done
    assert_whole_or_nothing(rig, done, BOOK_SENTENCES)


def _book_calls(tmp_path: Path) -> list[str]:
    async def count() -> list[str]:
        rig = Rig(tmp_path / "count")
        await make_book(rig)
        rig.close()
        return rig.store.calls

    return asyncio.run(count())


@pytest.fixture(scope="module")
def book_faults(tmp_path_factory: pytest.TempPathFactory) -> list[Fault]:
    return _faults(_book_calls(tmp_path_factory.mktemp("calls")))


async def test_a_store_error_at_any_call_of_a_book_never_loses_or_strands_it(
    tmp_path: Path, book_faults: list[Fault]
) -> None:
    """A Redis time-out at each call the book runner makes, before and after the store did
    its part: the book still ends done and whole (the sweeper gives it new turns), or failed
    with no file left; never stuck, never done without its file."""
    assert len(book_faults) > 20
    outcomes: Counter[str] = Counter()
    for n, fault in enumerate(book_faults):
        FullDisk.nth = FullDisk.writes = 0
        rig = Rig(tmp_path / str(n))
        try:
            job = await rig.book()
            rig.store.fault = fault
            rig.queue.book_turns.append(job.id)
            await rig.queue.drain()
            assert rig.store.fault is None, f"{fault} was not reached"
            ended = await rig.settle(job.id)
            assert_whole_or_nothing(rig, ended, BOOK_SENTENCES)
            outcomes["done" if ended and ended.status == JobStatus.done else "failed"] += 1
        finally:
            rig.close()
    assert outcomes["done"] == len(book_faults), outcomes


@pytest.mark.parametrize("nth", [1, 4])
async def test_a_wav_book_that_fills_the_disk_fails_as_disk_full_with_no_files(
    rig: Rig, nth: int
) -> None:
    """The disk fills while the first or the last of the book's four parts is written."""
    FullDisk.nth = nth
    ended = await make_book(rig)
    assert ended is not None and ended.status == JobStatus.failed
    assert ended.reason == FailureReason.disk_full
    assert rig.left() == []


async def _book_hung_at_its_second_part(rig: Rig) -> tuple[Job, BookManifest]:
    """A book whose second part holds a word the gated engine hangs on, its first part made
    by a turn; the book and its manifest as written before the change."""
    job = await rig.book()
    folder = BookFolder(rig.files.book_dir(job.id))
    manifest = folder.manifest()
    second = manifest.parts[1]
    hung = replace(second, ssml=second.ssml.replace("The wind", "HANG wind", 1))
    folder.create(replace(manifest, parts=(manifest.parts[0], hung, *manifest.parts[2:])))
    assert await rig.books.turn(job.id) is True  # the first part
    return job, manifest


async def test_a_hung_part_is_given_up_and_made_by_the_next_turn(tmp_path: Path) -> None:
    """The engine hangs on the book's second part: while the bound lasts the heartbeat goes
    on with the book's progress so far (never back to nothing); then the lease gives the
    part up and releases its lock; the next turn makes it and the book ends whole."""
    engine = GatedEngine()
    rig = Rig(tmp_path, engine)
    try:
        job, manifest = await _book_hung_at_its_second_part(rig)
        turn = asyncio.create_task(rig.books.turn(job.id))
        await asyncio.to_thread(engine.entered.wait, 30)
        await rig.clock.advance(TERMS["beat_s"])
        beaten = await rig.store.get(job.id)
        assert beaten is not None and beaten.heartbeat_at == rig.clock.now
        assert beaten.progress == pytest.approx(manifest.parts[0].chars / manifest.chars, 0.01)
        await rig.clock.advance(TERMS["stall_s"])
        await rig.clock.advance(TERMS["beat_s"])
        assert await turn is True  # given up, and the book wants another turn
        engine.release.set()  # the abandoned thread may end now
        running = await rig.store.get(job.id)
        assert running is not None and running.status == JobStatus.running
        rig.queue.book_turns.append(job.id)
        await rig.queue.drain()
        ended = await rig.settle(job.id)
        assert_whole_or_nothing(rig, ended, BOOK_SENTENCES)
        assert ended is not None and ended.status == JobStatus.done
    finally:
        engine.release.set()
        rig.close()


async def test_every_turn_says_once_why_it_ended(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sayfile.runners.book_runner")
    job = await rig.book()
    turns = 1
    while await rig.books.turn(job.id):
        turns += 1
    await rig.books.turn(job.id)  # one more, after the end
    said = [r.getMessage() for r in caplog.records if "turn ended" in r.getMessage()]
    assert len(said) == turns + 1
    assert said[0] == "a book's turn ended: part 1 of 4 was made"
    assert said[-2].startswith("a book's turn ended: the book was made: ")
    assert said[-1] == "a book's turn ended: the book is finished or deleted"
    assert all(r.levelno == logging.INFO for r in caplog.records if "turn ended" in r.message)


@pytest.mark.parametrize("damage", ["manifest", "folder"])
async def test_a_book_no_turn_can_make_fails_at_once_and_says_why(
    rig: Rig, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A manifest that cannot be read, or a folder gone while the book is unfinished: the
    book fails now with the reason, instead of being handed out again for 25 minutes."""
    job = await rig.book()
    folder = rig.files.book_dir(job.id)
    if damage == "manifest":
        (folder / "manifest.json").write_text('{"title": "cut sh')
    else:
        rig.files.remove_book(job.id)
    assert await rig.books.turn(job.id) is False
    failed = await rig.store.get(job.id)
    assert failed is not None and failed.status == JobStatus.failed
    assert failed.reason == FailureReason.internal_error
    assert failed.error == (
        "the book's manifest cannot be read"
        if damage == "manifest"
        else "the book's folder is gone"
    )
    assert rig.left() == []
    warned = [r for r in caplog.records if "turn ended" in r.message]
    assert [r.levelno for r in warned] == [logging.WARNING]


async def test_busy_never_stops_the_sweep_and_lost_turns_are_found(rig: Rig) -> None:
    """Two queued books whose turns were lost: they are left alone for a worker timeout,
    then given turns; the queue is full for the first, and the sweep goes on to the
    second; the next sweep gives the first its turns, and both are made whole."""
    first, second = await rig.book(), await rig.book()
    rig.queue.full = 1
    await rig.sweeper.sweep()
    assert rig.queue.book_turns == []
    await rig.clock.advance(rig.settings.worker_timeout_seconds + 1)
    await rig.sweeper.sweep()
    assert rig.queue.book_turns == [second.id]
    assert rig.queue.given == [(second.id, 1)]  # queued: perhaps only waiting, so one turn
    await rig.clock.advance(rig.settings.worker_timeout_seconds + 1)
    await rig.sweeper.sweep()
    assert first.id in rig.queue.book_turns
    await rig.queue.drain()
    for book in (first, second):
        done = await rig.store.get(book.id)
        assert done is not None and done.status == JobStatus.done


def _book_on_a_small_disk(data_dir: str, limit: int, answer: Any) -> None:
    """In a process of its own: no file may grow past `limit` bytes (RLIMIT_FSIZE, the file
    size limit: writing past it fails with EFBIG, as a full disk fails with ENOSPC)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    async def make() -> tuple[str, str | None, list[str]]:
        rig = Rig(Path(data_dir))
        try:
            ended = await make_book(rig)
            assert ended is not None
            return ended.status.value, ended.reason, rig.left()
        finally:
            rig.close()

    answer.put(asyncio.run(make()))


@pytest.mark.slow
def test_a_wav_book_larger_than_the_file_system_allows_fails_as_disk_full(
    tmp_path: Path,
) -> None:
    """The real encoder and joiner, with a real limit on file size: every part and chapter
    fits, the book's own file does not. It fails as disk_full and leaves no file behind."""
    inside, book = _book_sizes(tmp_path / "measure")
    assert 0 < inside < book
    limit = (inside + book) // 2
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    process = context.Process(
        target=_book_on_a_small_disk, args=(str(tmp_path / "small"), limit, answer)
    )
    process.start()
    try:
        status, reason, left = answer.get(timeout=300)
    finally:
        process.join(60)
    assert (status, reason, left) == ("failed", "disk_full", [])


def _book_sizes(data_dir: Path) -> tuple[int, int]:
    """The largest part or chapter file of a book, seen as they are made, and its file."""
    seen = [0]

    async def make() -> int:
        rig = Rig(data_dir)
        try:
            job = await rig.book()
            folder = rig.files.book_dir(job.id)
            more = True
            while more:
                more = await rig.books.turn(job.id)
                inside = [path.stat().st_size for path in folder.glob("*.wav")]
                seen.append(max(inside, default=0))
            done = await rig.store.get(job.id)
            assert done is not None and done.bytes is not None
            return done.bytes
        finally:
            rig.close()

    book = asyncio.run(make())
    return max(seen), book


# -- a worker's book turns ---------------------------------------------------------------


def test_a_turn_handed_back_again_and_again_waits_longer_each_time() -> None:
    waits = [TurnSlots.patience(n) for n in range(8)]
    assert waits == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert TurnSlots.patience(10_000) == 5.0


async def test_a_turn_waiting_for_a_full_worker_starts_when_a_slot_is_given_back() -> None:
    """Not a poll: the waiting turn takes the slot the moment the running one ends."""
    slots = TurnSlots(1)
    assert await slots.take()
    waiting = asyncio.create_task(slots.take(declined=10))  # would wait up to 5 s
    for _ in range(5):
        await asyncio.sleep(0)  # let it start waiting (no time passes)
    assert not waiting.done()
    await slots.give_back()
    assert await waiting is True
    # Full again: a turn that nobody makes room for is handed back after its patience.
    assert await slots.take(0) is False


async def test_a_running_book_whose_workers_died_is_given_every_turn_again(rig: Rig) -> None:
    job = await rig.book()
    assert await rig.lifecycle.start(job.id, "gone:1") is not None  # then that worker died
    await rig.clock.advance(rig.settings.worker_timeout_seconds - 1)
    await rig.sweeper.sweep()
    assert rig.queue.given == []  # its heartbeat is not stale yet
    await rig.clock.advance(2)
    await rig.sweeper.sweep()
    assert rig.queue.given == [(job.id, rig.settings.book_turns)]
    await rig.queue.drain()
    done = await rig.store.get(job.id)
    assert done is not None and done.resumes == 1
    assert_whole_or_nothing(rig, done, BOOK_SENTENCES)


def test_a_worker_logs_what_it_made_not_every_task_it_was_handed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Taskiq says "Executing task" at INFO for every message (a book's every turn): about
    1,700 lines for one small book. A worker's broker lowers that logger to WARNING."""
    from taskiq.receiver import receiver

    monkeypatch.setenv("SAYFILE_QUEUE_URL", "redis://127.0.0.1:1/0")  # never connected to
    taskiq_log = logging.getLogger("taskiq.receiver")
    before = taskiq_log.level
    try:
        worker_broker()
        assert receiver.logger.getEffectiveLevel() == logging.WARNING
        assert not receiver.logger.isEnabledFor(logging.INFO)
    finally:
        taskiq_log.setLevel(before)


async def test_expiry_that_the_store_misses_keeps_the_file_until_it_is_recorded(
    rig: Rig,
) -> None:
    """The sweeper removed an expired job's file before it recorded the expiry: a store that
    failed in between left a done job with no file. Now the record goes first."""
    job = await rig.job(rig.plan())
    await rig.runner.run(job, rig.plan())
    done = await rig.store.get(job.id)
    assert done is not None and done.status == JobStatus.done
    path = rig.files.path(job.id, "wav")
    assert path.is_file()
    await rig.clock.advance(3601)
    rig.store.armed = True
    rig.store.fault = Fault("change", 1)
    with pytest.raises(StoreUnavailable):
        await rig.sweeper.sweep()
    kept = await rig.store.get(job.id)
    assert kept is not None and kept.status == JobStatus.done and path.is_file()
    await rig.sweeper.sweep()  # the store is back: expired, then the file goes
    gone = await rig.store.get(job.id)
    assert gone is not None and gone.status == JobStatus.expired and not path.exists()


async def _done_and_past_its_expiry(rig: Rig) -> Job:
    """A done job whose expiry has passed: the next sweep expires it."""
    job = await rig.job(rig.plan())
    await rig.store.change(job.id, {JobStatus.queued}, status=JobStatus.running)
    done = await rig.store.change(
        job.id, {JobStatus.running}, status=JobStatus.done, expires_at=rig.clock.now - 1, bytes=1
    )
    assert done is not None
    return done


async def test_a_sweep_whose_lock_release_was_lost_does_not_stop_the_next(rig: Rig) -> None:
    """The sweeper lock is held for a minute: a release lost with the store (a Redis pause)
    left the cluster without a sweep that long, and a book whose turn was dropped waited
    with it. The process that still holds the lock sweeps again at once."""
    rig.store.armed = True
    rig.store.fault = Fault("unlock", 1)
    with pytest.raises(StoreUnavailable):
        await rig.sweeper.sweep()
    rig.store.armed = False
    job = await _done_and_past_its_expiry(rig)
    await rig.clock.advance(1)  # far less than the lock's minute
    await rig.sweeper.sweep()
    swept = await rig.store.get(job.id)
    assert swept is not None and swept.status == JobStatus.expired
    # Released this time: another process may take the lock now.
    assert await rig.store.try_lock("sweeper", 1) is not None


async def test_a_sweeper_lock_taken_with_its_answer_lost_is_still_its_holders(rig: Rig) -> None:
    """A `try_lock` that Redis carried out but whose answer was lost left the sweeper lock
    held, for a minute, by a token nobody knew: no process swept meanwhile."""
    rig.store.armed = True
    rig.store.fault = Fault("try_lock", 1, after=True)
    with pytest.raises(StoreUnavailable):
        await rig.sweeper.sweep()
    rig.store.armed = False
    job = await _done_and_past_its_expiry(rig)
    await rig.clock.advance(1)
    await rig.sweeper.sweep()
    swept = await rig.store.get(job.id)
    assert swept is not None and swept.status == JobStatus.expired


async def test_a_turn_whose_folder_another_turn_removed_leaves_the_reason_to_it(
    tmp_path: Path,
) -> None:
    """On a full disk shared with the store, the turn that hit it removes the book's folder
    first (to make room for the record) and records `disk_full` after. Another turn still
    writing then met a missing folder and recorded "internal error (FileNotFoundError)"
    first (seen in CI); it now leaves the reason to the turn that removed the folder."""
    engine = GatedEngine()
    rig = Rig(tmp_path, engine)
    try:
        job, _ = await _book_hung_at_its_second_part(rig)
        turn = asyncio.create_task(rig.books.turn(job.id))
        await asyncio.to_thread(engine.entered.wait, 30)
        await asyncio.to_thread(rig.files.remove_book, job.id)  # the other turn, on ENOSPC
        engine.release.set()
        assert await turn is False
        running = await rig.store.get(job.id)
        assert running is not None and running.status == JobStatus.running
        message = "the server ran out of disk space while writing the audio"
        failed = await rig.lifecycle.fail(job.id, FailureReason.disk_full, message)
        assert failed is not None and failed.reason == FailureReason.disk_full
    finally:
        engine.release.set()
        rig.close()
