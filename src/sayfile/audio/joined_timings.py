"""Timings of audio joined from sections (a book's chapters, a long text's parts): as one
`Timings`, or written as the record stored beside the audio (`.timings.json`) a piece at a time,
the same JSON `joined(...).to_json()` gives without the book's every word copied, made a dict
and made one string in memory at once (a novel of 1.26 million characters has 209,000 words:
its join's peak fell from 734 to 643 MiB, docs/benchmarks.md)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from sayfile.audio.timings import Timing, Timings


def joined(
    sections: Sequence[tuple[float, Timings]], duration: float, marks: Sequence[Timing] = ()
) -> Timings:
    """The timings of audio joined from sections: each section's `(start, timings)`, its times
    shifted by where it starts (a word's sentence counted across them); `marks` added."""
    pieces, words, note, every = joined_parts(sections, marks)
    return Timings(tuple(pieces), None if words is None else tuple(words), duration, note, every)


def joined_parts(
    sections: Sequence[tuple[float, Timings]], marks: Sequence[Timing] = ()
) -> tuple[Iterator[Timing], Iterator[Timing] | None, str | None, tuple[Timing, ...]]:
    """What `joined` is made of, its pieces and words made one at a time as they are taken
    (a book's record is written so: `write_joined`): the pieces, the words (None
    unless every section has them), the first section's note on words, and the marks."""
    pieces = (shifted(t, start) for start, section in sections for t in section.pieces)
    before = list(itertools.accumulate((len(s.pieces) for _, s in sections), initial=0))
    known = all(section.words is not None for _, section in sections)
    words = (
        shifted(t, start, before[n]) for n, (start, s) in enumerate(sections) for t in s.words or ()
    )
    notes = [section.words_note for _, section in sections if section.words_note]
    own = [shifted(t, start) for start, section in sections for t in section.marks]
    every = tuple(sorted([*marks, *own], key=lambda mark: mark.start))
    return pieces, words if known else None, notes[0] if notes else None, every


def shifted(timing: Timing, by: float, before: int = 0) -> Timing:
    """`timing` `by` seconds later, its sentence `before` pieces on."""
    sentence = None if timing.sentence is None else timing.sentence + before
    return dataclasses.replace(
        timing, start=timing.start + by, end=timing.end + by, sentence=sentence
    )


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
