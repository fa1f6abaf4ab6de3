"""The domain error tree; interfaces (CLI, HTTP) turn these into exit codes or responses.
The state of a link (JobNotFound, JobExpired, JobNotReady, JobFailed, JobBusy, ChapterJoined:
404/410/409/409/409/410) has its errors in `link_errors.py`, under SayfileError too.

SayfileError
 +-- InvalidInput            the request itself is wrong (bad text, speed, format...)
 |    +-- UnknownVoice       no voice with that id; carries the closest ids
 |    +-- InvalidBlend       a mixed voice (af_bella(2)+af_sky(1)) that cannot be made
 |    +-- UnknownLanguage    no voice speaks that language; carries the closest languages
 |    +-- UnknownFormat      not one of the audio formats; carries the allowed names
 |    +-- TextTooLong        over a configured character limit
 |    +-- TooMuchSilence     more pauses than the request may ask for
 |    +-- UnreadableText     bytes no text encoding explains; names the offset
 |    +-- NoSpeech           nothing of the text has a sound in the voice (422)
 |    +-- InvalidSsml        an SSML document sayfile cannot read; names the line and column
 |    +-- InvalidLexicon     a lexicon file or request entry that cannot be read
 |    +-- InvalidBook        an uploaded book that cannot be read into chapters
 |         +-- BookTooLong   over SAYFILE_MAX_CHARS_BOOK (413)
 +-- UploadTooLarge          an uploaded file over SAYFILE_MAX_UPLOAD_BYTES (413)
 +-- BodyTooLarge            any other request body over SAYFILE_MAX_BODY_BYTES (413)
 +-- EngineError             an engine failed to produce audio
 |    +-- NothingToSay       a piece the voice has no sound for (said as silence)
 |    +-- EngineTimeout      one engine call ran past SAYFILE_ENGINE_TIMEOUT_SECONDS (504)
 +-- Interrupted             the process making the audio stopped or restarted (503)
 +-- WorkerLost              the process making the audio vanished, or none took it (503)
 +-- Busy                    the synthesis queue is full (503, Retry-After)
 +-- StorageFull             the storage quota is reached (507)
 +-- StoreUnavailable        Redis is away (503, Retry-After)
 +-- Unauthorized            an API key is required (401)
 +-- CrossSiteForm           a form posted from another site's page (403)
 +-- DiskFull                no space left while writing (507)
 +-- RateLimited / TooManyActive   one client asks too much (429, Retry-After)
"""

from __future__ import annotations

from collections.abc import Sequence


class SayfileError(Exception):
    """Base of every error sayfile raises on purpose."""


