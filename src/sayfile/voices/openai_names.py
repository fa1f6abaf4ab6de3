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
    "kokoro": "kokoro",
    "piper": "piper",
    "espeak": "espeak",
}

# Han, kana and hangul: text mostly in these is spoken by a voice of that language when an
# OpenAI voice name (which says nothing about language) is asked for.
_SCRIPTS = (
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ja", re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
)


# OpenAI's voice names as Kokoro voices of like character: the five Kokoro has by name, the
# rest by gender and tone. With Chinese text, a Mandarin voice of the same gender.
KOKORO_VOICES = {
    "alloy": "af_alloy", "echo": "am_echo", "fable": "bm_fable", "onyx": "am_onyx",
    "nova": "af_nova", "ash": "am_michael", "ballad": "bm_george", "cedar": "am_fenrir",
    "coral": "af_bella", "marin": "af_heart", "sage": "af_sarah", "shimmer": "af_nicole",
    "verse": "am_puck",
}  # fmt: skip
_MANDARIN = {"f": "zf_xiaobei", "m": "zm_yunjian"}


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
    """The language of `text` when it is mostly written in a CJK script, else None. Kana
    make it Japanese even among many kanji (東京都の天気)."""
    sample = text[:2000]
    letters = sum(1 for ch in sample if ch.isalpha())
    if not letters:
        return None
    counts = {language: len(pattern.findall(sample)) for language, pattern in _SCRIPTS}
    if counts["ja"] and counts["ja"] + counts["zh"] > letters / 3:
        return "ja"
    for language, count in counts.items():
        if count > letters / 3:
            return language
    return None


def choose_voice(
    voice: str,
    model: str,
    text: str,
    mapping: dict[str, str],
    available: frozenset[str] = frozenset(),
) -> VoiceChoice:
    """Turn an OpenAI-style `voice` into a catalogue request.

    A sayfile voice id is used as it is. An OpenAI name uses `mapping` (SAYFILE_OPENAI_VOICES)
    when it names a voice there. Otherwise it is a Kokoro voice of like character among the
    `available` voice ids (a Mandarin one of the same gender for Chinese text) unless `model`
    names another engine; failing that, the best voice for the text's language.
    """
    engine = check_model(model)
    name = voice.strip().lower()
    if name not in OPENAI_VOICES:
        return VoiceChoice(voice=voice, engine=engine)
    if name in mapping:
        return VoiceChoice(voice=mapping[name])
    language = guess_language(text) or "en"
    kokoro = KOKORO_VOICES[name]
    if language == "zh":
        kokoro = _MANDARIN[kokoro[1]]
    if engine in (None, "kokoro") and language in ("en", "zh") and f"kokoro:{kokoro}" in available:
        return VoiceChoice(voice=f"kokoro:{kokoro}")
    return VoiceChoice(language=language, engine=engine)
