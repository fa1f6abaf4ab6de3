"""OpenAI-compatible speech: POST /v1/audio/speech (always streamed). The lists clients read
are in openai_lists.py."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

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
    ClientDep,
    SettingsDep,
    SpeakerDep,
    base_path,
)
from sayfile.api.schemas import (
    AUDIO_CONTENT,
    LEXICON_DESCRIPTION,
    JobOut,
    LexiconEntries,
    Number,
    error_docs,
)
from sayfile.audio.formats import FORMATS
from sayfile.jobs.answers import Answer
from sayfile.jobs.download_names import speech_stem
from sayfile.services.speaking import SpeechStream
from sayfile.settings import MAX_LUFS, MIN_LUFS
from sayfile.speech.plan import MAX_SPEED, MIN_SPEED
from sayfile.store.records import Job
from sayfile.text.markup import TEXT_FORMATS
from sayfile.voices.openai_names import MODELS, choose_voice

router = APIRouter(
    prefix="/v1",
    tags=["openai"],
    dependencies=[API_KEY],
    responses=error_docs(400, 401, openai=True),
)


class VoiceRef(BaseModel):
    id: str = Field(description="A sayfile voice id.")


class OpenAISpeechIn(BaseModel):
    """OpenAI's speech request. `instructions` is accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    # The allowed values are documented here and checked in one place
    # (sayfile.voices.openai_names), so the error names them the same way for every caller.
    model: str = Field(
        description=f"One of: {', '.join(MODELS)}.", json_schema_extra={"enum": list(MODELS)}
    )
    input: str = Field(description="The text to speak.")
    voice: str | VoiceRef = Field(
        description="An OpenAI voice name (alloy, ash, ...), any sayfile voice id, or a mix "
        "of Kokoro voices (`af_bella(2)+af_sky(1)`)."
    )
    response_format: str = Field(
        default="mp3",
        description="mp3, opus, aac, m4b (sent whole), flac, wav or pcm.",
        json_schema_extra={"enum": list(FORMATS)},
    )
    speed: Number = Field(
        default=1.0,
        description="0.25 to 4.0.",
        json_schema_extra={"minimum": MIN_SPEED, "maximum": MAX_SPEED},
    )
    stream_format: Literal["audio", "sse"] = Field(
        default="audio", description="`audio`: the file, chunked; `sse`: base64 audio events."
    )
    timings: bool = Field(
        default=False,
        description="sayfile's own: with `stream_format=sse`, a `speech.audio.timing` event "
        "(`start`, `end`, `text`, in seconds, and its `words` where the voice times them) "
        "follows the audio of each sentence.",
    )
    loudness: float | str | None = Field(
        default=None,
        description=f"sayfile's own: loudness in LUFS ({MIN_LUFS:g} to {MAX_LUFS:g}) or `off`; "
        "default -16.",
    )
    text_format: str | None = Field(
        default=None,
        description="sayfile's own: how `input` is read, `auto` (default), `plain`, "
        "`markdown` or `ssml` (as in POST /speech).",
        json_schema_extra={"enum": [*TEXT_FORMATS, None]},
    )
    lexicon: LexiconEntries = Field(
        default_factory=list,
        description=f"sayfile's own, as in POST /speech: {LEXICON_DESCRIPTION}",
    )
    instructions: str | None = None


@router.post(
    "/audio/speech",
    response_class=Response,
    responses={
        200: {"content": {**AUDIO_CONTENT, "text/event-stream": {}}},
        **error_docs(400, 401, 429, 500, 503, openai=True),
    },
    summary="OpenAI-compatible text to speech (streamed as it is synthesized)",
    dependencies=[RATE_LIMIT],
)
async def create_speech(
    http: Request,
    body: OpenAISpeechIn,
    speaker: SpeakerDep,
    settings: SettingsDep,
    client: ClientDep,
) -> Response:
    """Streamed as it is synthesized, except WAV and FLAC, whose headers state their length:
    those are sent whole (with Content-Length) once made, so a saved file reads right."""
    voice = body.voice.id if isinstance(body.voice, VoiceRef) else body.voice
    choice = choose_voice(
        voice, body.model, body.input, settings.openai_voices, speaker.voice_ids()
    )
    request = choice.request(
        body.input,
        body.response_format,
        body.speed,
        body.loudness,
        body.text_format,
        tuple(body.lexicon),
    )
    if body.stream_format == "sse":
        stream = await speaker.stream(request, client)
        return SpeechStreamResponse(
            _events(stream, body.timings),
            stream.close,
            "text/event-stream",
            {"X-Accel-Buffering": "no"},
            settings.stream_idle_seconds,
        )
    answer = await unless_disconnected(http, speaker.speak_or_stream(request, client))
    if isinstance(answer, Answer):
        return AnswerResponse(answer)
    if isinstance(answer, Job):
        if not answer.status.finished:
            out = JobOut.of(answer, base_path(http), eta=speaker.eta(answer))
            return JSONResponse(out.model_dump(mode="json"), 202, {"Location": out.status_url})
        job, file = await speaker.open_audio(answer.id)
        return JobFileResponse(file, job)
    stream = answer
    return SpeechStreamResponse(
        stream.chunks(),
        stream.close,
        stream.plan.format.media_type,
        download_headers(speech_stem(stream.plan.words, stream.plan.title), stream.plan.format),
        settings.stream_idle_seconds,
    )


def _timing(stream: SpeechStream, index: int) -> dict[str, Any]:
    """Piece `index`'s timing event: its times and text, and its words (null where the
    words are not timed)."""
    words = stream.words
    said = [w.to_json() for w in words.words if w.sentence == index] if words.known else None
    return {**stream.heard[index].to_json(), "words": said}


async def _events(stream: SpeechStream, timings: bool) -> AsyncIterator[bytes]:
    pieces = stream.chunks()
    told = 0
    async with contextlib.aclosing(pieces):
        async for piece in pieces:
            delta = {"type": "speech.audio.delta", "audio": base64.b64encode(piece).decode()}
            yield _event("speech.audio.delta", delta)
            # The sentence whose audio this is (and any before it not yet told).
            while timings and told < len(stream.heard):
                yield _event("speech.audio.timing", _timing(stream, told))
                told += 1
    while timings and told < len(stream.heard):
        yield _event("speech.audio.timing", _timing(stream, told))
        told += 1
    # sayfile has no tokens: input counts characters, and audio is not counted.
    size = len(stream.plan.text)
    usage = {"input_tokens": size, "output_tokens": 0, "total_tokens": size}
    yield _event("speech.audio.done", {"type": "speech.audio.done", "usage": usage})


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
