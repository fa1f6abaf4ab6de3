"""Shared fixtures: real engines (loaded once per session), the pipeline driven synchronously,
an independent decoder, real server processes and a real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from listening import Listener
from sayfile.app import create_app
from sayfile.audio.formats import Samples
from sayfile.engines import ENGINES, Engine, build_engines
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import build_synthesizer

# Fast tests: the tone engine (real audio, made at once) instead of real voices.
TONES: dict[str, Any] = {"engines": ["tone"], "default_voice": "tone:beep"}


# Where the run's temporary folders go unless --basetemp says: a folder of its own in memory.
_MEMORY = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a folder only this user reads)
# Room the suite's largest files need at once (uploads of 200 MiB, books), with a margin.
_MEMORY_NEEDED = 2 << 30


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis (and schemathesis through it) keeps its files in a temporary folder, never
    in the repository. The tests' folders (data folders of apps and servers, Redis's) are in
    memory where the machine has it: sayfile flushes every finished file to disk (fsync), and
    on a disk that made a 400-chapter book take half again as long; in memory a flush costs
    nothing and every file operation means the same. One folder per run, so runs side by side
    never clear each other's."""
    from hypothesis.configuration import set_hypothesis_home_dir

    hypothesis_home = tempfile.mkdtemp(prefix="sayfile-hypothesis-")
    set_hypothesis_home_dir(hypothesis_home)
    config.stash[_OWN_FOLDERS] = [Path(hypothesis_home)]
    if (
        config.option.basetemp is None
        and os.access(_MEMORY, os.W_OK | os.X_OK)
        # A container's small /dev/shm (64 MB by default) would fill: the disk then.
        and shutil.disk_usage(_MEMORY).free >= _MEMORY_NEEDED
    ):
        config.option.basetemp = tempfile.mkdtemp(prefix="sayfile-tests-", dir=_MEMORY)
        config.stash[_OWN_FOLDERS].append(Path(config.option.basetemp))


_OWN_FOLDERS = pytest.StashKey[list[Path]]()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's own folders go with the run: its folder in memory (memory is not a disk to
    fill) and Hypothesis's (one per run and worker, which piled up in /tmp before)."""
    for folder in config.stash.get(_OWN_FOLDERS, []):
        shutil.rmtree(folder, ignore_errors=True)


# --- The fast layer's guard -------------------------------------------------------------------
# A test not marked `slow` may not start a process (redis-server, espeak-ng, ffmpeg, a server):
# `make test-fast` must pass on a machine without them. Every start is refused and recorded,
# also from threads and session fixtures, and the test fails naming the command.
_STARTED: list[str] = []
_real_execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]


def _refuse_process(self: subprocess.Popen[Any], args: Any, *rest: Any, **kw: Any) -> None:
    command = " ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args)
    _STARTED.append(command)
    raise PermissionError(f"a fast test started a process: {command}")


