"""Books before they are made: the chapters of an uploaded book, with their lengths, which of
them are front matter, and the file's expected size."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request

from sayfile.api.deps import (
    API_KEY,
    JOB_BODY_DOC,
    RATE_LIMIT,
    UPLOAD,
    JobRequestsDep,
    SpeechBody,
    as_request,
    choice_of,
    upload_of,
)
from sayfile.api.schemas import BookChapterOut, BookOut, error_docs
from sayfile.audio.formats import BITRATES
from sayfile.models import BookUpload

router = APIRouter(prefix="/books", tags=["books"])


@router.post(
    "/chapters",
    response_model=BookOut,
    responses=error_docs(400, 401, 413, 422, 429),
    openapi_extra=JOB_BODY_DOC,
    dependencies=[UPLOAD, API_KEY, RATE_LIMIT],
    summary="List a book's chapters (and the file's expected size) before making it",
)
async def book_chapters(
    request: Request, body: SpeechBody, job_requests: JobRequestsDep
) -> BookOut:
    """The same fields as POST /jobs: the book as the multipart field `file` (or a `text`),
    with `format`, `bitrate` and `chapters` for the expected size. Nothing is made or kept."""
    book = upload_of(request)
    if book is None:
        data = body.text.encode("utf-8")
        book = BookUpload(io.BytesIO(data), len(data), "", "text/plain")
    preview = await job_requests.preview_book(book, as_request(body), choice_of(body))
    info = preview.book.info
    fmt = preview.format
    return BookOut(
        title=preview.title,
        author=info.author,
        language=info.language,
        year=info.year,
        cover=info.cover is not None,
        format=preview.asked_format,
        bitrate=fmt.bit_rate // 1000 if fmt.bit_rate else None,
        bitrates=list(BITRATES.get(fmt.codec, ())),
        chapters=[
            BookChapterOut(
                number=number,
                title=chapter.title,
                chars=len(chapter.text),
                seconds=round(seconds, 1),
                skipped=chapter.skipped,
            )
            for number, (chapter, seconds) in enumerate(
                zip(preview.chapters, preview.seconds, strict=True), 1
            )
        ],
        expected_bytes=preview.expected_bytes,
    )
