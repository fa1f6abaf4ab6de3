"""POST /speech: the audio as the answer (whole file, or streamed while synthesized)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sayfile.api.audio_responses import (
    AnswerResponse,
    JobFileResponse,
    SpeechStreamResponse,
    download_headers,
    unless_disconnected,
)
from sayfile.api.deps import (
    API_KEY,
    RATE_LIMIT,
    SPEECH_BODY_DOC,
    ClientDep,
    SpeakerDep,
    SpeechBody,
    as_request,
    base_path,
)
from sayfile.api.schemas import AUDIO_CONTENT, WORK_ERRORS, JobOut, error_docs
from sayfile.jobs.answers import Answer
from sayfile.jobs.download_names import speech_stem

router = APIRouter(tags=["speech"])

_AUDIO = {"content": AUDIO_CONTENT, "description": "The audio file as an attachment."}
_PENDING = {
    "model": JobOut,
    "description": "Not done within the wait limit: the job, whose `audio_url` serves the "
    "file once it is done (also in `Location`).",
}


@router.post(
    "/speech",
    response_class=Response,
    responses={200: _AUDIO, 202: _PENDING, **error_docs(*WORK_ERRORS)},
    openapi_extra=SPEECH_BODY_DOC,
    dependencies=[API_KEY, RATE_LIMIT],
    summary="Speak text; the answer is the audio file",
)
async def speech(
    request: Request, body: SpeechBody, speaker: SpeakerDep, client: ClientDep
) -> Response:
    """Text in, audio file out. With `stream=true` the file is sent chunked as each sentence is
    synthesized (first bytes after the first few words; no Content-Length), and long text up
    to the job limit is accepted, since nothing waits for the whole file. A client that
    hangs up stops the synthesis. Text longer than `SAYFILE_MAX_CHARS_IN_MEMORY` becomes a job:
    its answer names the job's link in `Content-Location`, or is 202 with the job when the wait
    limit passes first."""
    if body.stream:
        stream = await speaker.stream(as_request(body), client)
        return SpeechStreamResponse(
            stream.chunks(),
            stream.close,
            stream.plan.format.media_type,
            download_headers(speech_stem(stream.plan.words, stream.plan.title), stream.plan.format),
            speaker.settings.stream_idle_seconds,
        )
    job = await unless_disconnected(request, speaker.speak(as_request(body), client))
    if isinstance(job, Answer):
        return AnswerResponse(job)
    out = JobOut.of(job, base_path(request), eta=speaker.eta(job))
    if not job.status.finished:
        return JSONResponse(
            out.model_dump(mode="json"), status_code=202, headers={"Location": out.status_url}
        )
    job, file = await speaker.open_audio(job.id)
    response = JobFileResponse(file, job)
    response.headers["Content-Location"] = out.audio_url
    return response
