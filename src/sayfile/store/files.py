"""Audio files in the data folder, the timings beside each, and the folders books are made
in: paths by job id only, written under an unfinished name, then renamed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from stat import S_ISREG

from sayfile.store.records import is_job_id
from sayfile.whole_files import UNFINISHED_SUFFIXES, unfinished_name

TIMINGS = "timings.json"


class AudioFiles:
    """`<data_dir>/audio/<job id>.<ext>`; a file exists under its final name only when whole."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "audio"
        self.books = data_dir / "books"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.books.mkdir(parents=True, exist_ok=True)

    def book_dir(self, job_id: str) -> Path:
        """The folder a book job keeps its parts in (`books.parts.BookFolder`) until it is
        done. Raises ValueError for anything not a job id."""
        if not is_job_id(job_id):
            raise ValueError("not a job id")
        return self.books / job_id

    def remove_book(self, job_id: str) -> None:
        """A book's folder goes, with whatever parts it holds."""
        shutil.rmtree(self.book_dir(job_id), ignore_errors=True)

    def book_listing(self) -> list[Path]:
        return sorted(self.books.iterdir()) if self.books.is_dir() else []

    def path(self, job_id: str, extension: str) -> Path:
        """The final path of a job's file. Raises ValueError for anything not a job id, so
        user input never becomes a path by itself."""
        if not is_job_id(job_id) or not extension.isalnum():
            raise ValueError("not a job id")
        return self.root / f"{job_id}.{extension}"

    def timings_path(self, job_id: str) -> Path:
        """Where a job's timings (what is said when) are kept, beside its audio."""
        return self.path(job_id, "timings").with_suffix(f".{TIMINGS}")

    def write_timings(self, job_id: str, timings: dict[str, object]) -> None:
        """Write a job's timings atomically (a reader sees them whole or not at all)."""
        path = self.timings_path(job_id)
        unfinished = unfinished_name(path, in_place=False)
        try:
            unfinished.write_text(json.dumps(timings, ensure_ascii=False), encoding="utf-8")
            unfinished.replace(path)
        except BaseException:
            unfinished.unlink(missing_ok=True)  # a full disk leaves no half-written timings
            raise

    def read_timings(self, job_id: str) -> dict[str, object]:
        """A job's timings. Raises FileNotFoundError when there are none (any more)."""
        data: dict[str, object] = json.loads(self.timings_path(job_id).read_text("utf-8"))
        return data

    def link(self, source: Path, target: Path) -> bool:
        """Give `target` the same content as `source` without copying (a hard link); False
        when the source is gone."""
        try:
            os.link(source, target)
        except FileExistsError:
            return True
        except FileNotFoundError:
            return False
        return True

    def remove(self, job_id: str, extension: str) -> None:
        """A job's audio and timings go, finished or unfinished (under this version's
        unfinished name or an earlier one's)."""
        for path in (self.path(job_id, extension), self.timings_path(job_id)):
            path.unlink(missing_ok=True)
            for suffix in UNFINISHED_SUFFIXES:
                path.with_name(path.name + suffix).unlink(missing_ok=True)

    def usage(self) -> tuple[int, dict[str, int]]:
        """Bytes on disk in the audio folder and the books' folders, each file once however
        many names (hard links) it has, unfinished files and a book's parts included; and what
        each job has written so far by job id (its files, or its book's folder)."""
        seen: set[int] = set()
        total = 0
        written: dict[str, int] = {}
        owned = [(path, self.job_id_of(path)) for path in self.listing()]
        for folder in self.book_listing():
            owner = folder.name if is_job_id(folder.name) else None
            owned.extend((path, owner) for path in folder.rglob("*"))
        for path, owner in owned:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # deleted meanwhile
            if not S_ISREG(stat.st_mode):
                continue
            if owner is not None:
                written[owner] = written.get(owner, 0) + stat.st_size
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_size
        return total, written

    def listing(self) -> list[Path]:
        return sorted(self.root.iterdir()) if self.root.is_dir() else []

    @staticmethod
    def job_id_of(path: Path) -> str | None:
        stem = path.name.split(".", 1)[0]
        return stem if is_job_id(stem) else None
