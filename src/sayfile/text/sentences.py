"""Text clean-up and sentence splitting (Latin and CJK punctuation) ahead of synthesis.

Both run in time linear in the length of the text, whatever the text: it comes from users. A run
of Chinese with nothing to cut at is cut between two words (jieba's, taught the Mandarin
polyphones' words of engines/mandarin_polyphones.py), never inside one.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Generator, Iterator

from sayfile.text.abbreviations import (
    BEFORE_NUMBER,
    BEFORE_YEAR,
    MONTHS_BEFORE_DAY,
    never_ending,
)

# Control characters, surrogates, private use and line/paragraph separators turn into spaces.
_BLANK_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Zl", "Zp"})
# Invisible format characters are dropped, except the zero-width joiners that shape scripts such
# as Devanagari and emoji sequences.
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
# The two noncharacters XML forbids (the others, U+FDD0..., are allowed there): blanked, so
# that text made into SSML, as a long text made as a book is, stays well-formed.
_NOT_XML = frozenset({0xFFFE, 0xFFFF})

# A Latin sentence ends in . ! ? ; or … (plus closing quotes or brackets) before a space or the
# end; a CJK one ends in 。！？；… (plus closing quotes or brackets), spaces or not, and so do
# the marks that only ever end a sentence in other scripts (Devanagari's danda । and ॥, the
# Arabic question mark ؟ and Urdu's full stop ۔): the ends that
# `[.!?;…]+[closers]*(?=\s|$)|[。！？；…।॥؟۔]+[closers]*` finds. As one regular expression that
# pattern retries the rest of a run of marks from every mark in it, which takes quadratic time on
# a long run with no space after it. Here runs are possessive and Latin ends are tried only where
# a run starts (the look-behind); a run with no space after it but an ellipsis in it, which ends
# a sentence the CJK way, is left to `_latin_run`.
#
# The full-width full stop ． (U+FF0E) ends Chinese sentences as 。 does in much text from the
# web (a novel of 2,000 characters had been one piece of 236), except between digits (３．１４);
# Japanese's half-width ｡ ends them too.
CJK_ENDS = "。！？；…｡．"
"""The marks that end a sentence in Chinese or Japanese, spaces after them or not (．: not
between digits)."""
_CJK_END = r"(?:[。！？；…।॥؟۔｡]|(?<![0-9０-９])．|．(?![0-9０-９]))"
_END = re.compile(
    r"(?<![.!?;…])(?:(?P<latin>[.!?;…]++[\"'”’)\]]*+(?=\s|\Z))|(?P<ellipsis>[.!?;]*+…))"
    rf"|(?P<cjk>{_CJK_END}++[”’」』）]*+)"
)
_LATIN_RUN = re.compile(r"([.!?;…]++)[\"'”’)\]]*+")
_ELLIPSES = re.compile(r"…++")
_CJK_TAIL = re.compile(rf"{_CJK_END}*+[”’」』）]*+")
_NON_SPACE = re.compile(r"\S")
# A dot after a title, a capitals' abbreviation (Dr. Patel, St. Louis, the U.S. army) or one
# that introduces what follows (e.g., i.e., vs.) does not end a sentence: cut there, the
# title would be read without the name it belongs to. Nor does the dot of an abbreviation
# before a number (p. 23, No. 5, Fig. 3, ca. 1900, Sept. 11, Est. 1887) when a number
# follows. The word before a dot is looked up in these sets: a regular expression of their
# alternatives, tried at each dot, had cost a third of the cutting of a text of dots.
_NEVER_ENDING = frozenset(never_ending())
_BEFORE_NUMBER = frozenset(
    word.lower() for word in [*BEFORE_NUMBER, *BEFORE_YEAR, *MONTHS_BEFORE_DAY]
)
_DOTTED_CAPITALS = re.compile(r"(?:[A-Z]\.)+[A-Z]")
_LAST_WORD = re.compile(r"[\w.]+\Z")
_TITLE_REACH = 12
_NUMBER_NEXT = re.compile(r"\s*\d")
# Where a run without sentence punctuation may be cut, best first.
_SOFT_BREAKS = (re.compile(r"[,，、:：]\s*"), re.compile(r"\s+"))
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# A letter or digit of a script that writes a space between its words (not Chinese, Japanese
# or Thai): two of them side by side are one word.
_SPACED_LETTER = re.compile(
    r"[^\W_\u0e00-\u0eff\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff]"
)
# Characters before a hard cut among which a word boundary is looked for: longer than any
# word in jieba's dictionary, and a constant, so that cutting stays linear.
_WORD_WINDOW = 24


def normalize(text: str) -> str:
    """Return `text` in NFC with control characters turned into spaces, invisible format
    characters removed, and every run of white space folded to one space."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    # Printable text (the usual case) has no character of the categories changed below.
    if text.isprintable():
        return text
    hidden, blank = _cleaners()
    return " ".join(blank.sub(" ", hidden.sub("", text)).split())


