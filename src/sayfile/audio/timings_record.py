"""A book's timings record (`.timings.json`) written from its chapters' timings a piece at a
time: the JSON `timings.joined(...).to_json()` gives, without the book's every word copied,
made a dict and made one string in memory at once (a novel of 1.26 million characters has
209,000 words: its join's peak fell from 734 to 643 MiB, docs/benchmarks.md)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from sayfile.audio.timings import Timing, Timings


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
    known = all(section.words is not None for _, section in sections)
    notes = [section.words_note for _, section in sections if section.words_note]
    own = [_shifted(m, start) for start, section in sections for m in section.marks]
    every = sorted([*marks, *own], key=lambda mark: mark.start)
    before = itertools.accumulate((len(s.pieces) for _, s in sections), initial=0)
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"duration": {json.dumps(round(duration, 3))}, "pieces": ')
        pieces = (_shifted(t, start) for start, section in sections for t in section.pieces)
        _array(out, pieces)
        out.write(', "words": ')
        if known:
            words = (
                _shifted(t, start, first)
                for (start, section), first in zip(sections, before, strict=False)
                for t in section.words or ()
            )
            _array(out, words)
        else:
            out.write("null")
        out.write(f', "words_note": {_json(notes[0] if notes else None)}, "marks": ')
        out.write(_json([{"time": round(m.start, 3), "name": m.text} for m in every]))
        for key, value in (extra or {}).items():
            out.write(f", {_json(key)}: {_json(value)}")
        out.write("}")


def _shifted(timing: Timing, by: float, before: int = 0) -> Timing:
    """`timing` `by` seconds later, its sentence `before` pieces on (as `joined` shifts)."""
    sentence = None if timing.sentence is None else timing.sentence + before
    return dataclasses.replace(
        timing, start=timing.start + by, end=timing.end + by, sentence=sentence
    )


def _array(out: IO[str], timings: Iterable[Timing]) -> None:
    out.write("[")
    for n, timing in enumerate(timings):
        out.write(", " if n else "")
        out.write(_json(timing.to_json()))
    out.write("]")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
