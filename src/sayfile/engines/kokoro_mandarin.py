"""The Mandarin voices' phonemes of Chinese text with Latin words inside: Han runs through
misaki's ZHG2P, Latin runs through espeak-ng's American English (kokoro-onnx's tokenizer), with
English's aspirated p, t, k written as such and acronyms spelled letter by letter."""

from __future__ import annotations

import re
from typing import Any

LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'\- ]*[A-Za-z]|[A-Za-z]")
# An acronym as normalisation spells it out: P P T.
_SPELLED = re.compile(r"[A-Z](?: [A-Z])*")
# English p, t, k that begin a word or a stressed syllable (not after s: spin, stop, sky).
# English says them with a puff of air, but espeak-ng writes them bare, and a bare p, t, k is
# Mandarin's b, d, g to the Mandarin voices (misaki writes pinyin p as pʰ): "PPT" was said
# "bee bee dee" and heard as 避避地.
_ENGLISH_ASPIRATED = re.compile(
    r"(?<!s)[ptk](?![ʃʰ])(?=[lɹjw]?[ˈˌ])|(?<![^\s,.;:!?])[ptk](?![ʃʰs])"
)


def mandarin_phonemes(g2p: Any, tokenizer: Any, text: str) -> str:
    """Chinese text (as said) in the Mandarin voices' phonemes: Han runs through misaki's
    ZHG2P `g2p`, Latin runs through espeak-ng's American English (kokoro-onnx's `tokenizer`)
    with English's aspirated p, t, k marked."""
    parts = []
    last = 0
    for match in LATIN_RUN.finditer(text):
        if match.start() > last:
            parts.append(g2p(text[last : match.start()])[0])
        parts.append(aspirated(english_in_chinese(tokenizer, match.group())))
        last = match.end()
    if last < len(text):
        parts.append(g2p(text[last:])[0])
    return " ".join(part.strip() for part in parts if part.strip())


def english_in_chinese(tokenizer: Any, words: str) -> str:
    """espeak-ng's American English phonemes of a Latin run inside Chinese; an acronym spelled
    out (P P T, as normalisation writes it) letter by letter, so that A is "ei", not "a"."""
    if _SPELLED.fullmatch(words):
        return " ".join(tokenizer.phonemize(letter, "en-us") for letter in words.split())
    return str(tokenizer.phonemize(words, "en-us"))


def aspirated(english: str) -> str:
    """espeak-ng's English phonemes with the p, t, k English aspirates marked so (pʰ), as the
    Mandarin voices need them."""
    return _ENGLISH_ASPIRATED.sub(lambda found: found.group() + "ʰ", english)
