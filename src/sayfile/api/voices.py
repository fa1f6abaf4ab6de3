"""GET /voices: the voice catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Query

from sayfile.api.deps import ServiceDep
from sayfile.api.schemas import VoiceOut

router = APIRouter(tags=["voices"])


@router.get("/voices", response_model=list[VoiceOut], summary="The voice catalogue")
async def list_voices(
    service: ServiceDep,
    language: str | None = Query(
        default=None, description="Only voices for this language (best first)."
    ),
) -> list[VoiceOut]:
    voices = service.voices(language)
    return [VoiceOut.model_validate(v.public()) for v in voices]
