"""Jobs: create one (a download link), follow its progress, download or delete its file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sayfile.api.audio_responses import ChapterFileResponse, JobFileResponse
from sayfile.api.deps import (
    API_KEY,
    JOB_BODY_DOC,
    RATE_LIMIT,
    UPLOAD,
    ClientDep,
    DownloadsDep,
    JobRequestsDep,
    ReaderDep,
    SpeechBody,
    SubmissionsDep,
    as_request,
    base_path,
    choice_of,
    upload_of,
)
from sayfile.api.schemas import (
    AUDIO_CONTENT,
    JOB_ERRORS,
    WORK_ERRORS,
    JobOut,
    WholeNumber,
    error_docs,
)
from sayfile.audio.timings import Timing, cues, srt, vtt
from sayfile.audio.word_captions import vtt_with_words
from sayfile.errors import InvalidInput
from sayfile.jobs.download_names import content_disposition
from sayfile.link_errors import JobNotFound
from sayfile.store.records import Job

router = APIRouter(prefix="/jobs", tags=["jobs"])
# Where a book may be uploaded: the body limit lets a file of SAYFILE_MAX_UPLOAD_BYTES through.
UPLOAD_PATHS = ("/jobs", "/books/chapters")
_ERRORS = error_docs(*JOB_ERRORS)


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses=error_docs(*WORK_ERRORS),
    openapi_extra=JOB_BODY_DOC,
    dependencies=[UPLOAD, API_KEY, RATE_LIMIT],
    summary="Create a job; its audio_url serves the file when done",
)
async def create_job(
    request: Request, body: SpeechBody, job_requests: JobRequestsDep, client: ClientDep
) -> JSONResponse:
    book = upload_of(request)
    if book is not None:
        job = await job_requests.create_book_job(
            book, as_request(body), client, body.one_time, body.package, choice_of(body)
        )
    elif body.package != "file":
        raise InvalidInput(
            f"package {body.package} needs a book: send it as the multipart field `file`; "
            "allowed without one: file.",
            field="package",
        )
    else:
        job = await job_requests.create_job(
            as_request(body), client, one_time=body.one_time, choice=choice_of(body)
        )
    chapters = await job_requests.chapters(job)
    out = JobOut.of(job, base_path(request), chapters, job_requests.eta(job))
    return JSONResponse(
        out.model_dump(mode="json"), status_code=202, headers={"Location": out.status_url}
    )


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
async def read_job(request: Request, job_id: str, reader: ReaderDep) -> JobOut:
    job = await reader.get(job_id)
    return JobOut.of(job, base_path(request), await reader.chapters(job), reader.eta(job))


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS},
    summary="Server-sent events with the job's progress until it ends",
)
async def job_events(request: Request, job_id: str, reader: ReaderDep) -> StreamingResponse:
    """Each event is the job as JSON (`event: progress`), the last one `event: end`.
    Polling GET /jobs/{id} gives the same information."""
    await reader.get(job_id)  # 404 before the stream starts
    return StreamingResponse(
        _events(reader.follow(job_id), base_path(request), reader.eta),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


async def _events(
    jobs: AsyncGenerator[Job, None], base: str, eta: Callable[[Job], float | None]
) -> AsyncIterator[str]:
    last = None
    async with contextlib.aclosing(jobs):
        try:
            async for job in jobs:
                data = JobOut.of(job, base, eta=eta(job)).model_dump_json()
                if job.status.finished:
                    yield f"event: end\ndata: {data}\n\n"
                    return
                if data != last:
                    yield f"event: progress\ndata: {data}\n\n"
                    last = data
        except JobNotFound:
            yield 'event: end\ndata: {"status": "deleted"}\n\n'


_AUDIO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": AUDIO_CONTENT, "description": "The file (Range supported)."},
    206: {"content": AUDIO_CONTENT, "description": "Part of the file."},
    304: {"description": "Not modified (If-None-Match)."},
    **error_docs(409, 416, *JOB_ERRORS),
}
_CHAPTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": AUDIO_CONTENT, "description": "The chapter's file (Range supported)."},
    206: {"content": AUDIO_CONTENT, "description": "Part of the chapter's file."},
    304: {"description": "Not modified (If-None-Match)."},
    **error_docs(409, 416, *JOB_ERRORS),
}


@router.head(
    "/{job_id}/audio",
    response_class=Response,
    responses=_AUDIO_RESPONSES,
    operation_id="head_job_audio",
    summary="The finished file's headers",
)
@router.get(
    "/{job_id}/audio",
    response_class=Response,
    responses=_AUDIO_RESPONSES,
    operation_id="get_job_audio",
    summary="Download the finished file",
)
async def job_audio(request: Request, job_id: str, downloads: DownloadsDep) -> Response:
    download = request.method == "GET"
    job, file = await downloads.open_audio(job_id, download)

    async def sent(count: int) -> None:
        await downloads.download_ended(job, count)

    return JobFileResponse(file, job, on_sent=sent if job.one_time and download else None)


_TEXT_RESPONSES: dict[int | str, dict[str, Any]] = error_docs(409, *JOB_ERRORS)


# A HEAD of its own, as a job's audio has: through HeadLikeGet it would be a GET whose first
# MiB is read from disk only to be dropped.
@router.head(
    "/{job_id}/chapters/{number}/audio",
    response_class=Response,
    responses=_CHAPTER_RESPONSES,
    operation_id="head_chapter_audio",
    summary="A finished chapter's headers",
)
@router.get(
    "/{job_id}/chapters/{number}/audio",
    response_class=Response,
    responses=_CHAPTER_RESPONSES,
    operation_id="get_chapter_audio",
    summary="A finished chapter of a book still being made",
)
async def chapter_audio(job_id: str, number: WholeNumber, downloads: DownloadsDep) -> Response:
    """Chapter `number` (from 1, as the job's `chapters` list them), playable as soon as it
    is done while the rest of the book is made: 409 `not_ready` until then, 404 for a
    chapter the book does not have or skips. Once the whole book is done this is 410
    `chapter_joined`: the chapters are in the book's file (the job's `chapters` say where).
    HEAD, Range, If-Range and If-None-Match as for the job's audio."""
    return ChapterFileResponse(await downloads.open_chapter(job_id, number))


