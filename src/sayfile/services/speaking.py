"""Speech for someone waiting (POST /speech, the OpenAI route, voice samples): a short text's
whole file made in memory, a stream sent while it is made, or a longer text's job waited for
until a limit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import BinaryIO

from sayfile.audio.formats import FORMATS, audio_format
from sayfile.audio.timings import Timing
from sayfile.errors import InvalidInput, SayfileError
from sayfile.jobs.admission import Ticket
from sayfile.jobs.answers import Answer, AnswerCache
from sayfile.jobs.download_names import speech_stem
from sayfile.jobs.lifecycle import failure_error
from sayfile.models import SpeechRequest
from sayfile.services.downloads import Downloads
from sayfile.services.limits import ActiveLimit, Purpose, PurposePlanner
from sayfile.services.reading import JobReader
from sayfile.services.submitting import Submissions
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import Synthesizer
from sayfile.speech.word_times import SpokenWords
from sayfile.store.records import Job, JobStatus
from sayfile.voices.catalogue import Catalogue, sample_text


@dataclass
class SpeechStream:
    """An admitted stream whose first piece is already made: `chunks()` yields it and the
    rest; `close()` (always called) stops synthesis and gives the place back. `heard` holds
    the timing of every piece whose bytes have been yielded (and perhaps of the next), and
    `words` their words (`words.known` False once a piece's words are not timed)."""

    plan: SpeechPlan
    first: bytes
    rest: AsyncGenerator[bytes, None]
    ticket: Ticket
    heard: list[Timing]
    words: SpokenWords

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        if self.first:
            yield self.first
        async for piece in self.rest:
            yield piece

    async def close(self) -> None:
        try:
            await self.rest.aclose()
        finally:
            self.ticket.release()


class LiveSpeech:
    """Speech made in this process while its client waits, before background jobs' sentences:
    whole answers kept in memory (and answered again from there), and streams."""

    def __init__(
        self,
        settings: Settings,
        synthesizer: Synthesizer,
        limit: ActiveLimit,
        answers: AnswerCache,
        submissions: Submissions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.synthesizer = synthesizer
        self.limit = limit
        self.answers = answers
        self.submissions = submissions
        self._clock = clock

    async def answer(self, plan: SpeechPlan, client: str | None) -> Answer:
        """The whole file of `plan` in memory: a recent answer, the file of a done identical
        job, or made now. Raises TooManyActive, Busy, and the engine's errors."""
        now = self._clock()
        key = self.submissions.reuse_key(plan, client)
        answer = self.answers.get(key, now)
        if answer is not None:
            return answer
        answer = await self.submissions.reused_answer(key, plan, now)
        if answer is None:
            holder = client or ""
            ticket = await self.limit.admit(holder)
            try:
                turn = self.synthesizer.executor.turn(Lane.interactive, holder)
                made = await self.synthesizer.render(plan, turn)
            finally:
                ticket.release()
            answer = Answer(
                made.data, plan.format, speech_stem(plan.words, plan.title), made.duration_s
            )
        self.answers.put(key, answer, now + self.settings.ttl_seconds)
        return answer

    async def stream(self, plan: SpeechPlan, client: str | None) -> SpeechStream:
        """A stream of `plan`, admitted, with its first piece made. Raises TooManyActive,
        Busy, EngineError."""
        key = client or ""
        ticket = await self.limit.admit(key)
        heard: list[Timing] = []
        words = SpokenWords(plan.written_words, plan.aliases)
        turn = self.synthesizer.executor.turn(Lane.interactive, key)
        rest = self.synthesizer.stream(plan, turn, heard=heard, words=words)
        try:
            first = await anext(rest, b"")
        except BaseException:
            with contextlib.suppress(Exception):
                await rest.aclose()
            ticket.release()
            raise
        return SpeechStream(plan, first, rest, ticket, heard, words)


class Speaker:
    """Takes speech requests from someone waiting; hands back audio, streams and jobs."""

    def __init__(
        self,
        settings: Settings,
        planner: PurposePlanner,
        live: LiveSpeech,
        submissions: Submissions,
        reader: JobReader,
        downloads: Downloads,
        catalogue: Catalogue,
    ) -> None:
        self.settings = settings
        self.planner = planner
        self.live = live
        self.submissions = submissions
        self.reader = reader
        self.downloads = downloads
        self.catalogue = catalogue
        # Voice samples being made, by cache key.
        self._samples: dict[str, asyncio.Lock] = {}

    async def speak(
        self, request: SpeechRequest, client: str | None, purpose: Purpose = Purpose.direct
    ) -> Answer | Job:
        """Make the whole file for someone waiting (POST /speech). Text of up to
        `max_chars_in_memory` characters is made in memory and answered as such: no record, no
        file, and the same request again is answered from the recent answers. Longer text is a
        job: the done job, or the job still working when the wait limit passed (its link
        serves it later). Either way its sentences go before background jobs'. Cancelling the
        call (the client hung up) stops the synthesis and leaves no file. Raises InvalidInput,
        TooManyActive, Busy, and the job's failure as an error."""
        plan = await self.planner.plan_on_executor(request, purpose)
        if len(plan.words) > self.settings.max_chars_in_memory:
            return await self._speak_as_job(plan, client)
        return await self.live.answer(plan, client)

    async def _speak_as_job(self, plan: SpeechPlan, client: str | None) -> Job:
        job = self.submissions.new_job(plan, client, one_time=False, interactive=True)
        with self.reader.watch(job.id) as watch:
            job = await self.submissions.submit(job, plan)
            try:
                job = await self.reader.until_finished(
                    job, watch, self.settings.direct_wait_seconds
                )
            except asyncio.CancelledError:
                with contextlib.suppress(SayfileError):
                    await self.submissions.cancel(job.id)
                raise
        if job.status == JobStatus.failed:
            raise failure_error(job)
        return job

    async def stream(self, request: SpeechRequest, client: str | None) -> SpeechStream:
        """Admit a stream and make its first piece, so that a refusal or an engine error on
        the first sentence is an error status, not an empty 200. Raises TooManyActive, Busy,
        InvalidInput, EngineError."""
        plan = await self.planner.plan_on_executor(request, Purpose.stream)
        if not plan.format.streamable:
            streamable = ", ".join(name for name, f in FORMATS.items() if f.streamable)
            raise InvalidInput(
                f"format {plan.format.name} cannot be streamed (its container is written "
                f"last); allowed for streams: {streamable}.",
                field="format",
            )
        return await self.live.stream(plan, client)

    async def speak_or_stream(
        self, request: SpeechRequest, client: str | None
    ) -> SpeechStream | Answer | Job:
        """For clients that save what they get (the OpenAI route): a stream, unless the format's
        header states its length (WAV, FLAC), which only a whole file gets right; then the
        whole file as `speak` gives it (with the stream's character limit)."""
        fmt = audio_format(request.format or self.settings.default_format)
        if fmt.sized_header:
            return await self.speak(request, client, Purpose.stream)
        return await self.stream(request, client)

    async def sample(self, voice_id: str, client: str | None = None) -> Job:
        """A short sentence in the voice's own language, made the first time it is asked
        for and then served from the finished file while it lives; `client`'s limits count
        it like speech. Raises UnknownVoice, and what `speak` raises (TooManyActive, Busy)."""
        voice = self.catalogue.resolve(voice=voice_id)
        text = sample_text(voice)
        request = SpeechRequest(text, voice=voice.id, format="mp3")
        plan = await self.planner.plan_on_executor(request, Purpose.direct)
        # Many asking for the same sample at once wait for the one being made and then share
        # its file, rather than each queueing a job of its own.
        key = self.submissions.reuse_key(plan, client)
        lock = self._samples.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                # A job with a kept file, not an answer in memory: players fetch in ranges.
                return await self._speak_as_job(plan, client)
        finally:
            if not lock.locked() and self._samples.get(key) is lock:
                del self._samples[key]

    def voice_ids(self) -> frozenset[str]:
        """Every voice id the catalogue has (for the OpenAI route's voice names)."""
        return frozenset(voice.id for voice in self.catalogue.voices())

    def eta(self, job: Job) -> float | None:
        """The time left of a job `speak` gave back unfinished (`JobReader.eta`)."""
        return self.reader.eta(job)

    async def open_audio(self, job_id: str) -> tuple[Job, BinaryIO]:
        """The file of a job `speak` or `sample` gave back done (`Downloads.open_audio`)."""
        return await self.downloads.open_audio(job_id)
