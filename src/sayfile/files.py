"""Audio files in the data folder: paths by job id only, atomic `.part` -> final rename."""

from __future__ import annotations

import os
from pathlib import Path

from sayfile.jobs import is_job_id

PART = ".part"


class AudioFiles:
    """`<data_dir>/audio/<job id>.<ext>`; a file exists under its final name only when whole."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "audio"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, job_id: str, extension: str) -> Path:
        """The final path of a job's file. Raises ValueError for anything not a job id, so
        user input never becomes a path by itself."""
        if not is_job_id(job_id) or not extension.isalnum():
            raise ValueError("not a job id")
        return self.root / f"{job_id}.{extension}"

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
        path = self.path(job_id, extension)
        path.unlink(missing_ok=True)
        path.with_name(path.name + PART).unlink(missing_ok=True)

    def usage(self) -> tuple[int, dict[str, int]]:
        """Bytes on disk in the folder, each file once however many names (hard links) it
        has, `.part` files included; and the size of each job's `.part` file by job id."""
        seen: set[int] = set()
        total = 0
        parts: dict[str, int] = {}
        for path in self.listing():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # deleted meanwhile
            if path.name.endswith(PART) and (owner := self.job_id_of(path)) is not None:
                parts[owner] = stat.st_size
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_size
        return total, parts

    def listing(self) -> list[Path]:
        return sorted(self.root.iterdir()) if self.root.is_dir() else []

    @staticmethod
    def job_id_of(path: Path) -> str | None:
        stem = path.name.split(".", 1)[0]
        return stem if is_job_id(stem) else None
