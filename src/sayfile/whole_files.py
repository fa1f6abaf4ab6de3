"""Files that appear whole or not at all: written under a temporary `.part` name, flushed to
disk, then renamed. Every layer that writes a finished file uses this."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PART = ".part"


@contextlib.contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """A `.part` path to write `target` at: flushed to disk and renamed to `target` when the
    block ends, removed if it raises, so `target` appears whole or not at all."""
    part = target.with_name(target.name + PART)
    try:
        yield part
        with part.open("rb+") as file:
            os.fsync(file.fileno())
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
