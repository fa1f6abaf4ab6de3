"""Which word of a sentence each of Kokoro's phonemes comes from: English and the other
espeak-ng languages by the spaces espeak-ng keeps between words, Mandarin by the jieba words
misaki's reading cuts the Han text into (each word's syllables made here as misaki makes them,
so the phonemes are the same), Latin words inside Chinese by their spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sayfile.engines.base import WordSpan

# Kokoro's punctuation phonemes: pauses, not part of a word.
_MARKS = frozenset(';:,.!?¡¿—…"«»“”()')
# Those the model pauses at.
_PAUSES = frozenset(";:,.!?—…")
_WORD = re.compile(r"\S+")
_LETTERS = re.compile(r"\w(?:.*\w)?")
_HAN = re.compile("[\u4e00-\u9fff]+")
_HAN_OR_NOT = re.compile("[\u4e00-\u9fff]+|[^\u4e00-\u9fff]+")
_COMBINING_BELOW = chr(815)  # misaki drops it from its readings
# Chinese marks as misaki writes them before reading (its `map_punctuation`).
_PUNCTUATION = {
    "、": ", ", "，": ", ", "。": ". ", "．": ". ", "！": "! ", "：": ": ", "；": "; ",
    "？": "? ", "«": " “", "»": "” ", "《": " “", "》": "” ", "「": " “", "」": "” ",
    "【": " “", "】": "” ", "（": " (", "）": ") ",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PhonemeWords:
    """`phonemes` and, for each of its characters, the index of the word in `words` it says
    (-1: a space or a pause); `words` are (start, end) character offsets in the text."""

    phonemes: str
    owners: tuple[int, ...]
    words: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, said: PhonemeWords | str) -> PhonemeWords:
        """`said`, or phonemes that say no word of a text (a pronunciation) as such."""
        if isinstance(said, str):
            return cls(said, (-1,) * len(said), ())
        return said

    def spaced(self) -> PhonemeWords:
        """The same with white space as single spaces and none at the ends (as the model is
        given its phonemes)."""
        kept: list[tuple[str, int]] = []
        for symbol, owner in zip(self.phonemes, self.owners, strict=True):
            if symbol.isspace():
                if kept and kept[-1][0] != " ":
                    kept.append((" ", -1))
            else:
                kept.append((symbol, owner))
        while kept and kept[-1][0] == " ":
            kept.pop()
        return PhonemeWords("".join(s for s, _ in kept), tuple(o for _, o in kept), self.words)


def joined_words(parts: list[PhonemeWords]) -> PhonemeWords:
    """`parts` (words of one text) one after the other, a space between them."""
    symbols: list[str] = []
    owners: list[int] = []
    words: list[tuple[int, int]] = []
    for part in parts:
        if not part.phonemes.strip():
            continue
        if symbols:
            symbols.append(" ")
            owners.append(-1)
        symbols.append(part.phonemes)
        owners.extend(o + len(words) if o >= 0 else -1 for o in part.owners)
        words.extend(part.words)
    return PhonemeWords("".join(symbols), tuple(owners), tuple(words))


def text_words(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each word of `text` (white-space separated, with a letter or digit,
    without the marks at its ends), shifted by `offset`."""
    found = []
    for group in _WORD.finditer(text):
        letters = _LETTERS.search(group.group())
        if letters is not None:
            begin = group.start() + letters.start()
            found.append((offset + begin, offset + group.start() + letters.end()))
    return found


def spaced_words(text: str, phonemes: str, offset: int = 0) -> PhonemeWords:
    """`phonemes` (espeak-ng's, words between spaces) of `text`, each phoneme word given to
    the text's word in the same place; when espeak-ng says more or fewer words than the text
    shows (a number it reads out), they are shared out in order."""
    words = tuple(text_words(text, offset))
    # A digit is read as a word or two: weigh it as four letters.
    weights = [
        end - start + 3 * sum(c.isdigit() for c in text[start - offset : end - offset])
        for start, end in words
    ]
    return spaced_words_of(phonemes, words, weights)