@contextlib.contextmanager
def _fast_layer(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker("slow") is not None:
        yield
        return
    _STARTED.clear()
    subprocess.Popen._execute_child = _refuse_process  # type: ignore[attr-defined]
    try:
        yield
    finally:
        subprocess.Popen._execute_child = _real_execute_child  # type: ignore[attr-defined]
    if _STARTED:
        started, _STARTED[:] = list(_STARTED), []
        pytest.fail(f"a fast test started {started}: mark it slow or use the tone engine")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _fast_layer(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _fast_layer(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with _fast_layer(item):
        return (yield)


# Fixtures of the slow layer: a test that takes one is slow without saying so.
SLOW_FIXTURES = frozenset(
    {"speech", "voices", "listener", "ffmpeg", "server_factory"}
    | {"redis_server", "shared_redis_server", "own_redis_server"}
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test`'s `-n 2 --dist loadfile`: the modules that run Kokoro or Whisper in process
    on one worker, one after another, the others beside them (tests/two_workers.py)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from two_workers import HeavyTogether

    return HeavyTogether(config, log)


# ----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_developer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their settings: none come from the developer's SAYFILE_* variables."""
    for name in list(os.environ):
        if name.upper().startswith("SAYFILE_"):
            monkeypatch.delenv(name)


@dataclass(frozen=True)
class Decoded:
    """What Debian's ffmpeg (not the FFmpeg inside PyAV) made of a file."""

    duration_s: float
    container: str
    codec: str
    sample_rate: int


def decode(data: bytes, fmt: str) -> Decoded:
    """Decode audio bytes fully with the ffmpeg/ffprobe command-line tools.

    The duration is counted from the decoded samples, not read from a header.
    Raw `pcm` is read as s16le mono at 24 kHz, as documented.
    """
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if fmt == "pcm" else []
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *raw,
            "-show_entries",
            "format=format_name:stream=codec_name,sample_rate",
            "-of",
            "default=nw=1",
            "-",
        ],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    info = dict(line.split("=", 1) for line in probe.splitlines() if "=" in line)
    pcm = subprocess.run(
        # No -xerror: a streamed WAV declares the maximum size (0xFFFFFFFF), and ffmpeg reports
        # its shorter last packet as corrupt although every sample decodes.
        ["ffmpeg", "-v", "error", *raw, "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        input=data,
        capture_output=True,
        check=False,
    )
    assert pcm.returncode == 0, pcm.stderr.decode()
    return Decoded(
        duration_s=len(pcm.stdout) / 2 / 8000,
        container=info.get("format_name", ""),
        codec=info.get("codec_name", ""),
        sample_rate=int(info.get("sample_rate", 0)),
    )


def decode_in_process(data: bytes, fmt: str) -> Decoded:
    """`decode` for the fast layer: the FFmpeg inside PyAV, in this process, decodes every
    packet (the duration is counted from the samples). Not independent of the encoders, so
    the slow layer keeps Debian's ffmpeg for the checks where that matters."""
    import io

    import av

    pcm = fmt == "pcm"
    options = {"sample_rate": "24000", "ch_layout": "mono"} if pcm else {}
    with av.open(io.BytesIO(data), "r", "s16le" if pcm else None, options) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        rate = stream.codec_context.sample_rate
        return Decoded(samples / rate, container.format.name, stream.codec_context.name, rate)


@pytest.fixture(scope="session")
def ffmpeg() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg/ffprobe missing: run `make test`, which installs Debian's ffmpeg")


class Speech:
    """The real pipeline (validation, synthesizer, executor) driven from synchronous tests."""

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None) -> None:
        self.settings = settings
        self.synthesizer: Synthesizer = build_synthesizer(settings, catalogue=catalogue)
        self.catalogue = self.synthesizer.catalogue

    def plan(self, text: str, **request: Any) -> SpeechPlan:
        return validate(SpeechRequest(text, **request), self.synthesizer, self.settings, None)

    def write(
        self, plan: SpeechPlan, target: Path, progress: Callable[[float], object] | None = None
    ) -> SpeechResult:
        async def report(fraction: float) -> None:
            if progress is not None:
                progress(fraction)

        turn = self.synthesizer.executor.turn(Lane.interactive)
        return asyncio.run(self.synthesizer.write(plan, target, turn, report))

    def apart(
        self, sentences: Sequence[str], joiner: str, target: Path, **request: Any
    ) -> list[bytes]:
        """Each sentence's WAV, made in one request (its sentences synthesized side by side)
        and cut out by the job's timings: the same samples as the sentence made alone, so a
        recognizer hears each as it would alone, for a fraction of the time."""
        result = self.write(self.plan(joiner.join(sentences), format="wav", **request), target)
        pieces = result.timings.pieces
        assert [piece.text.strip() for piece in pieces] == [s.strip() for s in sentences], pieces
        with wave.open(str(target)) as audio:
            rate, width = audio.getframerate(), audio.getsampwidth()
            frames = audio.readframes(audio.getnframes())
        clips = []
        for piece in pieces:
            out = io.BytesIO()
            with wave.open(out, "wb") as clip:
                clip.setnchannels(1)
                clip.setsampwidth(width)
                clip.setframerate(rate)
                clip.writeframes(
                    frames[round(piece.start * rate) * width : round(piece.end * rate) * width]
                )
            clips.append(out.getvalue())
        return clips

    def stream(self, plan: SpeechPlan) -> list[bytes]:
        async def pieces() -> list[bytes]:
            turn = self.synthesizer.executor.turn(Lane.interactive)
            return [piece async for piece in self.synthesizer.stream(plan, turn)]

        return asyncio.run(pieces())

    def samples(
        self,
        plan: SpeechPlan,
        progress: Callable[[float], object] | None = None,
        quick_start: bool = False,
    ) -> list[Samples]:
        async def chunks() -> list[Samples]:
            async def report(fraction: float) -> None:
                if progress is not None:
                    progress(fraction)

            turn = self.synthesizer.executor.turn(Lane.interactive)
            chunks = self.synthesizer.samples(plan, turn, report, quick_start)
            return [chunk async for chunk in chunks]

        return asyncio.run(chunks())

    def close(self) -> None:
        self.synthesizer.executor.close()
        self.catalogue.close()


@pytest.fixture(scope="session")
def speech() -> Iterator[Speech]:
    """Real engines for the whole run (loading Piper takes a second)."""
    service = Speech(Settings())
    yield service
    service.close()


@pytest.fixture(scope="session")
def voices(speech: Speech) -> Speech:
    """The same real engines, by the name the listening tests give them."""
    return speech


@pytest.fixture(scope="session")
def listener() -> Listener:
    """One speech recognizer (Whisper base, 350 MB) for the whole run."""
    return Listener()


@pytest.fixture(scope="module")
def kokoro() -> Iterator[Any]:
    """A Kokoro engine of its own on one thread, for a module's tests of the engine alone."""
    from sayfile.engines.kokoro import KokoroEngine

    engine = KokoroEngine(threads=1)
    yield engine
    engine.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


EnginesFor = Callable[[Settings], list[Engine] | None]


def engine_settings() -> frozenset[str]:
    """The settings engines are built from: those build_engines reads while it builds every
    engine in ENGINES (building one loads nothing until it is used)."""
    settings = Settings(engines=list(ENGINES))
    read: set[str] = set()

    class Reading:
        def __getattr__(self, name: str) -> object:
            read.add(name)
            return getattr(settings, name)

    for engine in build_engines(cast(Settings, Reading())):
        engine.close()
    return frozenset(read)


@pytest.fixture(scope="session")
def shared_engines() -> Iterator[EnginesFor]:
    """Engines built once per run (per worker) for each set of engine settings, for the
    tests' apps: each app built its own before, and loading a voice (Piper's or Kokoro's
    model, the Mandarin reader) again for every test took about a second each. Keyed by
    the factories too, as a test may put an engine of its own in ENGINES. None for settings
    naming an engine that is not there (the app then refuses them itself)."""
    names = sorted(engine_settings())
    built: dict[tuple[object, ...], list[Engine]] = {}

    def engines_for(settings: Settings) -> list[Engine] | None:
        if any(name not in ENGINES for name in settings.engines):
            return None
        factories = tuple(ENGINES[name] for name in settings.engines)
        key = (factories, *(repr(getattr(settings, name)) for name in names))
        if key not in built:
            built[key] = build_engines(settings)
        return built[key]

    yield engines_for
    for engines in built.values():
        for engine in engines:
            engine.close()


@pytest.fixture
def make_client(tmp_path: Path, shared_engines: EnginesFor) -> Iterator[Callable[..., TestClient]]:
    """Build an app with settings overrides and enter its lifespan (real engines, shared with
    the other tests' apps of the same engine settings)."""
    opened: list[TestClient] = []

    def make(peer: str = "testclient", **overrides: Any) -> TestClient:
        """The app for `Settings(**overrides)`, its requests coming from address `peer`."""
        settings = Settings(data_dir=tmp_path / "data", **overrides)
        client = TestClient(create_app(settings, shared_engines(settings)), client=(peer, 50000))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def wait_done(
    client: TestClient | httpx.Client, status_url: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll a job until it has finished; return its last JSON."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(status_url).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout}s"
        time.sleep(0.05)


def book_done(
    client: TestClient | httpx.Client,
    name: str,
    data: bytes,
    media_type: str,
    url: str = "",
    timeout: float = 60,
    **fields: str,
) -> dict[str, Any]:
    """Upload a book as a job (`POST {url}/jobs` with `file` and `fields`) and return the
    job's JSON once it is done."""
    r = client.post(f"{url}/jobs", files={"file": (name, data, media_type)}, data=fields)
    assert r.status_code == 202, r.text
    job = wait_done(client, url + r.json()["status_url"], timeout)
    assert job["status"] == "done", job
    return job


def sayfile_cli(
    *args: str, engines: str = "espeak", voice: str = "espeak:en-us", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`sayfile ARGS` in a fresh process with only these engines and none of the developer's
    settings (text output, exit status not checked)."""
    env = {"PATH": "/usr/bin:/bin", "SAYFILE_ENGINES": engines, "SAYFILE_DEFAULT_VOICE": voice}
    # The sources under test, whichever checkout the virtualenv was installed from.
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent / "src")
    return subprocess.run(
        [sys.executable, "-m", "sayfile", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A real `sayfile serve` process on a local port (with `--workers N`, uvicorn's
    supervisor and its processes), in a process group of its own."""

    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def ready(self) -> Server:
        """This server, once it answers /healthz (60 s at most, or it is killed)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "server exited during start-up"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        os.killpg(self.process.pid, signal.SIGKILL)
        raise AssertionError("server did not start within 60 s")

    def crash(self) -> None:
        """Every process of the server ends at once (kill -9), as in a power cut."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def job_under_way(
    url: str, text: str, until: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """Create an espeak-ng job for `text` on the server at `url`; return its JSON once
    `until(job)` holds (by default: once it is running)."""
    until = until or (lambda job: job["status"] == "running")
    with httpx.Client(base_url=url) as client:
        job: dict[str, Any] = client.post(
            "/jobs", json={"text": text, "voice": "espeak:en-us"}
        ).json()
        deadline = time.monotonic() + 20
        while not until(state := client.get(job["status_url"]).json()):
            assert time.monotonic() < deadline, f"job still {state['status']} after 20 s"
            time.sleep(0.05)
    return job


def launch_server(data_dir: Path, *args: str, **env: str) -> Server:
    """`sayfile serve ARGS` started, not waited for: `ready()` waits (start several side by
    side, then wait for each). Its warnings and errors go to the test's output."""
    return launch_logged_server(data_dir, None, env, args)


def launch_logged_server(
    data_dir: Path, log: Path | None, env: Mapping[str, str], args: Sequence[str] = ()
) -> Server:
    """`launch_server`, with the log written into the file `log` from INFO up (access lines
    included) where one is given."""
    port = free_port()
    environment = {
        **os.environ,
        "SAYFILE_DATA_DIR": str(data_dir),
        **{f"SAYFILE_{k.upper()}": v for k, v in env.items()},
    }
    level = "info" if log is not None else "warning"
    command = [sys.executable, "-m", "sayfile", "serve", "--port", str(port), "--log-level", level]
    with contextlib.ExitStack() as stack:
        written = stack.enter_context(log.open("ab")) if log is not None else None
        process = subprocess.Popen(
            [*command, *args], env=environment, start_new_session=True, stderr=written
        )
    return Server(process, f"http://127.0.0.1:{port}", data_dir)


def start_server(data_dir: Path, *args: str, **env: str) -> Server:
    return launch_server(data_dir, *args, **env).ready()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(
        data_dir: Path | None = None, ready: bool = True, log: Path | None = None, **env: str
    ) -> Server:
        """A server stopped when the test ends; `ready=False` returns it still starting; with
        `log`, its log (from INFO up) is written into that file."""
        server = launch_logged_server(data_dir or tmp_path / "data", log, env)
        started.append(server)
        return server.ready() if ready else server

    yield make
    for server in started:
        server.stop()


class RedisServer:
    """A real redis-server (Debian's package) on a free local port, in a temporary folder."""

    def __init__(self, folder: Path, databases: int = 16, persistent: bool = True) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server missing: run `make test`, which installs it")
        self.folder = folder
        self.databases = databases
        # Restarted servers keep their jobs (every write on disk); the shared one needs no disk.
        self.persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else []
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                *self.persistence,
                "--databases",
                str(self.databases),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, for tests that stop, restart or pause it."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole run, started by the first test that needs one."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), REDIS_DATABASES, persistent=False)
    server.start()
    yield server
    server.stop()


REDIS_DATABASES = 4096
_next_database = iter(range(REDIS_DATABASES))


class RedisDatabases:
    """A test's share of the session's Redis: `url(n)` is a database of its own (numbered from
    a counter, so no test ever sees another's keys), flushed when the test ends. Pub/sub
    channels are the one thing Redis does not separate by database; job ids keep them apart."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.port = server.port
        self._numbers: dict[int, int] = {}

    def url(self, db: int = 0) -> str:
        if db not in self._numbers:
            self._numbers[db] = next(_next_database)
        return self.server.url(self._numbers[db])

    def flush(self) -> None:
        import redis

        for number in self._numbers.values():
            with redis.Redis(port=self.port, db=number) as connection:
                connection.flushdb()


@pytest.fixture
def redis_server(shared_redis_server: RedisServer) -> Iterator[RedisDatabases]:
    """Databases of this test's own on the session's Redis (tests that stop or restart Redis
    take `own_redis_server` instead)."""
    databases = RedisDatabases(shared_redis_server)
    yield databases
    databases.flush()


def start_worker(processes: int = 2, **env: str) -> subprocess.Popen[bytes]:
    """`sayfile worker` with SAYFILE_* settings, in a process group of its own so that
    `stop_worker` can also end the pool's children."""
    environment = {**os.environ, **{f"SAYFILE_{k.upper()}": v for k, v in env.items()}}
    command = [sys.executable, "-m", "sayfile", "worker", "--processes", str(processes)]
    return subprocess.Popen(
        [*command, "--log-level", "WARNING"], env=environment, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the pool to stop (SIGINT), then end whatever is left of its process group."""
    worker.send_signal(signal.SIGINT)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
