"""What a job's link answers when there is no audio to send: no such job or chapter (404), its
audio expired (410), not made yet (409), failed (409), a one-time link being downloaded
(409), a done book's chapter now inside the book's file (410). Interfaces turn these into
responses like the other errors of `errors.py`."""

from __future__ import annotations

from sayfile.errors import SayfileError


class JobNotFound(SayfileError):
    def __init__(
        self, message: str = "No such job. Links are only valid as given; check the whole id."
    ) -> None:
        super().__init__(message)


class ChapterNotFound(JobNotFound):
    """No such chapter: not in 1 to `count`, skipped, or of a job that is no book (None)."""

    def __init__(self, number: int, count: int | None, skipped: bool = False) -> None:
        no_chapter = f"The book has no chapter {number}: its chapters are numbered 1 to {count}."
        skipped_chapter = f"Chapter {number} is skipped (front matter, or not chosen): not made."
        no_book = "This job is not a book: it has no chapters."
        super().__init__(no_book if count is None else skipped_chapter if skipped else no_chapter)


class JobExpired(SayfileError):
    def __init__(self) -> None:
        super().__init__("This link has expired and its audio was deleted.")


class JobNotReady(SayfileError):
    def __init__(self, status: str, message: str | None = None) -> None:
        super().__init__(
            message or f"The audio is not ready yet (job is {status}); try again shortly."
        )
        self.status = status
        self.retry_after = 2


class ChapterJoined(SayfileError):
    """A done book's chapter: no file of its own now, but `start` to `end` s of the book's."""

    def __init__(self, number: int, start: float | None, end: float | None) -> None:
        where = f", from {start:.1f} s to {end:.1f} s" if start is not None and end else ""
        super().__init__(
            f"The book is done: chapter {number} is in the book's file{where}. Download the "
            "book (the job's audio_url); the job's chapters say where each one starts and ends."
        )


class JobBusy(SayfileError):
    """A one-time link is being downloaded by another request right now."""

    def __init__(self) -> None:
        super().__init__(
            "This one-time link is being downloaded right now; it can be downloaded once."
        )
        self.retry_after = 5


class JobFailed(SayfileError):
    def __init__(self, error: str) -> None:
        super().__init__(f"The job failed: {error}")
        self.error = error
