"""Where each part of a text as said (normalisation's "十二元" for "¥12", "doctor" for "Dr")
came from in the text as written: the same characters where nothing changed, the whole
written span where normalisation changed it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def written_spans(
    written: str, said: str, spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """For each (start, end) span of `said`, in order, the span of `written` it says: exact
    where `said` keeps the written characters, the whole changed span where it does not,
    empty (at its place) for words normalisation added."""
    if said == written:
        return [(start, end) for start, end in spans]
    low = [0] * len(said)
    high = [0] * len(said)
    # A space alone never anchors a match: "3:15 pm" said "three fifteen PM" is one changed
    # span, not "3:15" = "three" and "pm" = "fifteen PM" around a matched space.
    matcher = difflib.SequenceMatcher(str.isspace, written, said, autojunk=False)
    for tag, w1, w2, s1, s2 in matcher.get_opcodes():
        for at in range(s1, s2):
            if tag == "equal":
                low[at], high[at] = w1 + at - s1, w1 + at - s1 + 1
            else:
                low[at], high[at] = w1, w2
    found = []
    for start, end in spans:
        if end <= start or start >= len(said):
            found.append((len(written), len(written)) if start >= len(said) else (low[start],) * 2)
            continue
        found.append((min(low[start:end]), max(high[start:end])))
    return found


def merged_words(
    places: Sequence[tuple[int, int]], written: str
) -> list[tuple[int, int, list[int]]]:
    """Said words grouped by the written words they say: (start, end) of each written word
    and the indexes of the said words in it. Said words whose written spans overlap (one
    written "¥12" said as three words) or touch inside a Latin word ("PPT" spelled "P P T")
    are one; a said word with no written span of its own (added by normalisation) joins the
    word before it, or else the one after."""
    groups: list[tuple[int, int, list[int]]] = []
    waiting: list[int] = []
    for index, (start, end) in enumerate(places):
        if end <= start:
            if groups:
                groups[-1][2].append(index)
            else:
                waiting.append(index)
            continue
        if groups and (start < groups[-1][1] or _inside_latin(written, groups[-1][1], start)):
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, end), [*members, index])
        else:
            groups.append((start, end, [*waiting, index]))
            waiting = []
    return groups


def _inside_latin(written: str, end: int, start: int) -> bool:
    """Whether a written word ending at `end` and the next starting at `start` are one Latin
    word (no gap, letters or digits on both sides, neither Chinese)."""
    if end != start or not 0 < start < len(written):
        return False
    before, after = written[start - 1], written[start]
    return before.isascii() and after.isascii() and before.isalnum() and after.isalnum()
