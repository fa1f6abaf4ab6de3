"""Kokoro-FastAPI's `POST /dev/captioned_speech`, so its clients work unchanged: the audio in
base64 with each word's `start_time` and `end_time`, whole or as one JSON object a line per
sentence. Its shape read from remsky/Kokoro-FastAPI (v0.3.0: api/src/routers/development.py,
api/src/structures/schemas.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from sayfile.api.audio_responses import SpeechStreamResponse
from sayfile.api.deps import API_KEY, RATE_LIMIT, ClientDep, SettingsDep, SpeakerDep
from sayfile.api.schemas import LEXICON_DESCRIPTION, LexiconEntries, Number, error_docs
from sayfile.audio.formats import FORMATS
from sayfile.services.speaking import SpeechStream
from sayfile.speech.plan import MAX_SPEED, MIN_SPEED
from sayfile.voices.openai_names import MODELS, choose_voice

router = APIRouter(tags=["kokoro-fastapi"], dependencies=[API_KEY])


class CaptionedSpeechIn(BaseModel):
    """Kokoro-FastAPI's captioned speech request, and sayfile's own `lexicon`. `lang_code`,
    `volume_multiplier`, `normalization_options` and `return_download_link` are accepted and
    ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(default="kokoro", description=f"One of: {', '.join(MODELS)}.")
    input: str = Field(description="The text to speak.")
    voice: str = Field(
        default="af_heart",
        description="A Kokoro voice name (af_heart), a mix (`af_bella(2)+af_sky(1)`), an "
        "OpenAI voice name or any sayfile voice id.",
    )
    response_format: str = Field(
        default="mp3",
        description="mp3, opus, aac, flac, wav or pcm.",
        json_schema_extra={"enum": [name for name, f in FORMATS.items() if f.streamable]},
    )
    speed: Number = Field(
        default=1.0,
        description="0.25 to 4.0.",
        json_schema_extra={"minimum": MIN_SPEED, "maximum": MAX_SPEED},
    )
    stream: bool = Field(
        default=True,
        description="true: one JSON object a line (application/x-ndjson), each with a "
        "sentence's audio and words; false: one object with the whole file.",
    )
    return_timestamps: bool = Field(default=True, description="Include `timestamps`.")
    lexicon: LexiconEntries = Field(
        default_factory=list,
        description=f"sayfile's own, as in POST /speech: {LEXICON_DESCRIPTION}",
    )


@router.post(
    "/dev/captioned_speech",
    responses={
        200: {"content": {"application/json": {}, "application/x-ndjson": {}}},
        **error_docs(400, 401, 422, 429, 500, 503),
    },
    summary="Speech with word timestamps (Kokoro-FastAPI's shape)",
    dependencies=[RATE_LIMIT],
)
async def captioned_speech(
    body: CaptionedSpeechIn, speaker: SpeakerDep, settings: SettingsDep, client: ClientDep
) -> Response:
    """`{"audio": base64, "audio_format": media type, "timestamps": [{"word", "start_time",
    "end_time"}]}`; `timestamps` is empty for voices whose words are not timed (espeak-ng's
    where its library is missing)."""
    choice = choose_voice(
        body.voice, body.model, body.input, settings.openai_voices, speaker.voice_ids()
    )
    request = choice.request(
        body.input, body.response_format, body.speed, lexicon=tuple(body.lexicon)
    )
    stream = await speaker.stream(request, client)
    parts = _parts(stream, body.return_timestamps)
    if body.stream:
        return SpeechStreamResponse(
            _lines(parts, stream.plan.format.media_type),
            stream.close,
            # One JSON object a line (NDJSON): the body as a whole is not one JSON document.
            "application/x-ndjson",
            {"X-Accel-Buffering": "no"},
            settings.stream_idle_seconds,
        )
    audio = bytearray()
    words: list[dict[str, Any]] = []
    try:
        async for piece, said in parts:
            audio += piece
            words += said
    finally:
        await stream.close()
    whole = {
        "audio": base64.b64encode(bytes(audio)).decode(),
        "audio_format": stream.plan.format.media_type,
        "timestamps": words,
    }
    return JSONResponse(whole)


async def _parts(
    stream: SpeechStream, timestamps: bool
) -> AsyncIterator[tuple[bytes, list[dict[str, Any]]]]:
    """Each piece of audio with the words of the sentences heard by then, not yet given (each
    word once: a cursor into the stream's words, which come in sentence order)."""
    given = 0
    async for piece in stream.chunks():
        words, heard = stream.words.words, len(stream.heard)
        said = []
        while given < len(words) and (words[given].sentence or 0) < heard:
            if timestamps and stream.words.known:
                word = words[given]
                said.append(
                    {
                        "word": word.text,
                        "start_time": round(word.start, 3),
                        "end_time": round(word.end, 3),
                    }
                )
            given += 1
        yield piece, said


async def _lines(
    parts: AsyncIterator[tuple[bytes, list[dict[str, Any]]]], media_type: str
) -> AsyncIterator[bytes]:
    """Each part as a JSON line: its audio in base64, its media type and its words."""
    async for piece, said in parts:
        line = {
            "audio": base64.b64encode(piece).decode(),
            "audio_format": media_type,
            "timestamps": said,
        }
        yield (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