@router.get(
    "/{job_id}/timings",
    responses=_TEXT_RESPONSES,
    summary="What the audio says when: each piece (and word, where known), in seconds",
)
async def job_timings(job_id: str, downloads: DownloadsDep) -> dict[str, Any]:
    """`pieces` are exact to the sample (sayfile assembles the audio itself): `start` is
    where the piece's speech begins, after any pause before it. `words` (Kokoro's voices,
    Piper's, espeak-ng's): each word's times, its characters in the text as said
    (`start_char`, `end_char`) and its piece (`sentence`); null, with `words_note` saying
    why, where the engine does not report word times."""
    _, timings = await downloads.timings(job_id)
    return timings.to_json()


_MAX_CHARS = Query(
    default=None,
    ge=1,
    le=500,
    description="Longest cue, in characters (1-500; by default 42, or 16 for Chinese); a "
    "longer word is a cue of its own, never cut.",
)


@router.get(
    "/{job_id}/subtitles.srt",
    response_class=Response,
    responses={200: {"content": {"application/x-subrip": {}}}, **_TEXT_RESPONSES},
    summary="Subtitles (SubRip) of the finished audio",
)
async def job_subtitles_srt(
    job_id: str, downloads: DownloadsDep, max_chars: WholeNumber | None = _MAX_CHARS
) -> Response:
    """Cues a reader can follow: long sentences are cut at clauses (Chinese too), and where
    the words are timed, cues start when their first word does and no word is cut."""
    return await _subtitles(job_id, downloads, srt, "application/x-subrip", "srt", max_chars)


@router.get(
    "/{job_id}/subtitles.vtt",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {}}}, **_TEXT_RESPONSES},
    summary="Subtitles (WebVTT, for a <track> element) of the finished audio",
)
async def job_subtitles_vtt(
    job_id: str,
    downloads: DownloadsDep,
    max_chars: WholeNumber | None = _MAX_CHARS,
    words: bool = Query(
        default=False,
        description="Each word's start inside its cue (`<00:00:01.250>`: karaoke in players); "
        "audio without word timings gives the plain cues and a NOTE saying so.",
    ),
) -> Response:
    """The same cues as the SubRip file."""
    if not words:
        return await _subtitles(job_id, downloads, vtt, "text/vtt", "vtt", max_chars)
    job, timings = await downloads.timings(job_id)
    body = vtt_with_words(cues(timings, max_chars), timings.words)
    headers = {"Content-Disposition": content_disposition(job.stem, "vtt")}
    return Response(body, media_type="text/vtt; charset=utf-8", headers=headers)


async def _subtitles(
    job_id: str,
    downloads: DownloadsDep,
    render: Callable[[list[Timing]], str],
    media_type: str,
    extension: str,
    max_chars: int | None,
) -> Response:
    job, timings = await downloads.timings(job_id)
    headers = {"Content-Disposition": content_disposition(job.stem, extension)}
    body = render(cues(timings, max_chars))
    return Response(body, media_type=f"{media_type}; charset=utf-8", headers=headers)


@router.delete(
    "/{job_id}", status_code=204, responses=error_docs(401, *JOB_ERRORS), dependencies=[API_KEY]
)
async def delete_job(job_id: str, submissions: SubmissionsDep) -> Response:
    """Cancel the job if it is still working, or delete its file; the link stops working."""
    await submissions.cancel(job_id)
    return Response(status_code=204)
