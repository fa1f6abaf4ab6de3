"""A book's timings record (`.timings.json`) written from its chapters' timings a piece at a
time: the JSON `timings.joined(...).to_json()` gives, from the same `joined_parts`, without the
book's every word copied,
made a dict and made one string in memory at once (a novel of 1.26 million characters has
209,000 words: its join's peak fell from 734 to 643 MiB, docs/benchmarks.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from sayfile.audio.timings import Timing, Timings, joined_parts


def write_joined(
    path: Path,
    sections: Sequence[tuple[float, Timings]],
    duration: float,
    marks: Sequence[Timing] = (),
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write to `path` the record of audio joined from `sections` (each `(start, timings)`),
    lasting `duration`, with `marks` added and `extra` keys after the record's own: the same
    JSON as `joined(sections, duration, marks).to_json() | extra`."""
    pieces, words, note, every = joined_parts(sections, marks)
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"duration": {json.dumps(round(duration, 3))}, "pieces": ')
        _array(out, pieces)
        out.write(', "words": ')
        if words is None:
            out.write("null")
        else:
            _array(out, words)
        out.write(f', "words_note": {_json(note)}, "marks": ')
        out.write(_json([{"time": round(m.start, 3), "name": m.text} for m in every]))
        for key, value in (extra or {}).items():
            out.write(f", {_json(key)}: {_json(value)}")
        out.write("}")


def _array(out: IO[str], timings: Iterable[Timing]) -> None:
    out.write("[")
    for n, timing in enumerate(timings):
        out.write(", " if n else "")
        out.write(_json(timing.to_json()))
    out.write("]")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
