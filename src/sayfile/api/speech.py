"""POST /speech: the audio as the answer (whole file, or streamed while synthesized)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from sayfile.api.deps import (
    API_KEY,
    RATE_LIMIT,
    SPEECH_BODY_DOC,
    ClientDep,
    DeskDep,
    SettingsDep,
    SpeechBody,
    as_request,
)
from sayfile.api.downloads import JobFileResponse, download_headers
from sayfile.api.schemas import AUDIO_CONTENT, WORK_ERRORS, error_docs
from sayfile.errors import DiskFull, EngineError, JobFailed
from sayfile.naming import stem_for

router = APIRouter(tags=["speech"])

_AUDIO = {"content": AUDIO_CONTENT, "description": "The audio file as an attachment."}


@router.post(
    "/speech",
    response_class=Response,
    responses={200: _AUDIO, **error_docs(*WORK_ERRORS)},
    openapi_extra=SPEECH_BODY_DOC,
    dependencies=[API_KEY, RATE_LIMIT],
    summary="Speak text; the answer is the audio file",
)
async def speech(
    body: SpeechBody, desk: DeskDep, settings: SettingsDep, client: ClientDep
) -> Response:
    """Text in, audio file out. With `stream=true` the file is sent chunked as each sentence is
    synthesized (first bytes after the first sentence; no Content-Length), and long text up to
    the job limit is accepted, since nothing waits for the whole file."""
    limit = settings.max_chars_job if body.stream else settings.max_chars_direct
    plan = desk.plan(as_request(body), limit)
    if body.stream:
        return StreamingResponse(
            desk.stream(plan, client),
            media_type=plan.format.media_type,
            headers=download_headers(stem_for(plan.text), plan.format),
        )
    job = await desk.submit(plan, client=client)
    job = await desk.wait(job.id, settings.direct_wait_seconds)
    try:
        job, file = await desk.audio(job.id)
    except JobFailed as exc:
        # The caller waited for this file: the job's own failure is the answer.
        raise (DiskFull() if exc.code == "disk_full" else EngineError(exc.error)) from None
    return JobFileResponse(file, job, plan.format)
