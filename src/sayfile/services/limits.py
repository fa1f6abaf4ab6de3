"""What a request may ask for, by what it is for: the character limits (one table), the silence
it may add, the plan of a request checked against them; and how much one client may have
under way at once."""

from __future__ import annotations

import functools
from enum import Enum

from sayfile.audio.chapter_marks import CHAPTER_MARK, MAX_CHAPTERS
from sayfile.errors import InvalidInput, TextTooLong, TooManyActive, TooMuchSilence
from sayfile.jobs.admission import Admission, Ticket
from sayfile.jobs.quota import speech_seconds
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan, validate
from sayfile.speech.scheduler import Lane
from sayfile.speech.synthesizer import Synthesizer
from sayfile.store import JobStore


class Purpose(Enum):
    """What a request is for, which decides its character limit."""

    direct = "direct"  # POST /speech: the whole file is the answer
    stream = "stream"  # sent while synthesized
    job = "job"  # a download link
    book = "book"  # an uploaded book, or a long text made as one


# The setting that holds each purpose's character limit.
_LIMITS = {
    Purpose.direct: "max_chars_direct",
    Purpose.stream: "max_chars_job",
    Purpose.job: "max_chars_job",
    Purpose.book: "max_chars_book",
}

# Silence (<break>s, paragraph pauses) a request may ask for on top of as much silence as it
# has speech: pauses can at most double a file, and a word with a thousand breaks is refused.
_SILENCE_S = {
    Purpose.direct: 60.0,
    Purpose.stream: 600.0,
    Purpose.job: 600.0,
    Purpose.book: 3600.0,
}


class PurposePlanner:
    """Plans requests (`speech.plan.validate`) within the limits of what they are for."""

    def __init__(self, settings: Settings, synthesizer: Synthesizer) -> None:
        self.settings = settings
        self.synthesizer = synthesizer

    def limit(self, purpose: Purpose) -> int:
        """The most characters a request for `purpose` may have."""
        limit: int = getattr(self.settings, _LIMITS[purpose])
        return limit

    def plan(self, request: SpeechRequest, purpose: Purpose) -> SpeechPlan:
        """Validate a request for `purpose` (on the thread it is called on). Raises
        InvalidInput (or a subclass such as TextTooLong, naming the setting whose limit the
        text is over) naming what is wrong and what is allowed."""
        setting = f"SAYFILE_{_LIMITS[purpose].upper()}"
        limit = self.limit(purpose)
        plan = validate(request, self.synthesizer, self.settings, limit, setting)
        # The limits hold for what is spoken and written, not for what was typed: a
        # lexicon replacement or a say-as can say far more than its text, a <break> makes
        # audio out of nothing.
        most = self.settings.max_sentence_chars
        for span in plan.spans:
            # Words are cut into sentences of at most `most`; a pronunciation is one engine
            # call whatever its length, so a longer one would pin a thread for minutes.
            if len(said := span.phonemes or span.pinyin or "") > most:
                raise InvalidInput(
                    f"A <phoneme> (or lexicon pronunciation) is {len(said)} characters long; "
                    f"allowed: at most {most} (SAYFILE_MAX_SENTENCE_CHARS). Split it up.",
                    field="text",
                )
        chapters = sum(1 for span in plan.spans if (span.mark or "").startswith(CHAPTER_MARK))
        if chapters > MAX_CHAPTERS:
            # Refused now rather than failing when the marks are written, after synthesis.
            raise InvalidInput(
                f"The text has {chapters} chapter marks (<mark name='{CHAPTER_MARK}...'>); "
                f"allowed: at most {MAX_CHAPTERS}.",
                field="text",
            )
        if plan.spoken_chars > limit:
            raise TextTooLong(plan.spoken_chars, limit, setting, spoken=True)
        allowed = _SILENCE_S[purpose] + speech_seconds(plan.words, plan.speed)
        if plan.silence_s > allowed:
            raise TooMuchSilence(plan.silence_s, allowed, _SILENCE_S[purpose])
        return plan

    async def plan_on_executor(self, request: SpeechRequest, purpose: Purpose) -> SpeechPlan:
        """`plan`, on the executor: reading Markdown (about 3 ms per 1,000 characters) and
        finding each sentence's language (5-19 ms per 1,000) would hold up the event loop."""
        lane = Lane.background if purpose in (Purpose.job, Purpose.book) else Lane.interactive
        return await self.synthesizer.executor.run(
            functools.partial(self.plan, request, purpose), lane
        )


class ActiveLimit:
    """How much one client may have under way at once (`max_active_per_client`): its
    unfinished jobs in the store, and its streams and answers in this process."""

    def __init__(self, settings: Settings, store: JobStore, admission: Admission) -> None:
        self.settings = settings
        self.store = store
        self.admission = admission

    async def check(self, client: str) -> None:
        """Raises TooManyActive when `client` has as much under way as it may."""
        active = await self.store.active_count(client) + self.admission.under_way(client)
        if active >= self.settings.max_active_per_client:
            raise TooManyActive(self.settings.max_active_per_client)

    async def admit(self, client: str) -> Ticket:
        """A place in this process for `client`'s stream or answer (the caller releases it).
        Raises TooManyActive, or Busy when the process has no place left."""
        await self.check(client)
        return self.admission.enter(held_by=client)
