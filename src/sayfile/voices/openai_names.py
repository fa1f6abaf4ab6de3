"""OpenAI's model and voice names, mapped onto sayfile's engines and voices."""

from __future__ import annotations

from dataclasses import dataclass

from sayfile.errors import InvalidInput
from sayfile.models import SpeechRequest
from sayfile.text.language_detection import language_by_script

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

    def request(
        self,
        text: str,
        format: str | None,
        speed: float,
        loudness: float | str | None = None,
        text_format: str | None = None,
        lexicon: tuple[dict[str, str], ...] = (),
    ) -> SpeechRequest:
        """The speech request for `text` in this choice's voice (or language and engine), with
        the request's own lexicon entries."""
        return SpeechRequest(
            text=text,
            voice=self.voice,
            language=self.language,
            format=format,
            speed=speed,
            engine=self.engine,
            loudness=loudness,
            lexicon=lexicon,
            text_format=text_format,
        )


def check_model(model: str) -> str | None:
    """The engine `model` asks for (None for any). Raises InvalidInput listing the models."""
    if model not in MODELS:
        raise InvalidInput(f"Unknown model {model!r}; allowed: {', '.join(MODELS)}.", field="model")
    return MODELS[model]


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
    names another engine; failing that, the best voice for the text's language (Chinese,
    Japanese or Korean by its script, else English).
    """
    engine = check_model(model)
    name = voice.strip().lower()
    if name not in OPENAI_VOICES:
        return VoiceChoice(voice=voice, engine=engine)
    if name in mapping:
        return VoiceChoice(voice=mapping[name])
    language = language_by_script(text) or "en"
    kokoro = KOKORO_VOICES[name]
    if language == "zh":
        kokoro = _MANDARIN[kokoro[1]]
    if engine in (None, "kokoro") and language in ("en", "zh") and f"kokoro:{kokoro}" in available:
        return VoiceChoice(voice=f"kokoro:{kokoro}")
    return VoiceChoice(language=language, engine=engine)
