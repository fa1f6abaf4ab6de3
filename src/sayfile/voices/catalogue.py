"""The voice catalogue across engines, and choosing a voice by id or by language."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from sayfile.engines import Engine
from sayfile.errors import InvalidBlend, UnknownLanguage, UnknownVoice
from sayfile.heard import HARD_MARGIN, TIED_MARGIN, Heard, measured
from sayfile.models import Voice
from sayfile.text.language_tags import primary
from sayfile.voices.blends import Mixer, looks_like_blend


def _tag(language: str) -> str:
    return language.strip().replace("_", "-").lower()


class Catalogue:
    """Every voice of every engine, with ids `engine:name`, and the engine behind each."""

    def __init__(
        self,
        engines: list[Engine],
        default_voice: str,
        heard: Mapping[str, Heard] | None = None,
    ) -> None:
        """`heard`: voices' scores by lower-case id; the package's table (heard.json) when
        not given."""
        self._engines = {engine.name: engine for engine in engines}
        self._default_voice = default_voice
        self._heard = heard
        self._voices: dict[str, Voice] | None = None
        # The lowest error heard among this catalogue's voices, by language tag.
        self._best: dict[str, float] = {}

    def voices(self, language: str | None = None) -> list[Voice]:
        """All voices, or those speaking `language` (best first, those hard to understand
        last); ordered by language then id."""
        if language:
            return self._matching(language)
        return sorted(self._by_id().values(), key=lambda v: (v.language.lower(), v.id))

    def engine(self, voice: Voice) -> Engine:
        return self._engines[voice.engine]

    def close(self) -> None:
        """Release every engine's loaded models."""
        for engine in self._engines.values():
            engine.close()

    def resolve(
        self, voice: str | None = None, language: str | None = None, engine: str | None = None
    ) -> Voice:
        """The voice to use: `voice` by id (or a mix of voices, voices/blends.py) when given,
        else the best voice for `language` (of `engine` when it has one), else the configured
        default. Raises UnknownVoice, InvalidBlend or UnknownLanguage."""
        by_id = self._by_id()
        if voice:
            key = voice.strip()
            found = by_id.get(key) or by_id.get(key.lower()) or self._unqualified(key)
            if found is None and looks_like_blend(key):
                return Mixer(by_id, self._engines).voice(key)
            if found is None and self._subtraction(key):
                # Kokoro-FastAPI's a-b takes one voice's style away from another's.
                raise InvalidBlend(key, "taking a voice away, a-b, is not offered")
            if found is None:
                close = difflib.get_close_matches(key.lower(), list(by_id), n=3, cutoff=0.5)
                raise UnknownVoice(voice, [by_id[c].id for c in close])
            return found
        if language:
            matches = [v for v in self._matching(language) if not v.hard_to_understand]
            if not matches:
                tags = {_tag(v.language) for v in by_id.values()}
                known = sorted(tags | {primary(t) for t in tags})
                closest = difflib.get_close_matches(_tag(language), known, n=3, cutoff=0.5)
                raise UnknownLanguage(language, closest)
            preferred = [v for v in matches if v.engine == engine]
            return (preferred or matches)[0]
        return self.resolve(voice=self._default_voice)

    def for_language(self, language: str, engine: str | None = None) -> Voice:
        """The voice text in `language` gets when nobody named a voice: the default voice for
        its own language (so English stays in it), else the best voice for `language`.
        Raises UnknownLanguage."""
        default = self.resolve()
        if primary(default.language) == primary(language):
            return default
        return self.resolve(language=language, engine=engine)

    def _by_id(self) -> dict[str, Voice]:
        if self._voices is None:
            voices: dict[str, Voice] = {}
            for engine in self._engines.values():
                for v in engine.voices():
                    voices.setdefault(v.id.lower(), v)
            self._voices = self._graded(voices)
        return self._voices

    def _graded(self, voices: dict[str, Voice]) -> dict[str, Voice]:
        """`voices` with their heard scores, those far below the best voice of their language
        tag (among these voices, so a server with espeak-ng alone still has a choice) marked
        hard to understand."""
        table = measured() if self._heard is None else self._heard
        for key, v in voices.items():
            heard = table.get(key)
            if heard is not None:
                tag = _tag(v.language)
                self._best[tag] = min(self._best.get(tag, heard.error), heard.error)
        graded = {}
        for key, v in voices.items():
            heard = table.get(key)
            hard = heard is not None and self._behind(v.language, heard.error) > HARD_MARGIN
            graded[key] = replace(v, heard=heard, hard_to_understand=hard)
        return graded

    def _behind(self, language: str, error: float) -> float:
        """How much worse `error` is than the best heard in `language` (rounded: the table
        keeps three decimals)."""
        return round(error - self._best.get(_tag(language), error), 3)

    def _heard_rank(self, voice: Voice) -> float:
        """0 for a voice heard within TIED_MARGIN of its language's best (or not graded: the
        authors' grade then decides), else how far behind it is."""
        if voice.heard is None:
            return 0.0
        behind = self._behind(voice.language, voice.heard.error)
        return 0.0 if behind <= TIED_MARGIN else behind

    def _subtraction(self, key: str) -> bool:
        """Whether `key` is two or more voices joined by minus signs (af_bella-af_sky)."""
        names = key.split("-")
        return len(names) > 1 and all(
            self._by_id().get(name.strip()) or self._unqualified(name.strip()) for name in names
        )

    def _unqualified(self, name: str) -> Voice | None:
        # "en_US-joe-medium" or "cmn" without the engine prefix, when only one engine has it.
        hits = [v for v in self._by_id().values() if v.id.split(":", 1)[1].lower() == name.lower()]
        return hits[0] if len(hits) == 1 else None

    def _matching(self, language: str) -> list[Voice]:
        """Voices speaking `language`, best first.

        A voice matches when its tag or one of its aliases is the one asked for (exact), or
        shares its primary language. When the request names a region or variant ("en-GB"),
        exact matches come first; then neural before formant voices, better heard first (voices
        within TIED_MARGIN of their language's best count as equal), better scored (graded)
        first, exact before primary-only, and the engine's own priority for that tag. Voices
        that speak a language badly (`auto` False) are left out, and those hard to understand
        come last (`resolve` never chooses them: they are listed so people see why).
        """
        wanted = _tag(language)
        regional = "-" in wanted
        scored = []
        for v in self._by_id().values():
            if not v.auto:
                continue
            tags = {_tag(v.language): v.priority}
            for alias, priority in v.aliases:
                tags.setdefault(_tag(alias), priority)
            if wanted in tags:
                exact, priority = True, tags[wanted]
            elif primary(wanted) in {primary(t) for t in tags}:
                exact, priority = False, min(tags.values())
            else:
                continue
            rank = (
                regional and not exact,
                v.hard_to_understand,
                -v.quality,
                self._heard_rank(v),
                -v.score,
                not exact,
                priority,
                v.id,
            )
            scored.append((rank, v))
        return [v for _, v in sorted(scored, key=lambda item: item[0])]


# What a voice says to introduce itself, by primary language (English for the others).
_SAMPLES = {
    "en": "Hello! This is how I sound when I read to you.",
    "zh": "你好！这是我朗读时的声音。",
    "cmn": "你好！这是我朗读时的声音。",
    "ja": "こんにちは。これが私の声です。",
    "es": "¡Hola! Así suena mi voz cuando leo.",
    "fr": "Bonjour ! Voici ma voix quand je lis.",
    "de": "Hallo! So klingt meine Stimme, wenn ich vorlese.",
    "it": "Ciao! Questa è la mia voce quando leggo.",
    "pt": "Olá! Esta é a minha voz quando leio.",
    "hi": "नमस्ते! जब मैं पढ़ती हूँ तो मेरी आवाज़ ऐसी लगती है।",
}


def sample_text(voice: Voice) -> str:
    """What `voice` says to introduce itself (its sample, and what its loudness is measured
    on): a sentence in its language, or English."""
    return _SAMPLES.get(primary(voice.language), _SAMPLES["en"])