@functools.cache
def _cleaners() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns matching runs of the format characters to drop and of the characters to blank.

    Built on first use from this Python's Unicode database (a pass over every code point, a few
    tenths of a second), so they match what `unicodedata.category` says, character for character.
    """
    hidden: list[int] = []
    blank: list[int] = []
    categories = map(unicodedata.category, map(chr, range(sys.maxunicode + 1)))
    for code, category in enumerate(categories):
        if category in _BLANK_CATEGORIES or code in _NOT_XML:
            blank.append(code)
        elif category == "Cf" and chr(code) not in _KEEP_FORMAT:
            hidden.append(code)
    return re.compile(f"[{_class_ranges(hidden)}]+"), re.compile(f"[{_class_ranges(blank)}]+")


def _class_ranges(codes: list[int]) -> str:
    """The inside of a regular-expression character class matching exactly `codes` (sorted)."""
    parts = []
    first = last = codes[0]
    for code in [*codes[1:], -1]:
        if code == last + 1:
            last = code
            continue
        parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
        first = last = code
    return "".join(parts)


def sentences(text: str, max_chars: int = 400) -> Iterator[str]:
    """Yield the sentences of normalised `text` in order, none longer than `max_chars`.

    Every non-space character of `text` appears in exactly one piece, so nothing is dropped.
    Raises ValueError if `max_chars` is below 1.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    start = 0
    for end in _sentence_ends(text):
        yield from _bounded(text[start:end].strip(), max_chars)
        start = end
    yield from _bounded(text[start:].strip(), max_chars)


def _sentence_ends(text: str) -> Iterator[int]:
    """Yield the index just past each sentence end in `text`, in order."""
    pos = 0
    while found := _END.search(text, pos):
        if found.lastgroup == "ellipsis":
            pos = yield from _latin_run(text, found.start())
            continue
        pos = found.end()
        if found.lastgroup == "latin" and _after_title(text, found.start(), pos):
            continue
        yield pos
        if found.lastgroup == "cjk":
            # A CJK end may stop at an ellipsis right before a Latin mark, inside a run.
            pos = yield from _latin_run(text, pos)


def _after_title(text: str, start: int, end: int) -> bool:
    """Whether the sentence end `text[start:end]` is only the dot of a title, with words
    after it, or of an abbreviation with a number after it."""
    if end - start != 1 or end == len(text):
        return False
    found = _LAST_WORD.search(text, max(0, start - _TITLE_REACH), start)
    if found is None:
        return False
    word = found.group()
    if word in _NEVER_ENDING or _DOTTED_CAPITALS.fullmatch(word):
        return True
    return word.lower() in _BEFORE_NUMBER and (_NUMBER_NEXT.match(text, end) is not None)


def _latin_run(text: str, at: int) -> Generator[int, None, int]:
    """Yield the sentence ends in the run of Latin marks starting at `at` (if one does), and
    return where to look on."""
    while latin := _LATIN_RUN.match(text, at):
        end = latin.end()
        if end == len(text) or text[end].isspace():
            yield end
            return end
        # No mark of this run ends a Latin sentence, but each group of ellipses in it ends one
        # the CJK way; the last group, if it ends the run, takes in the CJK marks that follow.
        run_end = latin.end(1)
        for ellipses in _ELLIPSES.finditer(text, at, run_end):
            if ellipses.end() < run_end:
                yield ellipses.end()
        if text[run_end - 1] != "…":
            return end
        tail = _CJK_TAIL.match(text, run_end)
        at = tail.end() if tail else run_end
        yield at
    return at


def _bounded(piece: str, max_chars: int) -> Iterator[str]:
    """Yield stripped `piece` in parts no longer than `max_chars`, cut where `_cut_point` says."""
    start = 0
    while len(piece) - start > max_chars:
        cut = _cut_point(piece, start, max_chars)
        yield piece[start:cut].rstrip()
        after = _NON_SPACE.search(piece, cut)
        start = after.start() if after else len(piece)
    if start < len(piece):
        yield piece[start:]


def _cut_point(piece: str, start: int, max_chars: int) -> int:
    """Where to end the part of `piece` that begins at `start`: after the last comma (or else
    white space) among its first `max_chars` characters, unless that comes too early and the
    cut at `max_chars` falls between two words anyway (a Chinese run: between jieba's)."""
    ends: list[int] = []
    for pattern in _SOFT_BREAKS:
        ends = [m.end() - start for m in pattern.finditer(piece, start, start + max_chars + 1)]
        if ends and ends[-1] > max_chars // 4:
            return start + min(ends[-1], max_chars)
    cut = start + max_chars
    if _HAN.match(piece, cut - 1) and _HAN.match(piece, cut):
        return _word_boundary(piece, max(start + 1, cut - _WORD_WINDOW), cut)
    if ends and inside_word(piece, cut):
        # A short part rather than a word cut in two, whose halves are said as two other
        # words; only a word longer than `max_chars` is cut.
        return start + ends[-1]
    return cut


def inside_word(text: str, at: int) -> bool:
    """Whether `at` falls between two letters (or digits) of one word of a script that puts
    spaces between its words."""
    if not 0 < at < len(text):
        return False
    return bool(_SPACED_LETTER.match(text, at - 1) and _SPACED_LETTER.match(text, at))


def _word_boundary(piece: str, low: int, cut: int) -> int:
    """The last place between two of jieba's words in `piece[low:cut + 1]` at or before `cut`
    (and after `low`), or `cut` when the window is one word."""
    from sayfile.engines.mandarin_polyphones import mandarin_tokenizer

    window = piece[low : cut + _WORD_WINDOW // 2]
    best = cut
    for _, _, end in mandarin_tokenizer().tokenize(window):
        boundary = low + end
        if boundary > cut:
            break
        best = boundary if boundary > low else best
    return best
