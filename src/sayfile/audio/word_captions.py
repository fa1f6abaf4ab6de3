"""WebVTT captions with each word's time inside its cue (`<00:00:01.250>` before the word),
which players and browsers show as karaoke: the words already said one colour, the rest
another."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from sayfile.audio.timings import Timing, stamp

# Word timings are stored to the millisecond: a word may start that much before its cue.
_SLACK = 0.001


def vtt_with_words(captions: Sequence[Timing], words: Sequence[Timing] | None) -> str:
    """`captions` as a WebVTT file (as `timings.vtt` writes them), each word found in a cue
    after its first preceded by its start time; with `words` None (an engine that does not
    time words), the plain cues after a NOTE saying so."""
    blocks = ["WEBVTT\n\n"]
    if words is None:
        blocks.append("NOTE The times of single words are not known for this audio.\n\n")
    ordered = sorted(words or (), key=lambda word: word.start)
    starts = [word.start for word in ordered]
    for caption in captions:
        text = " ".join(caption.text.split())
        if not text:
            continue
        first = bisect.bisect_left(starts, caption.start - _SLACK)
        last = bisect.bisect_left(starts, caption.end)
        body = _tagged(text, caption, ordered[first:last])
        blocks.append(f"{stamp(caption.start, '.')} --> {stamp(caption.end, '.')}\n{body}\n\n")
    return "".join(blocks)


def _tagged(text: str, caption: Timing, words: Sequence[Timing]) -> str:
    """`text` escaped, with a timestamp tag before each of `words` found in it in order
    whose time lies strictly inside the cue (as WebVTT requires)."""
    parts = []
    done = 0
    cursor = 0
    for word in words:
        token = " ".join(word.text.split())
        at = text.find(token, cursor) if token else -1
        if at < 0:
            continue
        cursor = at + len(token)
        if at > 0 and caption.start < word.start < caption.end:
            parts.append(_escaped(text[done:at]))
            parts.append(f"<{stamp(word.start, '.')}>")
            done = at
    parts.append(_escaped(text[done:]))
    return "".join(parts)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
