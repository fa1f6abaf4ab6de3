"""What an IPA or pinyin pronunciation may hold, checked when a request is read (SSML
<phoneme>, lexicon entries), so that no engine is handed digits, snowmen or made-up syllables.
"""

from __future__ import annotations

import re
import unicodedata

# Besides letters, modifier letters and combining marks, IPA writes stress, length, tie,
# boundary and tone marks (Kokoro's Mandarin writes tones as arrows), and Kokoro reads the
# punctuation of its own alphabet as pauses.
_IPA_MARKS = frozenset(" .'-|‖‿ˈˌːˑ͜͡↓→↗↘;:,!?—…\"()“”")
# A pinyin syllable with its tone number: an initial, then a final, then a tone 1-5 (5, or
# none, is the neutral tone). `v` and `u:` stand for `ü` as keyboards write it.
_PINYIN = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|üan|u:an|ai|ei|ao|ou|an|en"
    r"|er|ia|ie|iu|in|ua|uo|ui|un|üe|ve|u:e|ün|vn|u:n|ue|a|o|e|i|u|ü|v|u:)[1-5]?",
    re.IGNORECASE,
)


def pronunciation_problem(alphabet: str, value: str) -> str | None:
    """Why `value` is no pronunciation in `alphabet` ("ipa" or "x-pinyin"), or None when it
    is one: IPA is letters, combining marks, tone letters and IPA's own marks, with the
    punctuation Kokoro reads (no digits or other symbols);
    pinyin is syllables with tone numbers 1-5, separated by spaces."""
    if alphabet == "ipa":
        for char in value:
            category = unicodedata.category(char)
            if char not in _IPA_MARKS and category[0] not in "LM" and category != "Sk":
                return (
                    f"IPA {value[:40]!r} holds {char!r} (U+{ord(char):04X}), which is no IPA "
                    "symbol; allowed: IPA letters, diacritics, tone letters, the marks "
                    "ˈ ˌ ː . | and Kokoro's tone arrows and punctuation."
                )
        return None
    for syllable in value.split():
        if not _PINYIN.fullmatch(syllable):
            return (
                f"pinyin {syllable[:40]!r} is no pinyin syllable; allowed: syllables with a "
                "tone number 1-5, such as 'zhang3 san1'."
            )
    return None
