"""The Wyoming protocol's text-to-speech side, which Home Assistant's voice pipeline speaks:
`describe` answered with every voice, `synthesize` (and the streamed `synthesize-start`,
`-chunk`, `-stop`) answered with raw audio as each piece is made. One handler per connection,
over the same service as the HTTP stream (`Speaker.stream`), so voices, limits, loudness,
lexicons and fair turns are the HTTP routes' own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeTextFormat,
    SynthesizeVoice,
)

from sayfile.api.wyoming_voices import describe
from sayfile.audio.formats import FORMATS
from sayfile.errors import InvalidInput, SayfileError, TextTooLong
from sayfile.models import SpeechRequest
from sayfile.services.limits import Purpose
from sayfile.services.speaking import Speaker
from sayfile.text.sentences import sentences

log = logging.getLogger(__name__)

# Raw 16-bit mono PCM at the rate the format table gives it: what Wyoming's audio events carry.
PCM = FORMATS["pcm"]
RATE = PCM.sample_rate or 24_000
WIDTH = 2
CHANNELS = 1
# Audio goes out in chunks of at most a quarter of a second, so a player can start on a long
# sentence's first part (wyoming-piper sends about 0.05 s at a time).
CHUNK_BYTES = RATE // 4 * WIDTH * CHANNELS


@dataclass
class _Say:
    """One piece of work, in the order received: text in a voice, and what to send around its
    audio (`audio-start` before it when it opens an answer, `audio-stop` after it when it
    ends one, `synthesize-stopped` after that when it ends a streamed request)."""

    text: str
    voice: SynthesizeVoice | None
    ssml: bool
    answer: int
    opens: bool
    closes: bool
    stream_ends: bool = False
    # A streamed request refused part way: said in its turn, after the audio before it.
    refusal: SayfileError | None = None


@dataclass
class _TextStream:
    """A streamed request between `synthesize-start` and `synthesize-stop`: the voice, the
    text not yet a whole sentence, and how much has come."""

    voice: SynthesizeVoice | None
    ssml: bool
    answer: int
    pending: str = ""
    received: int = 0
    opened: bool = False
    failed: bool = False


class WyomingSpeech(AsyncEventHandler):
    """One Wyoming connection. Events are read while audio is made (a worker task takes the
    work in order), so a client that goes away is noticed at once and its work cancelled."""

    def __init__(
        self,
        speaker: Speaker,
        info: Event,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.speaker = speaker
        self.info = info
        peer = writer.get_extra_info("peername")
        # The client's address is its key for limits and fair turns, as over HTTP.
        self.client = str(peer[0]) if isinstance(peer, tuple) else "wyoming"
        self._work: asyncio.Queue[_Say] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._stream: _TextStream | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._answers = 0
        self._failed: set[int] = set()

    async def run(self) -> None:
        # A client gone without a goodbye (reset) is the usual end, not an error.
        with contextlib.suppress(ConnectionError):
            await super().run()

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._handle(event)
        except (KeyError, TypeError, ValueError) as exc:
            await self._error(f"Malformed {event.type} event: {exc!r}.", "InvalidInput")
        except SayfileError as exc:
            await self._error(str(exc), type(exc).__name__)
        return True

    async def _handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event(self.info)
        elif Synthesize.is_type(event.type):
            # Home Assistant sends the whole text as `synthesize` too, inside a stream, for
            # servers that do not stream: the stream already has it.
            if self._stream is None:
                said = Synthesize.from_event(event)
                answer = self._next_answer()
                ssml = said.text_format == SynthesizeTextFormat.SSML
                self._put(_Say(said.text, said.voice, ssml, answer, opens=True, closes=True))
        elif SynthesizeStart.is_type(event.type):
            start = SynthesizeStart.from_event(event)
            ssml = start.text_format == SynthesizeTextFormat.SSML
            if self._stream is not None:
                # A new stream before the last one's stop: the last one's text is not lost.
                self._end_stream()
            self._stream = _TextStream(start.voice, ssml, self._next_answer())
            self._watch_idle()
        elif SynthesizeChunk.is_type(event.type):
            self._take_chunk(SynthesizeChunk.from_event(event).text)
            self._watch_idle()
        elif SynthesizeStop.is_type(event.type):
            self._end_stream()

    def _watch_idle(self) -> None:
        """An open stream that hears nothing for `wyoming_stream_idle_seconds` is ended as if
        stopped (its text said, its answer closed), so no client leaves one open for ever."""
        if self._idle is not None:
            self._idle.cancel()
        stream = self._stream
        if stream is None:
            return

        def ended() -> None:
            if self._stream is stream:
                log.info("wyoming stream ended after %.0f s without events", idle_s)
                self._end_stream()

        idle_s = self.speaker.settings.wyoming_stream_idle_seconds
        self._idle = asyncio.get_running_loop().call_later(idle_s, ended)

    def _take_chunk(self, text: str) -> None:
        stream = self._started("synthesize-chunk")
        if stream.failed:
            return  # refused once already; its stop ends it
        stream.received += len(text)
        limit = self.speaker.planner.limit(Purpose.stream)
        if stream.received > limit:
            stream.failed = True
            refusal = TextTooLong(stream.received, limit, "SAYFILE_MAX_CHARS_JOB")
            self._put(_Say("", None, False, stream.answer, False, False, refusal=refusal))
            return
        stream.pending += text
        if stream.ssml:
            return  # an SSML document is read whole
        said = list(sentences(stream.pending, self.speaker.settings.max_sentence_chars))
        # The last sentence may go on in the next chunk; those before it are whole.
        if len(said) > 1:
            cut = stream.pending.rindex(said[-1])
            whole, stream.pending = stream.pending[:cut], stream.pending[cut:]
            self._put(_Say(whole, stream.voice, False, stream.answer, not stream.opened, False))
            stream.opened = True

    def _end_stream(self) -> None:
        stream = self._started("synthesize-stop")
        self._stream = None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        rest = stream.pending.strip()
        if rest or not stream.opened:
            # Text that never had a word is refused by the plan like an empty `synthesize`.
            self._put(
                _Say(rest, stream.voice, stream.ssml, stream.answer, not stream.opened, True, True)
            )
        else:
            self._put(_Say("", None, False, stream.answer, False, True, True))

    def _started(self, event_type: str) -> _TextStream:
        if self._stream is None:
            raise InvalidInput(
                f"{event_type} came without synthesize-start; start a stream first.",
                field="text",
            )
        return self._stream

    def _next_answer(self) -> int:
        self._answers += 1
        return self._answers

    def _put(self, say: _Say) -> None:
        self._work.put_nowait(say)
        if self._worker is None:
            self._worker = asyncio.create_task(self._run_work(), name="wyoming speech")

    async def _run_work(self) -> None:
        while True:
            say = await self._work.get()
            try:
                await self._say(say)
                if say.closes:
                    self._failed.discard(say.answer)
            except SayfileError as exc:
                self._failed.add(say.answer)
                await self._error(str(exc), type(exc).__name__)
                if say.stream_ends:
                    await self.write_event(SynthesizeStopped().event())
            except ConnectionError:
                return  # the client went; `disconnect` cancels the rest
            except Exception:
                # Not the client's fault: said as such, and the connection stays usable.
                log.exception("wyoming synthesis failed")
                self._failed.add(say.answer)
                await self._error("Internal error while making the audio.", "InternalError")
                if say.stream_ends:
                    await self.write_event(SynthesizeStopped().event())

    async def _say(self, say: _Say) -> None:
        if say.refusal is not None:
            raise say.refusal
        if say.answer in self._failed:
            # A streamed request that already failed says nothing more, but still ends.
            if say.stream_ends:
                await self.write_event(SynthesizeStopped().event())
            return
        if say.text or say.opens:
            await self._speak(say)
        if say.closes:
            await self.write_event(AudioStop().event())
        if say.stream_ends:
            await self.write_event(SynthesizeStopped().event())

    async def _speak(self, say: _Say) -> None:
        voice = say.voice or SynthesizeVoice()
        request = SpeechRequest(
            say.text,
            voice=voice.name,
            language=None if voice.name else voice.language,
            format=PCM.name,
            # Plain text is read as the HTTP routes read it (Markdown from a chat agent is
            # read as a reader sees it); SSML only when the client says so.
            text_format="ssml" if say.ssml else None,
        )
        stream = await self.speaker.stream(request, self.client)
        try:
            if say.opens:
                await self.write_event(AudioStart(RATE, WIDTH, CHANNELS).event())
            odd = b""
            async for data in stream.chunks():
                data = odd + data
                # A chunk holds whole samples.
                whole = len(data) - len(data) % WIDTH
                odd = data[whole:]
                for at in range(0, whole, CHUNK_BYTES):
                    piece = data[at : min(at + CHUNK_BYTES, whole)]
                    await self.write_event(AudioChunk(RATE, WIDTH, CHANNELS, piece).event())
        finally:
            await stream.close()

    async def _error(self, text: str, code: str) -> None:
        log.info("wyoming request refused (%s): %s", code, text)
        with contextlib.suppress(ConnectionError):
            await self.write_event(Error(text=text, code=code).event())

    async def disconnect(self) -> None:
        """The client went: whatever it asked for and did not get is cancelled, so its
        engines' turns and its place in the process are given back."""
        if self._idle is not None:
            self._idle.cancel()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker


def handlers(
    speaker: Speaker,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], WyomingSpeech]:
    """The handler factory a Wyoming server takes, with the voices listed once (the catalogue
    does not change while the process runs)."""
    info = describe(speaker.catalogue).event()

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> WyomingSpeech:
        return WyomingSpeech(speaker, info, reader, writer)

    return handler
