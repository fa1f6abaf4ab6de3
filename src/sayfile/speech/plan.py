"""What a request means, decided once: the `SpeechPlan` (text or SSML, voice, format, speed,
what is said, loudness target), the one validation every interface and every worker uses
(naming what is wrong and what is allowed), and the `Planner` that resolves voices, languages
and lexicons for it."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Protocol

from sayfile.audio.formats import AudioFormat, audio_format
from sayfile.errors import InvalidInput, TextTooLong, UnknownLanguage
from sayfile.lru_map import LruMap
from sayfile.models import SpeechRequest, Voice
from sayfile.settings import MAX_LUFS, MIN_LUFS, Settings
from sayfile.text.front_matter import front_matter
from sayfile.text.language_detection import SentenceLanguages
from sayfile.text.language_tags import primary
from sayfile.text.lexicon import Alias, Lexicon, Pronounced
from sayfile.text.markup import TextFormat, spoken, text_format
from sayfile.text.sentences import normalize
from sayfile.text.spans import Span
from sayfile.text.ssml import looks_like_ssml, parse_ssml
from sayfile.voices.catalogue import Catalogue

MIN_SPEED = 0.25
MAX_SPEED = 4.0
# Text this many times longer than its limit is refused before it is cleaned up (clean-up
# folds white space, and SSML markup is not spoken, so text somewhat over the limit may fit).
_RAW_FACTOR = 4
# Requests' own lexicons whose matchers are kept at once.
_KEPT_LEXICONS = 8


@dataclass(frozen=True, slots=True)
class SpeechPlan:
    """A validated request: its text (normalised, or an SSML document), the chosen voice,
    format and speed; what is said (`spans`: from SSML and lexicons, empty for plain text
    said as it is), the loudness target (None: off), the request's own lexicon entries, and
    whether its sentences were routed to their languages' voices."""

    text: str
    voice: Voice
    format: AudioFormat
    speed: float
    spans: tuple[Span, ...] = ()
    loudness: float | None = None
    lexicon: tuple[dict[str, str], ...] = ()
    # `text` is an SSML document (else the words as said, Markdown and addresses read already).
    ssml: bool = False
    routed: bool = False
    """Nobody named a voice or language: sentences go to their languages' voices."""
    aliases: tuple[Alias, ...] = ()
    """Where a lexicon's alias is said in place of a term, in `written_words`."""
    unaliased: str = ""
    """The words as written before lexicon aliases replaced terms, where one did."""
    words: str = field(kw_only=True, repr=False, compare=False)
    """What is said, as plain text (an SSML document's words). Joined once by whoever makes
    the plan, off the event loop, and carried over by `dataclasses.replace`: the 99,000 spans
    of a book-size SSML document take milliseconds to join."""
    title: str | None = field(kw_only=True, default=None, compare=False)
    """What the text says it is called (a Markdown text's front matter `title`), which names
    its file; None where it says nothing."""
    silence_s: float = field(kw_only=True, default=0.0, repr=False, compare=False)
    """Seconds of silence the spans ask for (<break>s, paragraph pauses), at any speed; summed
    once, as `words` is joined once."""

    @property
    def written_words(self) -> str:
        """The words as the request wrote them (`words` before lexicon aliases)."""
        return self.unaliased or self.words

    @property
    def script(self) -> tuple[Span, ...]:
        """What is said, in order."""
        return self.spans or (Span(self.text),)

    def at_rate_of(self, voice: Voice) -> SpeechPlan:
        """The same speech made at `voice`'s sample rate (a routed part of a book, which is
        joined with the others without encoding again): what the plan's own voice said, it
        still says."""
        if voice == self.voice:
            return self
        script = tuple(
            s if s.voice else dataclasses.replace(s, voice=self.voice.id) for s in self.script
        )
        return dataclasses.replace(self, voice=voice, spans=script)

    @property
    def voices(self) -> tuple[str, ...]:
        """The voices spans name (a <voice>, or sentences routed to their language's voice)."""
        return tuple(sorted({span.voice for span in self.spans if span.voice}))

    @property
    def spoken_chars(self) -> int:
        """Characters the engines are given, after SSML, say-as and lexicon expansion: a
        span's pronunciation where it has one, else its words (one separator between)."""
        sizes = [len(s.phonemes or s.pinyin or s.text) for s in self.script]
        return sum(sizes) + max(0, sum(1 for size in sizes if size) - 1)


