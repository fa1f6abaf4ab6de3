"""Request and response bodies of the HTTP API (so `/docs` is the manual)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from sayfile.audio import FORMATS
from sayfile.jobs import Job, JobStatus
from sayfile.plans import MAX_SPEED, MIN_SPEED
from sayfile.service import ChapterState


class SpeechIn(BaseModel):
    """A request for speech, as JSON or as an HTML form."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(
        validation_alias=AliasChoices("text", "message"),
        description="The text to speak (`message` is accepted too). Any language, UTF-8.",
        examples=["Hello there. 你好，世界。"],
    )
    voice: str | None = Field(
        default=None,
        description="Voice id from GET /voices, e.g. `piper:en_US-joe-medium` or `espeak:cmn`.",
    )
    language: str | None = Field(
        default=None,
        description="Pick the best voice for this language (`en`, `zh-CN`, `fr`...) when "
        "`voice` is not given.",
    )
    # Allowed values are documented here and checked once, in the service, so every caller
    # (form, JSON, CLI) gets the same message naming them.
    format: str | None = Field(
        default=None,
        description="mp3 (default), opus, aac, flac, wav or pcm (24 kHz s16le).",
        json_schema_extra={"enum": [*FORMATS, None]},
    )
    speed: float = Field(
        default=1.0,
        description="0.25 to 4.0.",
        json_schema_extra={"minimum": MIN_SPEED, "maximum": MAX_SPEED},
    )
    loudness: float | str | None = Field(
        default=None,
        description="Loudness of the audio in LUFS (EBU R128), -70 to -5, or `off` for each "
        "voice as it is. Default: the server's (SAYFILE_LOUDNESS, -16).",
        examples=[-16, "off"],
    )
    lexicon: list[dict[str, str]] = Field(
        default_factory=list,
        description="Pronunciations for this request, applied after the server's lexicons: "
        '`{"language": "zh", "term": "最长", "replacement": "pinyin:zui4 chang2"}`; a '
        "replacement is words, or `pinyin:` (numbered tones) or `ipa:` phonemes. At most 1000.",
    )
    stream: bool = Field(
        default=False,
        description="POST /speech only: send the audio chunked while it is synthesized.",
    )
    one_time: bool = Field(
        default=False,
        description="POST /jobs only: the file is deleted after its first complete download.",
    )
    package: Literal["file", "zip"] = Field(
        default="file",
        description="POST /jobs with a book `file` only: `file` gives one audio file with "
        "chapter marks (mp3, opus, m4b); `zip` gives a ZIP of one audio file per chapter "
        "(`01-title.mp3`) with each chapter's subtitles (.srt, .vtt).",
    )


class ChapterOut(BaseModel):
    """One chapter of a book job."""

    number: int = Field(description="From 1.")
    title: str
    done: bool = Field(description="Its audio is made.")
    start: float | None = Field(description="Once the book is done: seconds into the file.")
    end: float | None
    audio_url: str | None = Field(
        description="While the book is being made: the chapter's own audio, once done. Once "
        "the book is done, the chapter is `start` to `end` of `audio_url`."
    )


class JobOut(BaseModel):
    """A job as clients see it; `audio_url` works once `status` is `done`."""

    id: str
    status: JobStatus
    progress: float = Field(description="0 to 1.")
    error: str | None
    format: str
    voice: str
    bytes: int | None
    duration_s: float | None
    one_time: bool
    expires_at: str = Field(description="ISO 8601 UTC; the file is deleted after it.")
    status_url: str
    audio_url: str
    timings_url: str = Field(
        description="Once done: what the audio says when (JSON); `subtitles.srt` and "
        "`subtitles.vtt` beside it give captions."
    )
    chapters: list[ChapterOut] | None = Field(
        default=None,
        description="A book's chapters as they stand (GET /jobs/{id}); null for other jobs, "
        "for a book that failed or expired, and in the progress events.",
    )

    @classmethod
    def of(cls, job: Job, base: str, chapters: list[ChapterState] | None = None) -> JobOut:
        from datetime import UTC, datetime

        expires = datetime.fromtimestamp(job.expires_at, UTC).isoformat(timespec="seconds")
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            error=job.error,
            format=job.format,
            voice=job.voice,
            bytes=job.bytes,
            duration_s=job.duration_s,
            one_time=job.one_time,
            expires_at=expires.replace("+00:00", "Z"),
            status_url=f"{base}jobs/{job.id}",
            audio_url=f"{base}jobs/{job.id}/audio",
            timings_url=f"{base}jobs/{job.id}/timings",
            chapters=None
            if chapters is None
            else [
                ChapterOut(
                    number=number,
                    title=chapter.title,
                    done=chapter.done,
                    start=chapter.start,
                    end=chapter.end,
                    audio_url=f"{base}jobs/{job.id}/chapters/{number}/audio"
                    if chapter.done and chapter.start is None
                    else None,
                )
                for number, chapter in enumerate(chapters, 1)
            ],
        )


class VoiceOut(BaseModel):
    id: str
    engine: str
    language: str
    name: str
    gender: str | None
    sample_rate: int
    quality: str
    grade: str | None = Field(default=None, description="The voice authors' grade (A best).")
    credit: str | None = Field(default=None, description="Who made the voice, and its licence.")


class LanguageOut(BaseModel):
    language: str = Field(description="A primary language code (ISO 639-1 where it has one).")
    voice: str = Field(description="The voice its text gets when no voice or language is named.")
    neural: bool = Field(description="Whether that voice is neural (Kokoro, Piper).")
    detected: bool = Field(
        description="Whether text in this language is recognised with no hint (sentence by "
        "sentence) and sent to that voice."
    )


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    allowed: list[str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorOut(BaseModel):
    error: OpenAIErrorBody


_WHY = {
    400: "Invalid request.",
    401: "API key missing or wrong (when SAYFILE_API_KEYS is set).",
    404: "No such job.",
    409: "The job is not done yet (see Retry-After), or it failed.",
    410: "The link has expired.",
    413: "Text or body over the limit.",
    422: "Invalid input; the message names the field and the allowed values.",
    429: "Too many requests from this client (see Retry-After).",
    500: "The engine failed.",
    503: "Busy, or the job store is unreachable (see Retry-After).",
    507: "Storage quota reached or disk full.",
}


def error_docs(*statuses: int, openai: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, in the route's error shape."""
    model = OpenAIErrorOut if openai else ErrorOut
    return {status: {"model": model, "description": _WHY[status]} for status in statuses}


# The errors any route that creates work can answer.
WORK_ERRORS = (401, 413, 422, 429, 500, 503, 507)
JOB_ERRORS = (404, 410, 503)


# Every audio media type a download or stream can have, for OpenAPI.
AUDIO_CONTENT: dict[str, Any] = {fmt.media_type: {} for fmt in FORMATS.values()}
