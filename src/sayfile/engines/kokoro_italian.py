"""The Italian voices' phonemes: espeak-ng's (through kokoro-onnx's tokenizer), with three of
its readings put right where they are not Italian (issue 22).

- The verb è, alone or after an elided word (c'è, com'è), is a stressed open /ɛ/. Inside a
  sentence espeak-ng reads it as an unstressed `e`, the conjunction's sound ("Mio nonno è
  nato" as "mio nonno e nato"; "c'è un gatto" as tʃe): a listener, or a recognizer, cannot
  tell "è" from "e". Said alone it gives ˈɛː, so its dictionary knows the vowel.
- The present of avere (ho, hai, ha, hanno), whose h is silent, is stressed as a verb is, and
  ho's vowel is an open /ɔ/. espeak-ng says ha as the preposition a and ho as the conjunction
  o, unstressed, and Whisper wrote "L'appartamento a 3 camere", "l'azienda assunto".
- gl's /ʎ/ between vowels is always long in Italian (figlia [ˈfiʎʎa]), as gn's /ɲ/ is;
  espeak-ng writes gn long (sogno sˈoɲɲo) but gl short (figlia fˈiʎa), and the voices said
  "biglietto" so that it was heard as "billietto". It is written ʎʎ, as espeak-ng writes ɲɲ.

Measured in docs/benchmarks.md ("Italian, third pass"); what was tried and not kept is there.
"""

from __future__ import annotations

import re

_VOWELS = "aeiouɛɔɪʊ"
# ʎ with a vowel before it and one after (a stress mark may stand between).
_SHORT_GLI = re.compile(rf"(?<=[{_VOWELS}])ʎ(?=[ˈˌ]?[{_VOWELS}])")
_GROUP = re.compile(r"\S+")
# The verb è as a written word: alone, or at the end of an elided word (c'è, dov'è).
_VERB_E = re.compile(r"(?:\w+['’ʼ])?[èÈ]")
# A word's letters, without the marks around it (quotes, commas, a full stop).
_CORE = re.compile(r"\w(?:.*\w)?|\w")
# The vowel espeak-ng gives è (with a secondary stress mark, if any, before it).
_FINAL_E = re.compile(r"ˌ?e$")
# The present of avere, whose h is silent: stressed, as a verb is, and ho's o open. espeak-ng
# reads them unstressed (ha "a", ho "o"), so "ha tre camere" is the preposition's "a tre camere"
# and "ho fame" the conjunction's "o fame".
_AVERE = {"ho": "ˈɔ", "hai": "ˈaj", "ha": "ˈa", "hanno": "ˈanno"}


def italian_phonemes(text: str, phonemes: str) -> str:
    """`phonemes` (espeak-ng's Italian for `text`, words between spaces) with è said as a
    stressed ɛ, avere's ho, hai, ha and hanno stressed, and gl's ʎ long between vowels. The
    verbs are found by pairing the text's words with the phoneme words in order; where
    espeak-ng says more or fewer words than the text shows, they are left as it reads them."""
    phonemes = _SHORT_GLI.sub("ʎʎ", phonemes)
    words = [core.group() for core in map(_CORE.search, text.split()) if core]
    groups = [group for group in _GROUP.finditer(phonemes) if _CORE.search(group.group())]
    if len(words) != len(groups):
        return phonemes
    out, last = [], 0
    for word, group in zip(words, groups, strict=True):
        said = group.group()
        core = _CORE.search(said)
        if not core or "ˈ" in said:
            continue
        if _VERB_E.fullmatch(word):
            unstressed = _FINAL_E.search(core.group())
            if unstressed:
                end = group.start() + core.end()
                out.append(phonemes[last : end - len(unstressed.group())] + "ˈɛ")
                last = end
        elif word.lower() in _AVERE:
            out.append(phonemes[last : group.start() + core.start()] + _AVERE[word.lower()])
            last = group.start() + core.end()
    return "".join(out) + phonemes[last:]