class InvalidInput(SayfileError):
    """The caller asked for something that cannot be done; the message says what and why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _suggest(choices: Sequence[str]) -> str:
    return f" Did you mean: {', '.join(choices)}?" if choices else ""


class UnknownVoice(InvalidInput):
    def __init__(self, voice: str, closest: Sequence[str]) -> None:
        super().__init__(
            f"Unknown voice {voice!r}.{_suggest(closest)} The voices are listed by GET /voices "
            "(and `sayfile voices`).",
            field="voice",
        )
        self.voice = voice
        self.closest = list(closest)


# How a mixed voice is written, for every message about one.
BLEND_FORM = (
    "A mixed voice is up to four Kokoro voices of one language joined by +, each with an "
    "optional positive weight in brackets (1 when left out): af_bella(2)+af_sky(1) or "
    "kokoro:af_bella(2)+kokoro:af_sky(1)."
)


class InvalidBlend(InvalidInput):
    """A mixed voice that cannot be made; the message names the problem and the form."""

    def __init__(self, blend: str, problem: str) -> None:
        super().__init__(f"Cannot mix the voice {blend!r}: {problem}. {BLEND_FORM}", field="voice")
        self.blend = blend
        self.problem = problem


class UnknownLanguage(InvalidInput):
    def __init__(self, language: str, closest: Sequence[str]) -> None:
        super().__init__(
            f"No voice speaks language {language!r}.{_suggest(closest)}", field="language"
        )
        self.language = language
        self.closest = list(closest)


class UnknownFormat(InvalidInput):
    def __init__(self, fmt: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Unknown audio format {fmt!r}; allowed: {', '.join(allowed)}.", field="format"
        )
        self.format = fmt
        self.allowed = list(allowed)


class TextTooLong(InvalidInput):
    """Text over a character limit; `spoken`: only once SSML and lexicons are expanded."""

    def __init__(
        self, length: int, limit: int, setting: str | None = None, spoken: bool = False
    ) -> None:
        named = f" ({setting})" if setting else ""
        said = " as spoken (after say-as and lexicon replacements)" if spoken else ""
        super().__init__(
            f"Text is {length} characters long{said}; the limit is {limit}{named}.",
            field="text",
        )
        self.length = length
        self.limit = limit
        self.setting = setting


class TooMuchSilence(InvalidInput):
    """More pause than a request may ask for: `allowed` seconds, `fixed` of them whatever the
    text and the rest as much as its speech."""

    def __init__(self, seconds: float, allowed: float, fixed: float) -> None:
        super().__init__(
            f"The text asks for {seconds:.0f} s of silence (<break>s and pauses); allowed: "
            f"{allowed:.0f} s ({fixed:.0f} s plus as long as its speech).",
            field="text",
        )
        self.seconds = seconds
        self.allowed = round(allowed, 1)


class UnreadableText(InvalidInput):
    """Bytes that no text encoding explains (`offset`: the first that is not UTF-8), or text
    holding NUL characters (a binary file; `offset` None)."""

    def __init__(self, message: str, *, offset: int | None, field: str = "text") -> None:
        super().__init__(message, field=field)
        self.offset = offset


class NoSpeech(InvalidInput):
    """Nothing of the text could be said by the voice (every piece was `NothingToSay`)."""

    def __init__(self, voice: str) -> None:
        super().__init__(
            f"The voice {voice} has no sound for any of this text (letters of a script it does "
            "not read); choose a voice of the text's language, or leave the voice unset.",
            field="text",
        )


class UploadTooLarge(SayfileError):
    """An uploaded file is larger than SAYFILE_MAX_UPLOAD_BYTES (`size` is None when the
    upload was stopped before its end)."""

    setting = "SAYFILE_MAX_UPLOAD_BYTES"

    def __init__(self, size: int | None, limit: int) -> None:
        said = f"is {size:,} bytes" if size is not None else "is larger than that"
        super().__init__(
            f"The uploaded file {said}; this server takes files of up to {limit:,} bytes "
            f"({self.setting}). Upload a smaller file, or ask the operator to raise "
            f"{self.setting}."
        )
        self.field = "file"
        self.length = size
        self.limit = limit


class BodyTooLarge(SayfileError):
    """A body (not a book's upload) over the limit; `size` None when stopped while read."""

    setting = "SAYFILE_MAX_BODY_BYTES"

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(
            f"The request body is over the limit of {limit} bytes ({self.setting}); a book "
            "goes as the multipart field `file` of POST /jobs, which takes larger files."
        )
        self.length = size
        self.limit = limit


class EngineError(SayfileError):
    """A speech engine failed; the message names the engine and voice."""


class NothingToSay(EngineError):
    """A piece has nothing the voice can sound (letters of a script its phonemes do not
    cover: Danish's Æ, bopomofo, for a Mandarin voice): the piece is said as silence."""


class EngineTimeout(EngineError):
    """One engine call ran past its time box; the call was abandoned and the engine replaced.
    A job fails as `engine_error` with this message."""


class Interrupted(SayfileError):
    """The job's process stopped or restarted before the audio was made; submit it again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.retry_after = 2


class WorkerLost(SayfileError):
    """The worker making the audio stopped answering, or no worker took the job."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.retry_after = 5


class Busy(SayfileError):
    """Too much work is queued; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"The server is busy; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class StorageFull(SayfileError):
    """The storage quota is used up by files not yet expired, or has not room for the
    expected size of this job (`needed`), with `room` bytes left."""

    setting = "SAYFILE_STORAGE_QUOTA_BYTES"

    def __init__(self, quota: int, needed: int | None = None, room: int | None = None) -> None:
        if needed is not None and room is not None:
            message = (
                f"Storage is too full for this: it needs about {needed:,} bytes of audio, "
                "and the storage quota "
                f"({self.setting}, {quota:,} bytes) has {room:,} bytes left; try again after "
                "some links expire, choose a smaller format, or send a shorter text."
            )
        else:
            message = (
                f"Storage is full ({quota} bytes of audio waiting to be downloaded); "
                "try again after some links expire."
            )
        super().__init__(message)
        self.limit = quota
        self.length = needed
        self.room = room


class StoreUnavailable(SayfileError):
    """The job store (Redis) cannot be reached; answered with 503 until it is back."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} is not reachable right now, so jobs cannot be created or looked up; "
            "try again in a few seconds."
        )
        self.retry_after = 5


class Unauthorized(SayfileError):
    """An API key is required and was missing or wrong."""

    def __init__(self, missing: bool) -> None:
        super().__init__(
            "An API key is required: send `Authorization: Bearer <key>`."
            if missing
            else "The API key is not valid."
        )
        self.missing = missing


class CrossSiteForm(SayfileError):
    """A form was posted from a page of another site."""

    def __init__(self) -> None:
        super().__init__(
            "This form was sent from another site's page; use the page of this server."
        )


class DiskFull(SayfileError):
    """The data folder's file system is full (or over a quota) while writing audio."""

    def __init__(self) -> None:
        super().__init__(
            "The server ran out of disk space while writing the audio; nothing partial was "
            "kept. Try again later."
        )


class RateLimited(SayfileError):
    """This client sent more requests than its rate allows."""

    def __init__(self, limit: str, retry_after: int) -> None:
        super().__init__(
            f"Too many requests: the limit is {limit} per client; try again in "
            f"{retry_after} seconds."
        )
        self.retry_after = retry_after


class TooManyActive(SayfileError):
    """This client already has as many jobs and streams running as it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"You already have {limit} requests being synthesized, the most one client may "
            "have at once; wait for one to finish."
        )
        self.retry_after = 2


class InvalidSsml(InvalidInput):
    """SSML that cannot be read; `line` and `column` (1-based) locate the problem when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message, field="text")
        self.line = line
        self.column = column


class InvalidLexicon(InvalidInput):
    """A pronunciation lexicon cannot be used: a file (the message names it and the line) or an
    entry of a request (the message gives its index)."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        super().__init__(message, field="lexicon")
        self.source = source
        self.line = line


class InvalidBook(InvalidInput):
    """An uploaded book cannot be read into chapters: not the kind its name or media type says,
    damaged, protected by DRM, bytes no encoding explains, or over a limit; the message says
    which."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


class BookTooLong(InvalidBook):
    """A book with more characters than SAYFILE_MAX_CHARS_BOOK (`length` None when its file
    alone shows it: more bytes of text than that many characters can take)."""

    setting = "SAYFILE_MAX_CHARS_BOOK"

    def __init__(self, length: int | None, limit: int, size: int | None = None) -> None:
        if length is None:
            said = f"is {size:,} bytes of text, more than a book of {limit:,} characters takes"
        else:
            said = f"has {length:,} characters of text"
        super().__init__(
            f"This book {said}; the limit for books is {limit:,} characters ({self.setting})."
        )
        self.length = length
        self.limit = limit
