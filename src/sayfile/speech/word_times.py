"""Each piece's words as the engine timed them, brought to the piece as written (through
normalisation's changes) and to the audio as the file has it (its pause before, its sample
rate), then gathered for the whole text: the words of the timings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from sayfile.audio.timings import Timing
from sayfile.engines.base import WordSpan
from sayfile.text.lexicon import Alias
from sayfile.text.said_places import merged_words, written_spans

PieceWord = tuple[int, int, float, float]
"""A word of a piece: (start_char, end_char) in the piece's written text, (start, end) in
seconds from the start of the piece's audio (its pause included)."""


def piece_words(
    written: str, said: str, words: Sequence[WordSpan], rate: int, lead_s: float
) -> list[PieceWord]:
    """The engine's `words` of `said` (samples at `rate`) as words of `written`: a span
    normalisation changed is one word, timed from its first said word to its last."""
    places = written_spans(written, said, [(start, end) for start, end, _, _ in words])
    found = []
    for start, end, members in merged_words(places, written):
        begin = min(words[i][2] for i in members) / rate + lead_s
        stop = max(words[i][3] for i in members) / rate + lead_s
        found.append((start, end, begin, max(begin, stop)))
    return found


class SpokenWords:
    """The words of a plan's pieces, in order, with their character offsets in the words as
    the request wrote them (`text`) where the piece is found there, and their piece's index;
    `known` is False once a piece's words could not be timed (its engine does not tell).
    Where a lexicon said an alias in place of a term (`aliases`, in `text`), the alias's words
    are one word: the term, timed from the first of them to the last, and the piece it is in
    is given its text as written (`pieces`)."""

    def __init__(self, text: str, aliases: Sequence[Alias] = ()) -> None:
        self._written = text
        self._back: tuple[list[int], list[int]] | None = None
        self._text = text
        if aliases:
            self._text, self._back = _said_with(text, aliases)
        # The text's characters that are not white space, and where each is in it: a piece
        # is looked for among them.
        self._places = [found.start() for found in re.finditer(r"\S", self._text)]
        self._close = "".join(self._text[at] for at in self._places)
        self._cursor = 0  # of `_close`
        self.words: list[Timing] = []
        self.known = True
        self._as_written: dict[int, str] = {}

    def add(
        self, written: str, sentence: int, begins: float, words: Sequence[PieceWord] | None
    ) -> None:
        """Piece `sentence`'s words (`written` its text), its audio beginning at `begins`."""
        offsets = self._placed(written)
        if offsets is not None and self._back is not None:
            self._note_as_written(written, sentence, offsets)
        if words is None:
            self.known = False
            return
        for start, end, first, last in words:
            text = written[start:end]
            chars = None if offsets is None else (offsets[start], offsets[end - 1] + 1)
            if chars is not None and self._back is not None:
                low, high = self._back
                chars = (low[chars[0]], high[chars[1] - 1])
                text = self._written[chars[0] : chars[1]]
                before = self.words[-1] if self.words else None
                if before is not None and before.chars is not None and before.chars[1] > chars[0]:
                    # Another word of the same alias: the term's one word runs on.
                    chars = (before.chars[0], max(before.chars[1], chars[1]))
                    self.words[-1] = dataclasses.replace(
                        before,
                        end=max(before.end, begins + last),
                        text=self._written[chars[0] : chars[1]],
                        chars=chars,
                    )
                    continue
            self.words.append(Timing(begins + first, begins + last, text, None, chars, sentence))

    def pieces(self, heard: Sequence[Timing]) -> tuple[Timing, ...]:
        """`heard`, the pieces added in order, each said otherwise than written (an alias in
        it) with its text as written: what a reader of the text is shown."""
        if not self._as_written:
            return tuple(heard)
        return tuple(
            dataclasses.replace(piece, written=self._as_written[n])
            if n in self._as_written
            else piece
            for n, piece in enumerate(heard)
        )

    def _note_as_written(self, said: str, sentence: int, offsets: list[int]) -> None:
        """Piece `sentence` (`said`, found at `offsets` in the text as said) as written, kept
        where an alias made it differ."""
        assert self._back is not None
        low, high = self._back
        marks = [n for n, char in enumerate(said) if not char.isspace()]
        text = self._written[low[offsets[marks[0]]] : high[offsets[marks[-1]]]]
        if text.split() != said.split():
            self._as_written[sentence] = text

    def _placed(self, written: str) -> list[int] | None:
        """Where each character of `written` is in the text, looked for after the last piece
        found; None if it is not there. White space may differ: where only markup parted
        words (`Hel<mark/>lo`, a pronounced `<phoneme>Nguyen</phoneme>'s`, a <mark> between
        Chinese characters) the text has a space and the piece, said as one sentence, none."""
        close = "".join(written.split())
        found = self._close.find(close, self._cursor) if close else -1
        if found < 0:
            return None
        self._cursor = found + len(close)
        offsets = []
        at = self._places[found]
        for char in written:
            if char.isspace():
                offsets.append(at)
                continue
            at = self._places[found]
            offsets.append(at)
            at, found = at + 1, found + 1
        return offsets


def _said_with(text: str, aliases: Sequence[Alias]) -> tuple[str, tuple[list[int], list[int]]]:
    """`text` with each alias in place of its term, and for each of its characters the
    (start, end) of `text` it says: itself outside the aliases, the whole term inside one."""
    parts: list[str] = []
    low: list[int] = []
    high: list[int] = []
    at = 0
    for start, end, alias in aliases:
        parts += [text[at:start], alias]
        low += [*range(at, start), *[start] * len(alias)]
        high += [*range(at + 1, start + 1), *[end] * len(alias)]
        at = end
    parts.append(text[at:])
    low += range(at, len(text))
    high += range(at + 1, len(text) + 1)
    return "".join(parts), (low, high)
