"""Each piece's words as the engine timed them, brought to the piece as written (through
normalisation's changes) and to the audio as the file has it (its pause before, its sample
rate), then gathered for the whole text: the words of the timings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sayfile.audio.timings import Timing
from sayfile.engines.base import WordSpan
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
    """The words of a plan's pieces, in order, with their character offsets in the plan's
    words (`text`) where the piece is found there, and their piece's index; `known` is False
    once a piece's words could not be timed (its engine does not tell)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._cursor = 0
        self.words: list[Timing] = []
        self.known = True

    def add(
        self, written: str, sentence: int, begins: float, words: Sequence[PieceWord] | None
    ) -> None:
        """Piece `sentence`'s words (`written` its text), its audio beginning at `begins`."""
        if words is None:
            self.known = False
            return
        offsets = self._placed(written)
        for start, end, first, last in words:
            chars = None if offsets is None else (offsets[start], offsets[end - 1] + 1)
            self.words.append(
                Timing(begins + first, begins + last, written[start:end], None, chars, sentence)
            )

    def _placed(self, written: str) -> list[int] | None:
        """Where each character of `written` is in the text, looked for after the last piece
        found (white space may differ); None if it is not there."""
        runs = written.split()
        if not runs:
            return None
        pattern = re.compile(r"\s+".join(map(re.escape, runs)))
        found = pattern.search(self._text, self._cursor)
        if found is None:
            return None
        self._cursor = found.end()
        offsets = []
        at = found.start()
        for char in written:
            if char.isspace():
                offsets.append(at)
                continue
            while self._text[at].isspace():
                at += 1
            offsets.append(at)
            at += 1
        return offsets
