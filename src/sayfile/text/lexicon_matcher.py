"""Finding a lexicon's terms in text in one pass: an Aho–Corasick automaton of the terms,
matched regardless of case, as whole words in spaced scripts and anywhere in scripts written
without spaces (Chinese, Japanese, Thai...)."""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

# Scripts written without spaces between words: their terms match anywhere, not as words.
UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)

Found = TypeVar("Found")


def fold(text: str) -> str:
    """`text` in lower case, character for character (so positions stay the same)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # Only İ lower-cases to two characters; keep it as it is.
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # lower() writes a final sigma at the end of a word, which a term may not have.
    return lowered.replace("ς", "σ")


def continues_word(char: str) -> bool:
    """True for a character that continues a word of a spaced script."""
    is_word = char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")
    return is_word and not UNSPACED.match(char)


class TermMatcher(Generic[Found]):
    """Terms (folded with `fold`), each with what finding it yields, in an Aho–Corasick
    automaton of the terms written backwards.

    Run from the end of the text to its start, the automaton lists at each position the terms
    that start there, longest first, so the longest one at word boundaries is found without
    looking at the others; the leftmost-longest ones are then kept in one more pass. Both passes
    take time linear in the text, however many terms there are and however they overlap.
    """

    def __init__(self, entries: dict[str, Found]) -> None:
        self._entries = entries
        self._goto: list[dict[str, int]] = [{}]
        # For states that end a term: its length, and whether it needs a word boundary after it
        # (its last character is one of a spaced script's words); 0 and False elsewhere.
        self._length = [0]
        self._bounded_after = [False]
        # States ending a term that needs a word boundary before it / that does not.
        ends_word: set[int] = set()
        ends_free: set[int] = set()
        for term in entries:
            state = self._insert(term[::-1])
            self._length[state] = len(term)
            self._bounded_after[state] = continues_word(term[-1])
            (ends_word if continues_word(term[0]) else ends_free).add(state)
        self._fail = [0] * len(self._goto)
        # The first state at or after each state on its failure chain that ends a term of each
        # kind (0 for none): the terms starting at a position, longest first.
        self._word = [0] * len(self._goto)
        self._free = [0] * len(self._goto)
        self._link(ends_word, ends_free)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def _insert(self, chars: str) -> int:
        state = 0
        for char in chars:
            following = self._goto[state].get(char)
            if following is None:
                following = len(self._goto)
                self._goto[state][char] = following
                self._goto.append({})
                self._length.append(0)
                self._bounded_after.append(False)
            state = following
        return state

    def _link(self, ends_word: set[int], ends_free: set[int]) -> None:
        goto, fail, word, free = self._goto, self._fail, self._word, self._free
        # Breadth first, so that a state's failure state (shallower) is linked before it.
        queue = deque(goto[0].values())
        while queue:
            state = queue.popleft()
            word[state] = state if state in ends_word else word[fail[state]]
            free[state] = state if state in ends_free else free[fail[state]]
            for char, child in goto[state].items():
                queue.append(child)
                back = fail[state]
                while back and char not in goto[back]:
                    back = fail[back]
                fallback = goto[back].get(char, 0)
                fail[child] = fallback if fallback != child else 0

    def find(self, text: str) -> Iterator[tuple[int, int, Found]]:
        """Yield (start, end, what the term yields) for the leftmost-longest occurrences of
        terms in `text` at word boundaries, without overlaps, in order."""
        folded = fold(text)
        goto, fail, word, free = self._goto, self._fail, self._word, self._free
        starts: list[tuple[int, int]] = []
        state = 0
        for index in range(len(folded) - 1, -1, -1):
            char = folded[index]
            while state and char not in goto[state]:
                state = fail[state]
            state = goto[state].get(char, 0)
            if word[state] or free[state]:
                length = self._longest(text, index, state)
                if length:
                    starts.append((index, index + length))
        done = 0
        for start, end in reversed(starts):
            if start >= done:
                done = end
                yield start, end, self._entries[folded[start:end]]

    def _longest(self, text: str, start: int, state: int) -> int:
        """The length of the longest term starting at `start` that ends at a word boundary
        if it needs one (0 if none does); `state` lists the terms starting there."""
        length = self._first_bounded(text, start, self._free[state], self._free)
        hit = self._word[state]
        if (
            hit
            and self._length[hit] > length
            and (start == 0 or not continues_word(text[start - 1]))
        ):
            length = max(length, self._first_bounded(text, start, hit, self._word))
        return length

    def _first_bounded(self, text: str, start: int, hit: int, chain: list[int]) -> int:
        """The length of the first term along `chain` from `hit` that ends at a word boundary
        if it needs one (0 if none does)."""
        while hit:
            end = start + self._length[hit]
            if not self._bounded_after[hit] or end == len(text) or not continues_word(text[end]):
                return self._length[hit]
            hit = chain[self._fail[hit]]
        return 0
