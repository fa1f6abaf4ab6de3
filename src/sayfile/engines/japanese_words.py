"""Which word of a Japanese sentence each of Kokoro's phonemes comes from: Open JTalk's words
(particles and auxiliaries words of their own, marks no word), placed in the text by their
written forms, and their phonemes made kana by kana as misaki's romaniser makes them.

A number Open JTalk reads out (1,500 as 千五百, 3〜5日 as 三から五日) is one word spanning
what it replaced; digits said one by one (03-1234) or as a decimal (10.5) are one word per
run of digits.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sayfile.engines.kokoro_words import PhonemeWords, spaced_words_of

# Digits, and the decimal point Open JTalk reads as a word of its own (10.5: 十 点 五).
_DIGITS = re.compile(r"[0-9.０-９．]+")
# The romaniser's reading of one kana, given the kana before and after it in its word.
KanaReading = Callable[[str | None, str, str | None], str]


@dataclass(frozen=True, slots=True)
class ReadWord:
    """One of Open JTalk's words: `written` as Open JTalk gives it back (full-width, numbers
    in kanji), `surface` and `kana` (hiragana) as the romaniser is given them, and whether it
    is a mark (punctuation: a pause, never a word)."""

    written: str
    surface: str
    kana: str
    mark: bool


def japanese_words(
    text: str,
    read: Sequence[ReadWord],
    said: str,
    kana_reading: KanaReading,
    joined_words: frozenset[str],
    units: Sequence[tuple[int, int]] = (),
) -> PhonemeWords:
    """`said` (the romaniser's phonemes of `text`, whose words Open JTalk read as `read`)
    with each phoneme given to its word of `text`. The romaniser reads runs of words it knows
    together (`joined_words`: misaki's list), each kana with `kana_reading`; where the
    phonemes made here differ from `said`, `said`'s are shared out among the words in order.
    The words inside one of `units` (stretches of `text`, such as a date) are one word."""
    spans = _placed(text, read)
    pieces = _phonemes_of_words(read, kana_reading, joined_words)
    words: list[tuple[int, int]] = []
    word_of: list[int] = []
    digits = False  # whether the last word is digits (and decimal points) said in parts
    # Words with no sound of their own (き before Open JTalk's next word ゃん: the romaniser
    # says them with the kana after) go with the next word, or the last one.
    pending: tuple[int, int] | None = None
    for word, piece, (start, end) in zip(read, pieces, spans, strict=True):
        if not any(symbol.isalpha() for symbol in piece):
            if not word.mark:
                pending = (start, end) if pending is None else (pending[0], end)
            word_of.append(-1)
            continue
        run = _DIGITS.fullmatch(text[start:end]) is not None
        if words and (
            start < words[-1][1]  # the same stretch of text, rewritten (a number)
            or start == end  # not found in the text
            or words[-1][0] == words[-1][1]
            or (digits and run and start == words[-1][1])  # the next digits of a number
            or any(a < words[-1][1] and start < b for a, b in units)  # inside one date
        ):
            words[-1] = (words[-1][0], max(words[-1][1], end))
            digits = digits and run
        else:
            words.append((start, end))
            digits = run
        if pending is not None:
            words[-1] = (min(words[-1][0], pending[0]), max(words[-1][1], end))
            pending = None
        word_of.append(len(words) - 1)
    if pending is not None and words:
        words[-1] = (words[-1][0], max(words[-1][1], pending[1]))
    owners = _owners(said, pieces, word_of)
    if owners is None or len({o for o in owners if o >= 0}) < len(words):
        return spaced_words_of(said, tuple(words))
    return PhonemeWords(said, tuple(owners), tuple(words))


def _placed(text: str, read: Sequence[ReadWord]) -> list[tuple[int, int]]:
    """(start, end) in `text` of each word: its written characters matched to the text's
    (both compatibility-normalised); characters Open JTalk wrote otherwise (a number in
    kanji, a date) take the whole stretch of text between the matched ones around them."""
    ours = [_compared(c) for c in text]
    theirs = [c for word in read for c in _compared(word.written)]
    at: list[tuple[int, int]] = [(0, 0)] * len(theirs)
    matcher = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
    for tag, begin, stop, start, end in matcher.get_opcodes():
        for k in range(begin, stop):
            at[k] = (start + k - begin, start + k - begin + 1) if tag == "equal" else (start, end)
    spans = []
    position = 0
    for word in read:
        length = len(_compared(word.written))
        own = at[position : position + length]
        position += length
        if own:
            spans.append((min(s for s, _ in own), max(e for _, e in own)))
        else:
            spans.append(spans[-1] if spans else (0, 0))
    return spans


def _compared(written: str) -> str:
    """`written` as the text and Open JTalk's words are compared: compatibility-normalised,
    and Open JTalk's minus sign (its hyphen) a hyphen."""
    return unicodedata.normalize("NFKC", written).replace("\u2212", "-")


def _phonemes_of_words(
    read: Sequence[ReadWord], kana_reading: KanaReading, joined_words: frozenset[str]
) -> list[str]:
    """Each word's phonemes as the romaniser makes them: runs it knows as one word read
    together (so a kana's neighbours across words count), a Latin surface as it is."""
    pieces = [""] * len(read)
    i = 0
    while i < len(read):
        j = next(
            (
                j
                for j in range(len(read), i, -1)
                if "".join(w.surface for w in read[i:j]) in joined_words
            ),
            i + 1,
        )
        group = read[i:j]
        if "".join(w.surface for w in group).isascii():
            for k, word in enumerate(group, i):
                pieces[k] = word.surface
        else:
            kana = "".join(w.kana for w in group)
            owner = [k for k, word in enumerate(group, i) for _ in word.kana]
            for n, char in enumerate(kana):
                before = kana[n - 1] if n else None
                after = kana[n + 1] if n + 1 < len(kana) else None
                pieces[owner[n]] += kana_reading(before, char, after)
        i = j
    marks = str.maketrans({"っ": "", "(": "«", ")": "»"})
    return [piece.translate(marks) for piece in pieces]


def _owners(said: str, pieces: Sequence[str], word_of: Sequence[int]) -> list[int] | None:
    """The word each character of `said` says (-1: a space or a mark), walking its symbols
    beside the words' `pieces`; None when the two do not say the same symbols."""
    made = [(symbol, word_of[k]) for k, piece in enumerate(pieces) for symbol in piece]
    made = [(symbol, owner) for symbol, owner in made if not symbol.isspace()]
    owners: list[int] = []
    next_symbol = 0
    for symbol in said:
        if symbol.isspace():
            owners.append(-1)
            continue
        if next_symbol >= len(made) or made[next_symbol][0] != symbol:
            return None
        owner = made[next_symbol][1]
        owners.append(owner if symbol.isalpha() else -1)
        next_symbol += 1
    return owners if next_symbol == len(made) else None
