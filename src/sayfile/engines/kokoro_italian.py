"""The Italian voices' phonemes: espeak-ng's (through kokoro-onnx's tokenizer), with two of
its readings put right where they are not Italian (issue 22).

- The verb è, alone or after an elided word (c'è, com'è), is a stressed open /ɛ/. Inside a
  sentence espeak-ng reads it as an unstressed `e`, the conjunction's sound ("Mio nonno è
  nato" as "mio nonno e nato"; "c'è un gatto" as tʃe): a listener, or a recognizer, cannot
  tell "è" from "e". Said alone it gives ˈɛː, so its dictionary knows the vowel.
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


def italian_phonemes(text: str, phonemes: str) -> str:
    """`phonemes` (espeak-ng's Italian for `text`, words between spaces) with è said as a
    stressed ɛ and gl's ʎ long between vowels. The verb is found by pairing the text's words
    with the phoneme words in order; where espeak-ng says more or fewer words than the text
    shows, è is left as espeak-ng reads it."""
    phonemes = _SHORT_GLI.sub("ʎʎ", phonemes)
    words = [core.group() for core in map(_CORE.search, text.split()) if core]
    groups = [group for group in _GROUP.finditer(phonemes) if _CORE.search(group.group())]
    if len(words) != len(groups):
        return phonemes
    out, last = [], 0
    for word, group in zip(words, groups, strict=True):
        said = group.group()
        core = _CORE.search(said)
        if _VERB_E.fullmatch(word) and core and "ˈ" not in said:
            unstressed = _FINAL_E.search(core.group())
            if unstressed:
                end = group.start() + core.end()
                out.append(phonemes[last : end - len(unstressed.group())] + "ˈɛ")
                last = end
    return "".join(out) + phonemes[last:]