class Planner:
    """Resolves what a request names, one per process: voices and languages from the
    catalogue, the configured lexicons (with each request's own entries), and the language
    of each sentence nobody labelled."""

    def __init__(self, catalogue: Catalogue, lexicon: Lexicon | None = None) -> None:
        self._catalogue = catalogue
        self.lexicon = lexicon or Lexicon()
        self.languages = SentenceLanguages(catalogue)
        """The language of each sentence nobody labelled (its identifier built on first use)."""
        self._lexicons: LruMap[str, Lexicon] = LruMap(_KEPT_LEXICONS)
        self._lexicons_lock = threading.Lock()

    @property
    def catalogue(self) -> Catalogue:
        """The voices requests are resolved against (given once: nothing assigns another)."""
        return self._catalogue

    def plan_of(self, text: str, voice_id: str, fmt: str, speed: float) -> SpeechPlan:
        """A plan of plain `text` said as it is (warming up, tests). Raises UnknownVoice when
        this process does not have the voice."""
        voice = self.catalogue.resolve(voice=voice_id)
        return SpeechPlan(text, voice, audio_format(fmt), speed, words=text)

    def pronounced(
        self, spans: list[Span], language: str, entries: tuple[dict[str, str], ...]
    ) -> Pronounced:
        """`spans` with the configured lexicons and the request's `entries` (which win)
        applied, in `language` where a span does not say its own, and where aliases went in
        (`Lexicon.apply_spans`). Raises InvalidLexicon."""
        return self._lexicon_with(entries).apply_spans(spans, language)

    def _lexicon_with(self, entries: tuple[dict[str, str], ...]) -> Lexicon:
        """The configured lexicon with a request's `entries`, its matchers built once for the
        same entries however many requests bring them (the last `_KEPT_LEXICONS` kept: a
        matcher of 10,000 terms is about 10 MB and 0.1 s of building). Raises InvalidLexicon."""
        if not entries:
            return self.lexicon
        key = json.dumps(entries, sort_keys=True)
        with self._lexicons_lock:
            merged = self._lexicons.get(key)
        if merged is None:
            merged = self.lexicon.merged(Lexicon.from_request(entries))
            with self._lexicons_lock:
                self._lexicons[key] = merged
        return merged

    def voice_of(self, span: Span, default: Voice) -> Voice:
        """The voice a span is said in: its own (<voice name>), else the best for its language
        when that is not the default voice's, else the default. Raises UnknownVoice,
        UnknownLanguage."""
        if span.voice:
            return self.catalogue.resolve(voice=span.voice)
        if span.language and primary(span.language) != primary(default.language):
            return self.catalogue.resolve(language=span.language)
        return default

    def routed_to_languages(
        self, spans: list[Span], default: Voice, engine: str | None
    ) -> tuple[list[Span], Voice]:
        """Nobody named a voice or a language: each run of sentences goes to the best voice
        for its language (`SentenceLanguages.label`), one voice per language, the default
        voice for its own language; the plan's voice is that of the language most of the
        text is in."""
        labelled, main = self.languages.label(spans)
        if main is None:
            return spans, default
        voices: dict[str, Voice] = {}

        def voice_for(language: str) -> Voice:
            if language not in voices:
                try:
                    voices[language] = self.catalogue.for_language(language, engine)
                except UnknownLanguage:
                    voices[language] = default
            return voices[language]

        # Spans the text labelled are new; the document's own (a <voice>, an xml:lang) are kept.
        own = {id(span) for span in spans}
        routed = [
            span
            if id(span) in own or span.language is None
            else dataclasses.replace(span, voice=voice_for(span.language).id)
            for span in labelled
        ]
        return routed, voice_for(main)

    def routed_by_script(self, spans: list[Span], voice: Voice, engine: str | None) -> list[Span]:
        """A voice or a language was named: each run of sentences in a CJK script `voice`
        cannot read (a Japanese or Korean sentence in Mandarin notes) goes to the voice for the
        script's language, where one is installed (`SentenceLanguages.by_script`); the rest
        stays with `voice`."""
        own = {id(span) for span in spans}
        routed = []
        for span in self.languages.by_script(spans, voice.language):
            if id(span) in own or span.language is None:  # the document's own, or unchanged
                routed.append(span)
            elif primary(span.language) == primary(voice.language):
                routed.append(dataclasses.replace(span, language=None))
            else:
                try:
                    other = self.catalogue.for_language(span.language, engine).id
                except UnknownLanguage:
                    other = voice.id
                routed.append(dataclasses.replace(span, voice=other))
        return routed


class HasPlanner(Protocol):
    """What holds the process's planner (the `Synthesizer`, which speaks the plans)."""

    @property
    def planner(self) -> Planner: ...


