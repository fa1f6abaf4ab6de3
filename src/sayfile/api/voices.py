"""GET /voices: the voice catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from sayfile.api.audio_responses import JobFileResponse, unless_disconnected
from sayfile.api.deps import API_KEY, RATE_LIMIT, CatalogueDep, ClientDep, SpeakerDep
from sayfile.api.schemas import AUDIO_CONTENT, LanguageOut, VoiceOut, error_docs

router = APIRouter(tags=["voices"])


@router.get("/voices", response_model=list[VoiceOut], summary="The voice catalogue")
async def list_voices(
    catalogue: CatalogueDep,
    language: str | None = Query(
        default=None, description="Only voices for this language (best first)."
    ),
) -> list[VoiceOut]:
    voices = catalogue.voices(language)
    return [VoiceOut.model_validate(v.public()) for v in voices]


@router.get(
    "/voices/languages",
    response_model=list[LanguageOut],
    summary="Languages: the voice each gets with no hint, neural ones first",
)
async def list_languages(catalogue: CatalogueDep) -> list[LanguageOut]:
    """Which languages get a neural voice, and which are recognised sentence by sentence
    when a request names no voice and no language."""
    return [LanguageOut.model_validate(row.public()) for row in await catalogue.languages()]


@router.get(
    "/voices/{voice_id}/sample",
    response_class=Response,
    responses={200: {"content": AUDIO_CONTENT}, **error_docs(401, 422, 429, 500, 503)},
    dependencies=[API_KEY, RATE_LIMIT],
    summary="A short sample of the voice (mp3), made on first use and then cached",
)
async def voice_sample(
    request: Request, voice_id: str, speaker: SpeakerDep, client: ClientDep
) -> Response:
    """The API key (when keys are set), rate limits and admission are those of speech: a
    sample costs a synthesis the first time. The text is fixed and the file is made once per
    voice (per key, with keys) while it lives."""
    job = await unless_disconnected(request, speaker.sample(voice_id, client))
    job, file = await speaker.open_audio(job.id)
    return JobFileResponse(file, job)
