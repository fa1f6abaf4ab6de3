"""Turning a request into a plan: the one validation every interface and every worker uses
(format, speed, loudness, text or SSML, lexicons, voices), naming what is wrong and what is
allowed."""

from __future__ import annotations

import dataclasses
import math

import sayfile.text.sentences as textmod
from sayfile.audio.formats import audio_format
from sayfile.errors import InvalidInput, TextTooLong, UnknownLanguage
from sayfile.models import SpeechRequest, Voice
from sayfile.settings import Settings
from sayfile.speech.synthesizer import SpeechPlan, Synthesizer
from sayfile.text.markup import TextFormat, spoken, text_format
from sayfile.text.spans import Span
from sayfile.text.ssml import looks_like_ssml, parse_ssml

MIN_SPEED = 0.25
MAX_SPEED = 4.0
MIN_LUFS = -70.0
MAX_LUFS = -5.0
# Text this many times longer than its limit is refused before it is cleaned up (clean-up
# folds white space, and SSML markup is not spoken, so text somewhat over the limit may fit).
_RAW_FACTOR = 4


def validate(
    request: SpeechRequest,
    synthesizer: Synthesizer,
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
    catalogue = synthesizer.catalogue
    fmt = audio_format(request.format or settings.default_format)
    speed = request.speed
    if not isinstance(speed, int | float) or not math.isfinite(speed):
        raise InvalidInput("speed must be a number.", field="speed")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidInput(
            f"speed {speed} is out of range; allowed: {MIN_SPEED} to {MAX_SPEED}.",
            field="speed",
        )
    loudness = _loudness(request.loudness, settings.loudness)
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
        text = textmod.normalize(spoken(request.text, reading))
        spans = [Span(text)]
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
    voice = catalogue.resolve(voice=request.voice, language=request.language, engine=request.engine)
    routed = not (request.voice or request.language)
    if routed:
        spans, voice = _routed(spans, voice, synthesizer, request.engine)
    said = synthesizer.pronounced(spans, voice.language, request.lexicon)
    for span in {(s.voice, s.language): s for s in said}.values():
        synthesizer.voice_of(span, voice)  # every voice and language the text asks for exists
    plain = len(said) == 1 and said[0] == Span(text)
    return SpeechPlan(
        text,
        voice,
        fmt,
        float(speed),
        () if plain else said,
        loudness,
        tuple(request.lexicon),
        ssml=reading is TextFormat.ssml,
        routed=routed and not plain,
    )


def _routed(
    spans: list[Span], default: Voice, synthesizer: Synthesizer, engine: str | None
) -> tuple[list[Span], Voice]:
    """Nobody named a voice or a language: each run of sentences goes to the best voice for
    its language (`SentenceLanguages.label`), one voice per language, the default voice for
    its own language; the plan's voice is that of the language most of the text is in."""
    labelled, main = synthesizer.languages.label(spans)
    if main is None:
        return spans, default
    voices: dict[str, Voice] = {}

    def voice_for(language: str) -> Voice:
        if language not in voices:
            try:
                voices[language] = synthesizer.catalogue.for_language(language, engine)
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


def _loudness(asked: float | str | None, default: float | None) -> float | None:
    """The loudness target in LUFS, or None for off."""
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
