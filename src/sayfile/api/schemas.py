"""Request and response bodies of the HTTP API (so `/docs` is the manual)."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from sayfile.jobs import Job, JobStatus


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
    format: str | None = Field(
        default=None, description="mp3 (default), opus, aac, flac, wav or pcm (24 kHz s16le)."
    )
    speed: float = Field(default=1.0, description="0.25 to 4.0.")
    stream: bool = Field(
        default=False,
        description="POST /speech only: send the audio chunked while it is synthesized.",
    )
    one_time: bool = Field(
        default=False,
        description="POST /jobs only: the file is deleted after its first complete download.",
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

    @classmethod
    def of(cls, job: Job, base: str) -> JobOut:
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
        )


class VoiceOut(BaseModel):
    id: str
    engine: str
    language: str
    name: str
    gender: str | None
    sample_rate: int
    quality: str


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    allowed: list[str] | None = None


class ErrorOut(BaseModel):
    error: ErrorBody
