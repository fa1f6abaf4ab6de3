"""Roman numerals in English text: which are read as numbers and which as a monarch's ordinal,
and which stay as written (the pronoun I, Malcolm X, Washington DC). espeak-ng, and through it
Kokoro and Piper, say "roman four" for IV; `normalisation_en.py` says what this module finds.

A numeral is read as a number after a word that numbers things (Chapter IV, Part II, World War
II) and as a heading alone (IV.); as an ordinal after a monarch's or a pope's name (Henry VIII,
the eighth); as a number after another name, for numerals of I, V and X of two letters or more
(Rocky II, Apollo XI). Nowhere else."""

from __future__ import annotations

import re
from typing import Literal

ROMAN_NUMERAL = re.compile(r"(?<![\w'’.-])(?P<numeral>[IVXLCDM]+)(?=['’]s\b|[^\w'’-]|$)")
_ROMAN_FORM = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_NUMBERING = frozenset({
    "chapter", "part", "book", "volume", "vol", "act", "scene", "section", "article",
    "appendix", "episode", "phase", "stage", "level", "class", "type", "war", "canto", "psalm",
    "lesson", "unit", "round", "series", "season", "grade", "tier",
})  # fmt: skip
# Malcolm is not one: Malcolm X.
_REGNAL_NAMES = frozenset({
    "Henry", "Edward", "George", "William", "Charles", "James", "Richard", "Elizabeth", "Mary",
    "Louis", "Philip", "Frederick", "Peter", "Catherine", "Alexander", "Nicholas", "Ivan",
    "John", "Paul", "Pius", "Benedict", "Gregory", "Leo", "Innocent", "Clement", "Urban",
    "Boniface", "Napoleon", "Ramesses", "Ptolemy", "Constantine", "Otto", "Wilhelm",
    "Ferdinand", "Isabella", "Carlos", "Juan", "Alfonso", "Gustav", "Christian", "Olaf",
    "Harald", "Stephen", "David", "Robert", "Alexios", "Basil", "Michael", "Leopold",
    "Francis", "Joseph", "Victor", "Umberto", "Rama", "Selim", "Mehmed", "Murad",
})  # fmt: skip
_LOWER_WORD_NEXT = re.compile(r"\s+[a-z]")
_WORD_BEFORE = re.compile(r"(?P<word>[A-Za-z]+)\.?\s+\Z")

Reading = tuple[int, Literal["cardinal", "ordinal"]]


def roman_reading(text: str, found: re.Match[str]) -> Reading | None:
    """The value of the numeral `found` (by ROMAN_NUMERAL) in `text` and whether it is said as
    a number or an ordinal; None where it stays as written."""
    numeral = found["numeral"]
    if not _ROMAN_FORM.fullmatch(numeral):
        return None
    values = [_ROMAN_VALUES[letter] for letter in numeral]
    value = sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))
    before = _WORD_BEFORE.search(text, max(0, found.start() - 40), found.start())
    word = before["word"] if before else ""
    if text.strip().rstrip(".") == numeral:
        return value, "cardinal"
    # I after a common noun or before a verb is the pronoun: "the book I read", "Mary I love".
    # Series X (the Xbox's, a bond's) is the letter.
    if word.lower() in _NUMBERING and not (numeral == "I" and word.islower()):
        return None if (word.lower(), numeral) == ("series", "X") else (value, "cardinal")
    if set(numeral) <= set("IVX"):
        pronoun = numeral == "I" and _LOWER_WORD_NEXT.match(text, found.end())
        if word in _REGNAL_NAMES and not pronoun:
            return value, "ordinal"
        if len(numeral) > 1 and word[:1].isupper() and not word.isupper():
            return value, "cardinal"
    return None