def _shared(words: Sequence[int], groups: Sequence[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """Words shared out to phoneme groups, in order, from their lengths (`words`: letters
    of each text word, `groups`: phonemes of each group): the (first, last) text words of
    each timed word, and the timed word each group goes to. As many groups as words: one
    each; otherwise the pairing whose lengths agree best, where one group may say up to
    three words (espeak-ng runs "of the" together) or one word up to three groups."""
    if len(words) == len(groups):
        return [(w, w) for w in range(len(words))], list(range(len(groups)))
    ratio = sum(groups) / max(1, sum(words))
    inf = float("inf")
    # best[i][j]: the cost of pairing the first i words with the first j groups.
    best = [[inf] * (len(groups) + 1) for _ in range(len(words) + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    best[0][0] = 0.0
    for i in range(len(words) + 1):
        for j in range(len(groups) + 1):
            if best[i][j] == inf:
                continue
            for di, dj in ((1, 1), (2, 1), (3, 1), (1, 2), (1, 3)):
                if i + di > len(words) or j + dj > len(groups):
                    continue
                said = sum(groups[j : j + dj])
                written = ratio * sum(words[i : i + di])
                cost = best[i][j] + (said - written) ** 2 / (written + 1) + (di + dj - 2)
                if cost < best[i + di][j + dj]:
                    best[i + di][j + dj] = cost
                    step[(i + di, j + dj)] = (di, dj)
    if best[len(words)][len(groups)] == inf:
        return [(0, len(words) - 1)], [0] * len(groups)
    pairs = []
    i, j = len(words), len(groups)
    while i or j:
        di, dj = step[(i, j)]
        pairs.append((i - di, i - 1, j - dj, j))
        i, j = i - di, j - dj
    merged: list[tuple[int, int]] = []
    owner_of = [0] * len(groups)
    for first, last, begin, end in reversed(pairs):
        owner_of[begin:end] = [len(merged)] * (end - begin)
        merged.append((first, last))
    return merged, owner_of


def mandarin_words(
    g2p: object,
    english: Callable[[str], str],
    latin_run: re.Pattern[str],
    text: str,
) -> PhonemeWords:
    """Chinese text (as said) in the Mandarin voices' phonemes with their words: Han runs as
    misaki's ZHG2P `g2p` reads them, cut into jieba's words; Latin runs through `english`
    (espeak-ng's, aspirated), word by word."""
    parts = []
    last = 0
    for match in latin_run.finditer(text):
        if match.start() > last:
            parts.append(_han_words(g2p, text[last : match.start()], last))
        parts.append(spaced_words(match.group(), english(match.group()), match.start()))
        last = match.end()
    if last < len(text):
        parts.append(_han_words(g2p, text[last:], last))
    return joined_words([_stripped(part) for part in parts])


def _stripped(part: PhonemeWords) -> PhonemeWords:
    head = len(part.phonemes) - len(part.phonemes.lstrip())
    tail = len(part.phonemes.rstrip())
    return PhonemeWords(part.phonemes[head:tail], part.owners[head:tail], part.words)


def _han_words(g2p: object, run: str, offset: int) -> PhonemeWords:
    """A run of Chinese text without Latin letters, as misaki's ZHG2P (no version) reads it:
    each jieba word's syllables together, words and marks between spaces. Where this reading
    differs from `g2p`'s own (a digit it reads out), `g2p`'s phonemes are kept and shared out
    among the words in order."""
    import jieba
    from misaki.zh import ZHG2P
    from pypinyin import Style, lazy_pinyin

    said = str(g2p(run)[0])  # type: ignore[operator]
    symbols: list[str] = []
    owners: list[int] = []
    words: list[tuple[int, int]] = []
    exact = True
    for segment in _HAN_OR_NOT.finditer(run):
        if not _HAN.fullmatch(segment.group()):
            other = "".join(_PUNCTUATION.get(c, c) for c in segment.group())
            symbols.append(other)
            owners.extend([-1] * len(other))
            continue
        at = segment.start()
        for number, word in enumerate(jieba.lcut(segment.group(), cut_all=False)):
            syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
            exact = exact and len(syllables) == len(word)
            ipa = "".join(ZHG2P.py2ipa(s) for s in syllables).replace(_COMBINING_BELOW, "")
            if number:
                symbols.append(" ")
                owners.append(-1)
            symbols.append(ipa)
            owners.extend([len(words)] * len(ipa))
            words.append((offset + at, offset + at + len(word)))
            at += len(word)
    built = "".join(symbols)
    if exact and built.split() == said.split():
        return PhonemeWords(built, tuple(owners), tuple(words))
    if not words:
        return PhonemeWords(said, (-1,) * len(said), ())
    return spaced_words_of(said, tuple(words))


def spaced_words_of(
    phonemes: str, words: tuple[tuple[int, int], ...], weights: Sequence[int] | None = None
) -> PhonemeWords:
    """`phonemes` shared out among known `words` in order, group by group, by how long each
    word is (`weights`, by default its characters)."""
    groups = [
        match
        for match in _WORD.finditer(phonemes)
        if any(symbol not in _MARKS for symbol in match.group())
    ]
    owners = [-1] * len(phonemes)
    if not groups:
        return PhonemeWords(phonemes, tuple(owners), ())
    merged, owner_of = _shared(
        weights or [stop - begin for begin, stop in words],
        [sum(symbol not in _MARKS for symbol in group.group()) for group in groups],
    )
    for group, match in enumerate(groups):
        for at in range(match.start(), match.end()):
            if phonemes[at] not in _MARKS:
                owners[at] = owner_of[group]
    spans = tuple((words[first][0], words[last][1]) for first, last in merged)
    return PhonemeWords(phonemes, tuple(owners), spans)


def word_samples(
    said: PhonemeWords, spans: Sequence[tuple[int, int]], scale: float = 1.0
) -> list[WordSpan]:
    """Each word of `said` as (start_char, end_char, start_sample, end_sample): from the
    first sample of its first phoneme heard, or of the space before it (in running speech the
    model goes into the word there: a stop's closure, a hiss begins in it), to the last of its
    last, given where each phoneme is heard (`spans`, one per character of `said.phonemes`),
    times `scale` (the audio stretched after). After a pause mark a word begins with its first
    phoneme: the space there is still silence, in Kokoro's audio and in Piper's, the sound
    rising with the phoneme (docs/benchmarks.md, "Word onsets"). A word whose phonemes are all
    silent is empty, where they are."""
    heard: dict[int, list[tuple[int, int]]] = {}
    previous: tuple[str, int] | None = None
    paused = False  # a pause mark since the last phoneme of a word
    for symbol, owner, (start, end) in zip(said.phonemes, said.owners, spans, strict=True):
        if owner >= 0:
            space = previous[1] if previous is not None and previous[0] == " " else None
            if owner not in heard and space is not None and not paused:
                heard[owner] = [(space, space)]
            heard.setdefault(owner, []).append((int(start), int(end)))
            paused = False
        elif symbol in _PAUSES:
            paused = True
        previous = (symbol, int(start))
    found = []
    for index, (begin, stop) in enumerate(said.words):
        if index not in heard:
            continue
        sounding = [span for span in heard[index] if span[1] > span[0]] or heard[index][:1]
        start = round(min(heard[index][0][0], sounding[0][0]) * scale)
        end = round(max(end for _, end in heard[index]) * scale)
        found.append((begin, stop, start, max(start, end)))
    return found
