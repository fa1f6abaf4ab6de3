"""Timings of what the audio says (pieces, and words where the engine tells), the captions cut
from them, and those captions as SubRip (.srt) and WebVTT (.vtt) text.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Ideographs, kana and hangul: one syllable each when read out.
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003ffff]"
)
# The above plus CJK and full-width punctuation: characters a CJK line may be cut around.
_WIDE = re.compile(
    "[\u1100-\u11ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\uff00-\uffef\U00020000-\U0003ffff]"
)
# How long a CJK character takes to say, in Latin characters (spaces and marks included):
# Mandarin is read at about 4-5 characters a second, English at about 12-15 characters.
_CJK_WEIGHT = 2.5
# Caption lengths a reader can follow (broadcasters' guidance: 42 characters a line for Latin
# scripts, 16 for Chinese).
LATIN_MAX_CHARS = 42
CJK_MAX_CHARS = 16
# Where a long piece is cut, best first: after a clause mark (a Latin one only before a space,
# not inside "1,000" or "3:45"), then at a space.
_CLAUSE = re.compile(r"[,;:](?=\s)|[，、；：]")
_SPACE = re.compile(r" ")
# Characters that neither start a CJK line nor end one (kinsoku rules).
_NO_START = frozenset("。，、；：！？）」』】〉》〕”’,.;:!?)]…・ー")
_NO_END = frozenset("（「『【〈《〔“‘([")
# Word timings are stored to the millisecond: a word may start that much before its piece.
_SLACK = 0.001
_SRT_MARKUP = re.compile(r"--(?=>)|<(?=[A-Za-z/])|\{(?=\\)")


@dataclass(frozen=True, slots=True)
class Timing:
    """`text` heard from `start` to `end`, in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    voice: str | None = None
    """The voice that spoke a piece (None for words, captions and marks)."""
    chars: tuple[int, int] | None = None
    """A word's (start, end) character offsets in the words of the request, where known."""
    sentence: int | None = None
    """A word's piece: its index in the timings' pieces."""
    written: str | None = None
    """A piece said otherwise than written (a lexicon alias in it): its text as written."""

    def to_json(self) -> dict[str, Any]:
        """The timing as a JSON object, times rounded to the millisecond."""
        out: dict[str, Any] = {
            "start": round(self.start, 3), "end": round(self.end, 3), "text": self.text
        }  # fmt: skip
        if self.chars is not None:
            out["start_char"], out["end_char"] = self.chars
        named = {"voice": self.voice, "sentence": self.sentence, "written": self.written}
        return out | {key: value for key, value in named.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timing:
        """The timing `to_json` gave."""
        voice, sentence, written = data.get("voice"), data.get("sentence"), data.get("written")
        return cls(
            float(data["start"]),
            float(data["end"]),
            str(data["text"]),
            None if voice is None else str(voice),
            (int(data["start_char"]), int(data["end_char"])) if "start_char" in data else None,
            None if sentence is None else int(sentence),
            None if written is None else str(written),
        )


@dataclass(frozen=True, slots=True)
class Timings:
    """When each piece (a sentence, as synthesized) of a job's audio is heard, and each word
    where the engine tells; otherwise `words` is None and `words_note` says why. `marks` are
    the named points of the text (SSML `<mark name>`): `text` is the name, `start` == `end`
    the moment the words after it begin."""

    pieces: tuple[Timing, ...]
    words: tuple[Timing, ...] | None
    duration: float
    words_note: str | None = None
    marks: tuple[Timing, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record stored beside the audio (`.timings.json`), times rounded to the ms."""
        return {
            "duration": round(self.duration, 3),
            "pieces": [piece.to_json() for piece in self.pieces],
            "words": None if self.words is None else [word.to_json() for word in self.words],
            "words_note": self.words_note,
            "marks": [{"time": round(m.start, 3), "name": m.text} for m in self.marks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timings:
        """The timings a stored `to_json` record holds; raises ValueError if it holds none."""
        try:
            words = data["words"]
            note = data.get("words_note")
            return cls(
                pieces=tuple(map(Timing.from_json, data["pieces"])),
                words=None if words is None else tuple(map(Timing.from_json, words)),
                duration=float(data["duration"]),
                words_note=None if note is None else str(note),
                marks=tuple(
                    Timing(float(m["time"]), float(m["time"]), str(m["name"]))
                    for m in data.get("marks", ())
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"not a timings record: {error!r}") from None


def cues(timings: Timings, max_chars: int | None = None, max_seconds: float = 7.0) -> list[Timing]:
    """Captions for `timings`, in order, none empty, none overlapping the next, the last
    ending when the last piece with text does.

    Each piece (its text as written, where a lexicon alias was said) is one cue, or several
    when it has more than `max_chars` characters (by default 42, or 16 for a piece mostly in
    CJK script) or lasts longer than `max_seconds`. Cues are cut after a clause mark, else at
    a space, else (CJK) between characters, never inside a word (a word longer than the limit
    is a cue of its own), and share the piece's time by the word timings
    where there are some, else by how long their characters take to say (a CJK character as
    long as 2.5 others). Raises ValueError if `max_chars` is below 1 or `max_seconds` is not
    positive.
    """
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, not {max_seconds}")
    words = sorted(timings.words or (), key=lambda word: word.start)
    word_starts = [word.start for word in words]
    captions: list[Timing] = []
    for piece in timings.pieces:
        # A piece said through a lexicon alias is shown as written, as its words are timed.
        text = " ".join((piece.written or piece.text).split())
        if not text or (piece.end <= piece.start and not any(c.isalnum() for c in text)):
            continue  # no text, or a mark said with no sound (the full stop after a lexicon's word)
        limit = max_chars or (CJK_MAX_CHARS if _mostly_cjk(text) else LATIN_MAX_CHARS)
        first = bisect.bisect_left(word_starts, piece.start - _SLACK)
        last = bisect.bisect_left(word_starts, piece.end)
        whole = Timing(piece.start, piece.end, text)
        for cue in _piece_cues(whole, words[first:last], limit, max_seconds):
            # Pieces come from the audio in order; a stored record that overlaps is evened out.
            start = max(cue.start, captions[-1].end) if captions else cue.start
            captions.append(Timing(start, max(cue.end, start), cue.text))
    return captions


def _mostly_cjk(text: str) -> bool:
    return 2 * len(_CJK.findall(text)) > len(text) - text.count(" ")


def _weight(text: str) -> float:
    """How long `text` takes to say, in Latin characters."""
    return len(text) + (_CJK_WEIGHT - 1) * len(_CJK.findall(text))


def _piece_cues(
    piece: Timing, words: Sequence[Timing], width: int, max_seconds: float
) -> Iterator[Timing]:
    """`piece` cut into cues of at most `width` characters and at most `max_seconds`, where
    that needs no cut inside a word: a word longer than that is a cue of its own."""
    text = piece.text
    duration = piece.end - piece.start
    if len(text) > width:
        spans = _spans(text, width, _inside_words(text, words))
    elif duration > max_seconds:
        count = math.ceil(duration / max_seconds)
        spans = _spans(text, math.ceil(len(text) / count), _inside_words(text, words))
    else:
        spans = [(0, len(text))]
    if len(spans) == 1:
        yield piece
        return
    times = _times(piece, spans, words)
    for (begin, end), start, stop in zip(spans, times, times[1:], strict=False):
        inside = [word for word in words if start - _SLACK <= word.start < stop]
        # Each cue is shorter than the piece, so this ends.
        yield from _piece_cues(Timing(start, stop, text[begin:end]), inside, width, max_seconds)


def _spans(text: str, limit: int, inside: frozenset[int]) -> list[tuple[int, int]]:
    """(start, end) of the cues of `text` (spaces folded, stripped) to show one at a time:
    as few as fit in `limit` characters, about as long as each other. A word longer than
    the rest of a cue makes that cue longer rather than being cut: a caption with half a
    word, and the rest in the next, cannot be read."""
    spans = []
    start = 0
    while len(text) - start > limit:
        cut = _cut(text, start, limit, inside)
        if cut is None:
            cut = _next_cut(text, start, inside)
            if cut is None:
                break
        spans.append((start, cut - 1 if text[cut - 1] == " " else cut))
        start = cut + 1 if text[cut] == " " else cut
    spans.append((start, len(text)))
    return spans


def _cut(text: str, start: int, limit: int, inside: frozenset[int]) -> int | None:
    """Where the cue of `text` that begins at `start` ends, within `limit` characters: after
    a clause mark, else at a space, else between CJK characters (never inside a timed word);
    of those, the place nearest to evening out the cues that follow. None where there is no
    such place."""
    stop = start + limit
    # One character further, so that a Latin mark at the limit sees the space after it.
    ends = (m.end() for m in _CLAUSE.finditer(text, start, stop + 1))
    clauses = [end for end in ends if limit // 4 < end - start <= limit]
    if clauses:
        return min(clauses, key=lambda cut: abs(cut - start - _even(len(text) - start, limit)))
    # No clause ends here: even out the run up to where the next one does.
    following = next((m.end() for m in _CLAUSE.finditer(text, stop)), len(text))
    target = start + _even(following - start, limit)
    spaces = [m.start() for m in _SPACE.finditer(text, start + 1, stop + 1)]
    for candidates in (spaces, list(_cjk_cuts(text, start + 1, stop + 1, inside))):
        if candidates:
            return min(candidates, key=lambda cut: abs(cut - target))
    return None


def _even(length: int, limit: int) -> int:
    """The length of each cue when `length` characters are cut into as few cues of at most
    `limit` characters as they fit in, all about as long."""
    return math.ceil(length / math.ceil(length / limit))


def _next_cut(text: str, start: int, inside: frozenset[int]) -> int | None:
    """The first place after `start` where `text` may be cut, if any."""
    found = [
        next((m.end() for m in _CLAUSE.finditer(text, start) if m.end() < len(text)), None),
        next((m.start() for m in _SPACE.finditer(text, start + 1)), None),
        next(_cjk_cuts(text, start + 1, len(text), inside), None),
    ]
    return min((cut for cut in found if cut is not None), default=None)


def _cjk_cuts(text: str, start: int, stop: int, inside: frozenset[int]) -> Iterator[int]:
    """Positions in [start, stop) where a cue may break between characters: next to a CJK
    character, and neither before a closing mark nor after an opening one."""
    for cut in range(start, min(stop, len(text))):
        before, after = text[cut - 1], text[cut]
        if (
            (_WIDE.match(before) or _WIDE.match(after))
            and after not in _NO_START
            and before not in _NO_END
            and cut not in inside
        ):
            yield cut


def _times(piece: Timing, spans: list[tuple[int, int]], words: Sequence[Timing]) -> list[float]:
    """When each cue of `piece` starts, and then the piece's end.

    A cue starts when the first word found in it does, if the words are known and that keeps
    the cues in order; the other times are shared out by the cues' weights between the
    nearest known ones.
    """
    located = _locate(piece.text, words)
    offsets = [offset for offset, _, _ in located]
    anchors = [(0, piece.start)]
    for index, (begin, end) in enumerate(spans[1:], start=1):
        found = bisect.bisect_left(offsets, begin)
        if found < len(located) and offsets[found] < end:
            time = located[found][1]
            if anchors[-1][1] < time < piece.end:
                anchors.append((index, time))
    anchors.append((len(spans), piece.end))
    # A cue's share ends halfway through the space (or nothing) between it and the next.
    marks = [0.0]
    for (_, end), (begin, _) in itertools.pairwise(spans):
        marks.append((_weight(piece.text[:end]) + _weight(piece.text[:begin])) / 2)
    marks.append(_weight(piece.text))
    times = [piece.start]
    for (first, low), (last, high) in itertools.pairwise(anchors):
        scale = (high - low) / (marks[last] - marks[first])
        times.extend(low + scale * (marks[i] - marks[first]) for i in range(first + 1, last))
        times.append(high)
    return times


def _inside_words(text: str, words: Sequence[Timing]) -> frozenset[int]:
    """Positions in `text` between two characters of one timed word (a Chinese word of
    several characters), where a cue is not cut."""
    return frozenset(
        at
        for offset, _, length in _locate(text, words)
        for at in range(offset + 1, offset + length)
    )


def _locate(text: str, words: Sequence[Timing]) -> list[tuple[int, float, int]]:
    """(offset in `text`, start time) of each word found in it, in order; words the engine
    spelled otherwise (numbers read out, say) are skipped."""
    folded = text.casefold()
    if len(folded) != len(text):
        folded = text
    located = []
    position = 0
    for word in words:
        token = " ".join(word.text.split()).casefold()
        if not token:
            continue
        at = _find_word(folded, token, position)
        if at >= 0:
            located.append((at, word.start, len(token)))
            position = at + len(token)
    return located


def _find_word(text: str, token: str, position: int) -> int:
    """Where `token` is in `text` from `position`, not inside a longer Latin word; -1 if not."""
    at = text.find(token, position)
    while at >= 0:
        head = at == 0 or not _latin_pair(text[at - 1], token[0])
        end = at + len(token)
        tail = end == len(text) or not _latin_pair(token[-1], text[end])
        if head and tail:
            return at
        at = text.find(token, at + 1)
    return -1


def _latin_pair(before: str, after: str) -> bool:
    """Whether two adjacent characters belong to one Latin word."""
    return before.isalnum() and after.isalnum() and not (_WIDE.match(before) or _WIDE.match(after))


def srt(captions: Iterable[Timing]) -> str:
    """`captions` as a SubRip file: numbered blocks of times and text, each ending in a blank
    line; captions without text are left out.

    SubRip has no escapes, but players read `<i>`-style tags and `{\\...}` overrides in it and
    take "-->" for a time line: a space after "<", "{" or "--" there keeps the text as said.
    """
    blocks: list[str] = []
    for caption in captions:
        text = _SRT_MARKUP.sub(r"\g<0> ", " ".join(caption.text.split()))
        if text:
            start, end = stamp(caption.start, ","), stamp(caption.end, ",")
            blocks.append(f"{len(blocks) + 1}\n{start} --> {end}\n{text}\n\n")
    return "".join(blocks)


def vtt(captions: Iterable[Timing]) -> str:
    """`captions` as a WebVTT file: the header, then blocks of times and text, each ending in
    a blank line; captions without text are left out. "&", "<" and ">" are written as
    character references, which also keeps "-->" out of the text."""
    blocks = ["WEBVTT\n\n"]
    for caption in captions:
        text = " ".join(caption.text.split())
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if text:
            blocks.append(f"{stamp(caption.start, '.')} --> {stamp(caption.end, '.')}\n{text}\n\n")
    return "".join(blocks)


def stamp(seconds: float, separator: str) -> str:
    """`seconds` as HH:MM:SS plus `separator` and milliseconds."""
    hours, millis = divmod(max(0, round(seconds * 1000)), 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    whole, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"
