"""What OpenAI-style clients read to fill their pickers: GET /v1/models, /v1/audio/models and
/v1/audio/voices, each in OpenAI's list shape and (the audio ones) in the `models`/`voices`
shape Open WebUI, Kokoro-FastAPI and speaches use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sayfile.api.deps import API_KEY, CatalogueDep
from sayfile.api.schemas import error_docs
from sayfile.models import Voice
from sayfile.voices.language_names import own_name
from sayfile.voices.openai_names import MODELS

# No API key on the audio lists, as on GET /voices: Open WebUI fetches them without its key
# (a refusal would leave it with OpenAI's six names), and they tell no more than GET /voices.
router = APIRouter(prefix="/v1", tags=["openai"])
# Listed as the creation time of every model (sayfile's models have no release dates).
_CREATED = 1_735_689_600


class PickerModel(BaseModel):
    id: str = Field(description="A model name `POST /v1/audio/speech` takes.")


class PickerVoice(BaseModel):
    id: str = Field(description="The voice id to send as `voice`.")
    name: str = Field(
        description="For a picker that shows one line: the voice's name, its language by "
        "its own name and tag, and its engine (`Heart · English (en-us) · kokoro`)."
    )
    language: str = Field(description="BCP 47 tag of the voice's language.")
    gender: str | None = Field(description="`female`, `male`, or null where not known.")
    grade: str | None = Field(description="The voice authors' grade (Kokoro), else null.")
    engine: str = Field(description="The engine that speaks it.")
    quality: str = Field(description="`neural` or `formant`.")

    @classmethod
    def of(cls, voice: Voice) -> PickerVoice:
        language = own_name(voice.language)
        spoken = f"{language} ({voice.language})" if language else voice.language
        return cls(
            id=voice.id,
            name=f"{voice.name} · {spoken} · {voice.engine}",
            language=voice.language,
            gender=voice.gender,
            grade=voice.grade,
            engine=voice.engine,
            quality=voice.quality.name,
        )


class AudioModelsOut(BaseModel):
    models: list[PickerModel] = Field(description="Open WebUI's shape.")
    object: str = "list"
    data: list[dict[str, Any]] = Field(description="OpenAI's shape, as in GET /v1/models.")


class AudioVoicesOut(BaseModel):
    voices: list[PickerVoice] = Field(description="Open WebUI's and speaches' shape.")
    object: str = "list"
    data: list[dict[str, Any]] = Field(
        description="Every field of GET /voices (`id`, `name`, `language`, `gender`, "
        "`engine`, `sample_rate`, `quality`, ...)."
    )


def _models() -> list[dict[str, Any]]:
    return [
        {"id": name, "object": "model", "created": _CREATED, "owned_by": "sayfile"}
        for name in MODELS
    ]


@router.get(
    "/models",
    dependencies=[API_KEY],
    responses=error_docs(401, openai=True),
    summary="Models (OpenAI's names and sayfile's engines)",
)
async def list_models() -> dict[str, Any]:
    return {"object": "list", "data": _models()}


@router.get("/audio/models", summary="Speech models, for pickers (no API key needed)")
async def list_audio_models() -> AudioModelsOut:
    rows = _models()
    return AudioModelsOut(models=[PickerModel(id=row["id"]) for row in rows], data=rows)


@router.get("/audio/voices", summary="Voices, for pickers (no API key needed)")
async def list_voices(
    catalogue: CatalogueDep,
    language: str | None = Query(default=None, description="Only voices for this language."),
) -> AudioVoicesOut:
    voices = catalogue.voices(language)
    return AudioVoicesOut(
        voices=[PickerVoice.of(v) for v in voices], data=[v.public() for v in voices]
    )
