"""Traditional Chinese (Taiwan's, Hong Kong's) in Simplified characters, for the Mandarin
voices' reading only: misaki's jieba and pypinyin dictionaries are made for Simplified text, and
read 銀行 yín xíng, 長頸鹿 zhǎng, 看著 zhù where 银行, 长颈鹿, 看着 are read right."""

from __future__ import annotations

import functools
from typing import Any

# OpenCC's Taiwan-to-Simplified conversion: Taiwan's variant forms first (phrase by phrase:
# the particle 著 of 看著, 睡著, 著急 becomes 着, which is read zhe, zháo; 著作 and 顯著 keep
# 著, zhù), then Traditional to Simplified with its phrases (乾淨 干净 but 乾隆, 頭髮 头发).
# Hong Kong's text reads the same through it; not tw2sp, which puts mainland words in place of
# Taiwan's (軟體 软件), so that the voice would say words not written.
_CONFIG = "tw2s"


@functools.cache
def taiwan_to_simplified() -> Any:
    """OpenCC's converter (`_CONFIG`), its tables loaded on first use and kept for the process:
    the one both the Mandarin voices' reading and Taiwan's normalisation use."""
    import opencc

    return opencc.OpenCC(_CONFIG)


def simplified_for_reading(text: str) -> str:
    """`text` with its Traditional characters Simplified, character for character (as long as
    the text, so that each word's offsets are the same in both)."""
    converter = taiwan_to_simplified()
    whole = str(converter.convert(text))
    if len(whole) == len(text):
        return whole
    # Should a phrase of OpenCC's ever change its length, the words would no longer line
    # up with the text as written: then character by character, keeping any that would not
    # stay one character.
    alone = (str(converter.convert(character)) for character in text)
    return "".join(new if len(new) == 1 else old for old, new in zip(text, alone, strict=True))
