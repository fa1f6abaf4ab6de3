"""Pronunciations for Kokoro: a pronunciation in the model's alphabet (IPA as given, less the
symbols the model does not have; pinyin through misaki's table, for the Mandarin voices), and
a sentence's phonemes with each pronunciation put in place of its words' (one word each)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from sayfile.engines.kokoro_words import PhonemeWords, joined_words


def model_ipa(phonemes: str, alphabet: str, mandarin: bool) -> str | None:
    """`phonemes` in `alphabet` ("ipa", or "x-pinyin" for a `mandarin` voice) as the model's
    phonemes; None where none are left or the alphabet is not one the voice reads."""
    if alphabet == "ipa":
        from kokoro_onnx.config import DEFAULT_VOCAB

        # Symbols outside the model's alphabet are dropped (as kokoro-onnx would); with none
        # left the words are said instead, rather than failing on nothing.
        known = "".join(symbol for symbol in phonemes if symbol in DEFAULT_VOCAB)
        return known if known.strip() else None
    if alphabet == "x-pinyin" and mandarin:
        from misaki.zh import ZHG2P

        try:
            return "".join(ZHG2P.py2ipa(syllable) for syllable in phonemes.split())
        except Exception:  # misaki knows no such syllable: the words are said instead
            return None
    return None


# Han characters (the unified ideographs, extension A, the compatibility forms).
_HAN_RUN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]+")


def han_as_mandarin(
    text: str, said: Callable[[str], PhonemeWords], mandarin: Callable[[str], PhonemeWords]
) -> PhonemeWords:
    """The phonemes of `text` as `said` makes them (a voice of a language not written in Han),
    with each run of Han characters read as Mandarin by `mandarin` (one word each), in the same
    voice: "Say 谢谢 when you leave" had been said "Say Chinese letter Chinese letter when you
    leave" (espeak-ng's reading of a character it has no word for)."""
    runs = [
        (run.start(), run.end(), mandarin(run.group()).phonemes) for run in _HAN_RUN.finditer(text)
    ]
    return pronounced_words(text, runs, said) if runs else said(text)


def pronounced_words(
    text: str,
    pronounced: Sequence[tuple[int, int, str]],
    said: Callable[[str], PhonemeWords],
) -> PhonemeWords:
    """The phonemes of `text`, with their words: the stretches between the `pronounced`
    ((start, end) of words in `text`, their IPA; in order) as `said` makes a text's, each
    pronunciation's IPA as one word spanning its words."""
    parts = []
    at = 0
    for start, end, ipa in pronounced:
        if text[at:start].strip():
            parts.append(_shifted(said(text[at:start]), at))
        owners = tuple(-1 if symbol.isspace() else 0 for symbol in ipa)
        parts.append(PhonemeWords(ipa, owners, ((start, end),)))
        at = end
    if text[at:].strip():
        parts.append(_shifted(said(text[at:]), at))
    return joined_words(parts)


def _shifted(words: PhonemeWords, offset: int) -> PhonemeWords:
    """`words` of a stretch of text that begins `offset` characters into the text."""
    places = tuple((start + offset, end + offset) for start, end in words.words)
    return PhonemeWords(words.phonemes, words.owners, places)
