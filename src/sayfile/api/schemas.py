"""Request and response bodies of the HTTP API (so `/docs` is the manual)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from sayfile.audio.formats import BITRATES, BOOK_FORMATS, FORMATS
from sayfile.books.parts import ChapterProgress
from sayfile.services.reading import ChapterState
from sayfile.settings import MAX_LUFS, MIN_LUFS
from sayfile.speech.plan import MAX_SPEED, MIN_SPEED
from sayfile.store.records import Job, JobStatus
from sayfile.text.lexicon_entries import REQUEST_FORMS, written_entries
from sayfile.text.markup import TEXT_FORMATS


def _not_true_or_false(value: object) -> object:
    if isinstance(value, bool):  # JSON's true would otherwise be taken as 1.0
        raise ValueError("must be a number, not true or false")
    return value


Number = Annotated[float, BeforeValidator(_not_true_or_false)]
"""A number in a request: a JSON number, or a form's text of one; never a boolean."""


def _written_in_digits(value: object) -> object:
    # pydantic reads text as Python's int() does, which also takes "+5", " 5" and "5_000".
    if isinstance(value, str) and not (value.isascii() and value.removeprefix("-").isdigit()):
        raise ValueError(f"{value!r} is not a whole number written in the digits 0-9")
    return value


WholeNumber = Annotated[int, BeforeValidator(_written_in_digits)]
"""A whole number in a request (a path, a query, a form's field, JSON): a JSON number, or
text of ASCII digits alone (a minus sign before them, where the field says what it takes)."""


def _lexicon_as_written(value: object) -> object:
    if isinstance(value, str):
        return written_entries(value)
    if not isinstance(value, list):
        raise ValueError(f"not a value it takes; it takes {REQUEST_FORMS}.")
    return value


_ENTRY_SCHEMA = {"type": "object", "additionalProperties": {"type": "string"}}
LexiconEntries = Annotated[
    list[dict[str, str]],
    BeforeValidator(_lexicon_as_written),
    WithJsonSchema({"anyOf": [{"type": "array", "items": _ENTRY_SCHEMA}, {"type": "string"}]}),
]
"""A request's own lexicon: a list of entries, or (as a form field sends it) text: that list
in JSON, or lines as a TSV lexicon file has them."""

LEXICON_DESCRIPTION = (
    "Pronunciations for this request, applied after the server's lexicons: "
    '`[{"language": "zh", "term": "最长", "replacement": "pinyin:zui4 chang2"}]`; a '
    "replacement is words, or `pinyin:` (numbered tones) or `ipa:` phonemes. At most 1000. "
    "As text (a form field), the same list in JSON, or lines of "
    "`language<TAB>term<TAB>replacement` as a `.tsv` lexicon file has them."
)


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
        description="Voice id from GET /voices, e.g. `piper:en_US-joe-medium` or `espeak:cmn`, "
        "or a mix of up to four Kokoro voices of one language, `af_bella(2)+af_sky(1)`.",
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
        description="mp3 (default), opus, aac, flac, wav or pcm (24 kHz s16le); for a book "
        "(POST /jobs with a `file`, or a plain or Markdown text) also `epub`: a read-along "
        "EPUB 3 (the text, mp3 per chapter, Media Overlays).",
        json_schema_extra={"enum": [*FORMATS, *BOOK_FORMATS, None]},
    )
    speed: Number = Field(
        default=1.0,
        description="0.25 to 4.0.",
        json_schema_extra={"minimum": MIN_SPEED, "maximum": MAX_SPEED},
    )
    loudness: float | str | None = Field(
        default=None,
        description=f"Loudness of the audio in LUFS (EBU R128), {MIN_LUFS:g} to {MAX_LUFS:g}, or "
        "`off` for each voice as it is. Default: the server's (SAYFILE_LOUDNESS, -16).",
        examples=[-16, "off"],
    )
    lexicon: LexiconEntries = Field(default_factory=list, description=LEXICON_DESCRIPTION)
    text_format: str | None = Field(
        default=None,
        description="How `text` is read: `auto` (default: an SSML `<speak>` document as SSML, "
        "Markdown or HTML as a reader sees it, else plain text with web and e-mail addresses "
        "said briefly), `plain` (spoken as written), `markdown` or `ssml` (a `<speak>` "
        "document, or a fragment that is wrapped in one).",
        json_schema_extra={"enum": [*TEXT_FORMATS, None]},
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
        "made (`01-title.mp3`, numbered as the job's `chapters` list them, skipped ones "
        "counted) with each chapter's subtitles (.srt, .vtt).",
    )
    chapters: str | None = Field(
        default=None,
        description="POST /jobs, for a book (a `file`, or a text read into chapters): which "
        "chapters to make, numbered as POST /books/chapters lists them with the front matter "
        "(`1-3,7`, or `all`). Default: all but the front matter (cover, title page, copyright, "
        "contents), which is listed with `skipped: true`.",
        examples=["1-3,7"],
    )
    bitrate: WholeNumber | None = Field(
        default=None,
        description="POST /jobs, for a book: kbit/s of the file; mp3, aac, m4b: "
        f"{', '.join(map(str, BITRATES['lame']))}; opus: "
        f"{', '.join(map(str, BITRATES['libopus']))}. Default: the format's own (64; opus 48).",
    )


