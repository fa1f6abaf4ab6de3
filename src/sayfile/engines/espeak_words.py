"""Where espeak-ng says each word: its library's word events (the word's place in the text it
was given, counted in characters from 1, and the sample where it begins) as words of that
text, each once and in order.

espeak-ng reports a number it reads out as several words ("42": "forty" at the 4, "two" at
the 2), a word it spells or joins as one or more events inside it, and may report an empty
word at the end of a clause; each written word (white-space separated, Han characters one by
one, as espeak-ng reads them) is timed from the first event inside it. A written word with no
event of its own is said with its neighbour: the entry before it spans both (or the one after,
at the start)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sayfile.audio.formats import Samples
from sayfile.engines.base import WordSpan
from sayfile.engines.kokoro_words import text_words

# Chinese and Japanese characters: espeak-ng says each as a word of its own.
_IDEOGRAPH = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Quieter than this (about -54 dBFS) is the silence after a word, not part of it.
_SILENT = 64

WordEvent = tuple[int, int, int]
"""espeak-ng's word event: (text_position from 1, length, sample)."""


def written_words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of `text` as espeak-ng's events are grouped: white-space
    separated words without the marks at their ends, each Han or kana character alone."""
    found = []
    for start, end in text_words(text):
        at = start
        for char in _IDEOGRAPH.finditer(text, start, end):
            found.extend(text_words(text[at : char.start()], at))
            found.append((char.start(), char.end()))
            at = char.end()
        found.extend(text_words(text[at:end], at) if at > start else [(start, end)])
    return found


def event_words(
    text: str, events: Sequence[WordEvent], samples: Samples, scale: float = 1.0
) -> list[WordSpan]:
    """Each word of `text` with where it is heard in `samples` (the library's, before any
    stretch by `scale`): from the first event inside it to its last sound before the next
    timed word begins (or the audio ends); words without an event go with a neighbour."""
    words = written_words(text)
    starts: list[int | None] = [None] * len(words)
    at = 0
    for position, _, sample in sorted(events, key=lambda event: event[2]):
        char = position - 1
        # Words and events both come in order: look from the last word found on.
        while at < len(words) and words[at][1] <= char:
            at += 1
        if at < len(words) and words[at][0] <= char and starts[at] is None:
            starts[at] = max(0, min(sample, samples.size))
    groups: list[tuple[int, int, int]] = []  # (first char, end char, first sample)
    waiting: int | None = None  # where the untimed words at the start begin
    for (begin, end), start in zip(words, starts, strict=True):
        if start is None:
            if groups:
                groups[-1] = (groups[-1][0], end, groups[-1][2])
            elif waiting is None:
                waiting = begin
            continue
        if groups and start < groups[-1][2]:  # heard before the word before it: together
            groups[-1] = (groups[-1][0], end, groups[-1][2])
            continue
        groups.append((begin if waiting is None else waiting, end, start))
        waiting = None
    found = []
    for index, (begin, end, start) in enumerate(groups):
        stop = groups[index + 1][2] if index + 1 < len(groups) else samples.size
        loud = np.flatnonzero(np.abs(samples[start:stop].astype(np.int32)) > _SILENT)
        last = start + int(loud[-1]) + 1 if loud.size else start
        found.append((begin, end, round(start * scale), round(last * scale)))
    return found
