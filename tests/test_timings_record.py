"""A book's timings record written a piece at a time holds what the joined timings would:
read back, it is the same JSON and the same timings (the book's words counted across its
chapters, its marks in order)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sayfile.audio.joined_timings import joined, write_joined
from sayfile.audio.timings import Timing, Timings


def _chapter(title: str, words: bool) -> Timings:
    pieces = (
        Timing(0.0, 1.5, f"{title}.", "tone:beep"),
        Timing(1.5, 3.25, "Ein Wort für «W3C» hier.", "tone:beep", written="Ein Wort hier."),
    )
    timed = (
        Timing(0.0, 0.7, title, chars=(0, len(title)), sentence=0),
        Timing(1.5, 2.0, "Ein", chars=(len(title) + 2, len(title) + 5), sentence=1),
    )
    return Timings(
        pieces,
        timed if words else None,
        3.5,
        None if words else "no words here",
        (Timing(1.5, 1.5, "second"),),
    )


@pytest.mark.parametrize("words", [True, False])
def test_the_record_written_a_piece_at_a_time_is_the_joined_timings(
    tmp_path: Path, words: bool
) -> None:
    sections = [(0.0, _chapter("Eins", True)), (3.5, _chapter("Zwei", words))]
    marks = [Timing(0.0, 0.0, "chapter:Eins"), Timing(3.5, 3.5, "chapter:Zwei")]
    extra = {"book_chapters": [["Eins", False], ["Vorwort", True], ["Zwei", False]]}
    path = tmp_path / "book.timings.json"
    write_joined(path, sections, 7.0, marks, extra)
    record = json.loads(path.read_text("utf-8"))
    whole = joined(sections, 7.0, marks)
    assert record == whole.to_json() | extra
    assert Timings.from_json(record) == whole
    # The second chapter's words belong to its own pieces, counted from the book's start.
    if words:
        assert [w["sentence"] for w in record["words"]] == [0, 1, 2, 3]
    else:
        assert record["words"] is None and record["words_note"] == "no words here"
    assert [m["time"] for m in record["marks"]] == [0.0, 1.5, 3.5, 5.0]