class BookChapterOut(BaseModel):
    """One chapter of a book, before anything is made."""

    number: int = Field(description="From 1, as `chapters` on POST /jobs takes it.")
    title: str
    chars: int = Field(description="Characters of text spoken.")
    seconds: float = Field(description="About how long it is spoken (an upper estimate).")
    skipped: bool = Field(description="Not made unless chosen: front matter, by default.")


class BookOut(BaseModel):
    """A book's chapters and what it says about itself, before it is made."""

    title: str
    author: str | None
    language: str | None
    year: str | None
    cover: bool = Field(description="It has a cover picture, which goes into the file.")
    format: str
    bitrate: int | None = Field(description="kbit/s the file would be made at.")
    bitrates: list[int] = Field(description="The bit rates (kbit/s) offered for `format`.")
    chapters: list[BookChapterOut]
    expected_bytes: int = Field(
        description="About how big the file of the chapters not skipped would be, at `bitrate`."
    )


class ChapterOut(BaseModel):
    """One chapter of a book job."""

    number: int = Field(description="From 1.")
    title: str
    state: ChapterProgress = Field(
        description="`queued` until a part of it is begun, `making` while it is made, "
        "`done` once its audio is made, `skipped` when it is listed but not made."
    )
    done: bool = Field(description="Its audio is made (`state` is `done`).")
    skipped: bool = Field(default=False, description="Listed, but not made.")
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
    eta_seconds: float | None = Field(
        default=None,
        description="About how many seconds the job has left (whole seconds), from its voice's "
        "measured pace on this server and its progress so far, updated as it goes; while "
        "queued, the time it takes once started. Null once finished or when unknown.",
    )
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
    encoding: str | None = Field(
        default=None,
        description="The encoding an uploaded text or Markdown book was read in (`utf-8`, "
        "`gb18030`, `big5`, `shift_jis`, `windows-1252`...); null for other jobs and EPUBs.",
    )

    @classmethod
    def of(
        cls,
        job: Job,
        base: str,
        chapters: list[ChapterState] | None = None,
        eta: float | None = None,
    ) -> JobOut:
        from datetime import UTC, datetime

        expires = datetime.fromtimestamp(job.expires_at, UTC).isoformat(timespec="seconds")
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            error=job.error,
            format=job.asked_format,
            voice=job.voice,
            bytes=job.bytes,
            duration_s=job.duration_s,
            eta_seconds=None if job.status.finished else eta,
            one_time=job.one_time,
            expires_at=expires.replace("+00:00", "Z"),
            status_url=f"{base}jobs/{job.id}",
            audio_url=f"{base}jobs/{job.id}/audio",
            timings_url=f"{base}jobs/{job.id}/timings",
            encoding=job.encoding,
            chapters=None
            if chapters is None
            else [
                ChapterOut(
                    number=number,
                    title=chapter.title,
                    state=chapter.state,
                    done=chapter.done,
                    skipped=chapter.skipped,
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
    heard: dict[str, float] | None = Field(
        default=None,
        description="How a speech recognizer understood the voice on everyday sentences: "
        '{"cer": 0.04} (characters: Mandarin, Japanese, Hindi) or {"wer": 0.02} (words); lower is '
        "better; null when not graded.",
    )
    hard_to_understand: bool = Field(
        default=False,
        description="Heard more than 0.05 worse than the best voice of its language: "
        "never chosen by language, only by id.",
    )


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
    410: "The link has expired; for a book's chapter, also: the book is done and its "
    "chapters were joined into its file.",
    413: "Text or body over the limit.",
    416: "A Range of bytes that is not valid, or starts past the end of the file.",
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
# 400: a body that is not what its Content-Type says (a broken multipart form).
WORK_ERRORS = (400, 401, 413, 422, 429, 500, 503, 507)
JOB_ERRORS = (404, 410, 503)


# Every audio media type a download or stream can have, for OpenAPI.
AUDIO_CONTENT: dict[str, Any] = {fmt.media_type: {} for fmt in FORMATS.values()}
