"""A Wyoming server (`sayfile wyoming`'s own parts) on a thread with its own event loop, on a
local port, for a test module; and a client's whole answer read with the `wyoming` package's
`AsyncTcpClient`, as Home Assistant reads it."""

from __future__ import annotations

import asyncio
import io
import threading
import wave
from collections import Counter
from dataclasses import dataclass, field

from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.server import AsyncTcpServer

from sayfile.api.wyoming_speech import handlers
from sayfile.jobs.admission import Admission
from sayfile.settings import Settings
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import Services
from sayfile.wyoming_server import speaking_services

# How long a test waits for the server to start or answer before failing loudly.
DEADLINE_S = 120.0


class WyomingThread:
    """`speaking_services(settings)` and an AsyncTcpServer on 127.0.0.1:`wyoming_port`, run
    on a thread until `stop()`. `pieces` counts the sentences its engines made, `engines` them
    by engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.wyoming_port
        self.pieces = 0
        self.engines: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._services: Services | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wyoming server", daemon=True)

    def start(self) -> WyomingThread:
        self._thread.start()
        if not self._ready.wait(DEADLINE_S) or self._failure is not None:
            raise RuntimeError(f"the Wyoming server did not start: {self._failure!r}")
        return self

    @property
    def catalogue(self) -> Catalogue:
        assert self._services is not None
        return self._services.speaker.catalogue

    @property
    def admission(self) -> Admission:
        assert self._services is not None
        return self._services.speaker.live.limit.admission

    def _made(self, engine: str, compute_s: float, audio_s: float) -> None:
        self.pieces += 1
        self.engines[engine] += 1

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        async with speaking_services(self.settings, self._made) as services:
            self._services = services
            server = AsyncTcpServer("127.0.0.1", self.port)
            await server.start(handlers(services.speaker))
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await server.stop()

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(DEADLINE_S)
        if not self._thread.is_alive():
            self._loop.close()


@dataclass
class Heard:
    """What a client received for one request, up to its last event."""

    events: list[Event] = field(default_factory=list)

    @property
    def types(self) -> Counter[str]:
        return Counter(event.type for event in self.events)

    @property
    def audio(self) -> bytes:
        return b"".join(
            AudioChunk.from_event(e).audio for e in self.events if AudioChunk.is_type(e.type)
        )

    @property
    def start(self) -> AudioStart:
        return AudioStart.from_event(next(e for e in self.events if AudioStart.is_type(e.type)))

    @property
    def error(self) -> Error | None:
        found = [Error.from_event(e) for e in self.events if Error.is_type(e.type)]
        return found[0] if found else None

    def wav(self) -> bytes:
        """The audio received, as a WAV file (for the recognizer and decoders)."""
        start = self.start
        out = io.BytesIO()
        with wave.open(out, "wb") as file:
            file.setnchannels(start.channels)
            file.setsampwidth(start.width)
            file.setframerate(start.rate)
            file.writeframes(self.audio)
        return out.getvalue()


async def read_until(client: AsyncTcpClient, *last: str) -> Heard:
    """Every event the server sends until one of type in `last` (or an error)."""
    heard = Heard()
    while True:
        event = await asyncio.wait_for(client.read_event(), DEADLINE_S)
        assert event is not None, f"the server hung up; it had sent {heard.types}"
        heard.events.append(event)
        if event.type in last or Error.is_type(event.type):
            return heard


async def ask(port: int, *events: Event, until: str = "audio-stop") -> Heard:
    """Send `events` on a new connection and read the answer up to an `until` event."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        return await read_until(client, until)