def validate(
    request: SpeechRequest,
    synthesizer: HasPlanner,
    settings: Settings,
    limit: int | None,
    setting: str | None = None,
) -> SpeechPlan:
    """The one validation of a request, for the service, the command line (which has no
    character limit) and workers (which plan again what the service planned); `setting` names
    the limit in its error. The request's `text_format` (`markup.text_format`: `auto` by
    default) says how the text is read: SSML, Markdown or HTML as a reader sees it, or plain
    text (bare addresses said briefly unless `plain` was asked for). Raises InvalidInput (or a
    subclass: TextTooLong, InvalidSsml, InvalidLexicon, UnknownVoice, ...) naming what is
    wrong and what is allowed."""
    planner = synthesizer.planner
    fmt = audio_format(request.format or settings.default_format)
    speed = request.speed
    if not isinstance(speed, int | float) or not math.isfinite(speed):
        raise InvalidInput("speed must be a number.", field="speed")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidInput(
            f"speed {speed} is out of range; allowed: {MIN_SPEED} to {MAX_SPEED}.",
            field="speed",
        )
    loudness = loudness_target(request.loudness, settings.loudness)
    if limit is not None and len(request.text) > _RAW_FACTOR * limit:
        # Far over the limit even before clean-up: refused without looking at each character.
        raise TextTooLong(len(request.text), limit, setting)
    reading = text_format(request.text_format, request.text)
    if reading is TextFormat.ssml:
        text = request.text.strip()
        if not looks_like_ssml(text):
            # `ssml` asked for a fragment ("Hi <break time='1s'/> there"): its <speak> is implied.
            text = f"<speak>{text}</speak>"
        spans = parse_ssml(text, max_chars=len(text))
    else:
        text = normalize(spoken(request.text, reading))
        spans = [Span(text)]
    found_matter = front_matter(request.text) if reading is TextFormat.markdown else None
    words = " ".join(span.text for span in spans if span.text)
    if not words and not any(span.phonemes or span.pinyin for span in spans):
        raise InvalidInput("Text is empty; give some words to speak.", field="text")
    if limit is not None and len(words) > limit:
        raise TextTooLong(len(words), limit, setting)
    if not any(char.isalnum() for char in words):
        raise InvalidInput(
            "Text has nothing to speak (only punctuation or symbols); give some words.",
            field="text",
        )
    voice = planner.catalogue.resolve(
        voice=request.voice, language=request.language, engine=request.engine
    )
    routed = not (request.voice or request.language)
    if routed:
        spans, voice = planner.routed_to_languages(spans, voice, request.engine)
    else:
        spans = planner.routed_by_script(spans, voice, request.engine)
    said, found = planner.pronounced(spans, voice.language, request.lexicon)
    for span in {(s.voice, s.language): s for s in said}.values():
        planner.voice_of(span, voice)  # every voice and language the text asks for exists
    plain = len(said) == 1 and said[0] == Span(text)
    aliases = () if plain else tuple(found)
    if not plain:
        # What is said, once the lexicons have had their say.
        words = " ".join(span.text for span in said if span.text)
    return SpeechPlan(
        text,
        voice,
        fmt,
        float(speed),
        () if plain else tuple(said),
        loudness,
        tuple(request.lexicon),
        ssml=reading is TextFormat.ssml,
        routed=routed and not plain,
        aliases=aliases,
        unaliased=" ".join(span.text for span in spans if span.text) if aliases else "",
        words=words,
        title=found_matter.title if found_matter else None,
        silence_s=sum(span.pause_before_s for span in said),
    )


def loudness_target(asked: float | str | None, default: float | None) -> float | None:
    """The loudness target in LUFS a request asks for (`default` where it does not), or None
    for off. Raises InvalidInput naming the allowed range."""
    if asked is None:
        return default
    if isinstance(asked, str):
        if asked.strip().lower() == "off":
            return None
        try:
            asked = float(asked)
        except ValueError:
            raise InvalidInput(
                f"loudness {asked!r} is not a number; allowed: {MIN_LUFS:g} to {MAX_LUFS:g} "
                "(LUFS), or off.",
                field="loudness",
            ) from None
    if not math.isfinite(asked) or not MIN_LUFS <= asked <= MAX_LUFS:
        raise InvalidInput(
            f"loudness {asked} is out of range; allowed: {MIN_LUFS:g} to {MAX_LUFS:g} (LUFS), "
            "or off.",
            field="loudness",
        )
    # To the nearest 0.5 LU, finer than anyone hears: each target keeps its own gains, so
    # the targets a process measures for are a small fixed set, not whatever clients send.
    return round(float(asked) * 2) / 2
