"""Files that appear whole or not at all: written under a temporary name ending in
`UNFINISHED`, flushed to disk, then renamed. Every layer that writes a finished file uses this,
and whatever cleans up (the sweeper, a job's removal) tells unfinished files by `is_unfinished`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

# The suffix of a file still being written.
UNFINISHED = ".unfinished"
# The same suffix as earlier versions wrote it (`part-0007.mp3.part`): still recognised,
# so that a server upgraded in the middle of a job removes what the old one left.
_EARLIER_UNFINISHED = ".part"
UNFINISHED_SUFFIXES = (UNFINISHED, _EARLIER_UNFINISHED)


def is_unfinished(name: str) -> bool:
    """Whether the file called `name` is one being written (or left half-written)."""
    return name.endswith(UNFINISHED_SUFFIXES)


def unfinished_name(target: Path, *, in_place: bool) -> Path:
    """The temporary name `target` is written at by one writer alone (`target` + UNFINISHED).
    A `target` that is itself an unfinished name (a book's part, staged under a name of its
    own) is written where it is when `in_place` (the synthesizer streaming into the staged
    name), and at `….unfinished.unfinished` when not (a staged file rewritten from itself must
    not write over what it reads)."""
    if in_place and target.name.endswith(UNFINISHED):
        return target
    return target.with_name(target.name + UNFINISHED)


def own_unfinished_name(target: Path) -> Path:
    """A temporary name of its own beside `target` (`part-0007.<random>.mp3.unfinished`), for
    writers that may race for the same target: no two ever share one, and it still reads as
    begun (it starts like `target`) and unfinished."""
    first, _, rest = target.name.partition(".")
    return target.with_name(f"{first}.{secrets.token_hex(6)}.{rest}{UNFINISHED}")


@contextlib.contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """An unfinished path to write `target` at: flushed to disk and renamed to `target` when
    the block ends, removed if it raises, so `target` appears whole or not at all. The path is
    never `target` itself, even where `target` is an unfinished name already (a staged book
    rewritten with its chapter marks reads `target` while it writes the new file)."""
    unfinished = unfinished_name(target, in_place=False)
    try:
        yield unfinished
        with unfinished.open("rb+") as file:
            os.fsync(file.fileno())
        unfinished.replace(target)
    except BaseException:
        unfinished.unlink(missing_ok=True)
        raise


def put_in_place(moves: Sequence[tuple[Path, Path]]) -> None:
    """Rename each finished (unfinished-named) file to its target, in order."""
    for source, target in moves:
        source.replace(target)


def remove_files(paths: Sequence[Path]) -> None:
    """Remove each of `paths` that is there (what a writer leaves when it stops)."""
    for path in paths:
        path.unlink(missing_ok=True)
