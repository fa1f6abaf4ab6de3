"""OpenAI's model and voice names, mapped onto sayfile's engines and voices."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sayfile.errors import InvalidInput

OPENAI_VOICES = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable",
    "marin", "nova", "onyx", "sage", "shimmer", "verse",
)  # fmt: skip

# model name -> the engine it asks for (None: whichever engine the voice has).
MODELS: dict[str, str | None] = {
    "tts-1": None,
    "tts-1-hd": None,
    "gpt-4o-mini-tts": None,
    "gpt-4o-mini-tts-2025-12-15": None,
    "sayfile": None,
    "piper": "piper",
    "espeak": "espeak",
}

# Han, kana and hangul: text mostly in these is spoken by a voice of that language when an
# OpenAI voice name (which says nothing about language) is asked for.
_SCRIPTS = (
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
)


@dataclass(frozen=True, slots=True)
class VoiceChoice:
    """What to ask the catalogue for: a voice id, or a language (and maybe an engine)."""

    voice: str | None = None
    language: str | None = None
    engine: str | None = None


def check_model(model: str) -> str | None:
    """The engine `model` asks for (None for any). Raises InvalidInput listing the models."""
    if model not in MODELS:
        raise InvalidInput(f"Unknown model {model!r}; allowed: {', '.join(MODELS)}.", field="model")
    return MODELS[model]


def guess_language(text: str) -> str | None:
    """The language of `text` when it is mostly written in a CJK script, else None."""
    sample = text[:2000]
    letters = sum(1 for ch in sample if ch.isalpha())
    for language, pattern in _SCRIPTS:
        if letters and len(pattern.findall(sample)) > letters / 3:
            return language
    return None


def choose_voice(voice: str, model: str, text: str, mapping: dict[str, str]) -> VoiceChoice:
    """Turn an OpenAI-style `voice` into a catalogue request.

    A sayfile voice id is used as it is. An OpenAI name uses `mapping` (SAYFILE_OPENAI_VOICES)
    when it names a voice there; otherwise the text's language when it is Chinese, Japanese
    or Korean, else English, in the engine that `model` names if it names one.
    """
    engine = check_model(model)
    name = voice.strip().lower()
    if name in OPENAI_VOICES:
        if name in mapping:
            return VoiceChoice(voice=mapping[name])
        return VoiceChoice(language=guess_language(text) or "en", engine=engine)
    return VoiceChoice(voice=voice, engine=engine)
