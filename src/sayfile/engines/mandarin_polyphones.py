"""Mandarin polyphones (多音字) that misaki's reading gets wrong in everyday sentences: the words
that decide them, in one table, taught to the two libraries misaki reads through (jieba cuts the
words, pypinyin reads each word by its phrase table) by one function, `mandarin_tokenizer`, which
Mandarin's normaliser and the sentence cutter (text/) and the Mandarin voices' reader use."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

# Each row is a word as it occurs in everyday text, with the reading (pinyin, tone number, 5
# for the neutral tone) of its polyphone(s) in brackets after the character; the word's other
# characters are read as pypinyin reads them (its tone sandhi of 一 and 不 included). A word
# jieba does not know is taught to jieba too, so that it is cut whole in a sentence where the
# alternative is to cut it into its own parts (jieba's suggested frequency: a longer known
# word around it still wins). A row marked FIRST is taught to jieba first, with a frequency
# far above its words', so that it is cut whole even across words jieba knows (空调调到,
# where jieba knows 空调 and 调到).
FIRST = "!"
WORDS = (
    # 长 cháng, the adjective, where jieba leaves it alone or with an adverb (zhǎng, to grow
    # and a head, stands in words pypinyin knows: 长大, 校长, 增长).
    "很长[chang2]",
    "太长[chang2]",
    "更长[chang2]",
    "最长[chang2]",
    "这么长[chang2]",
    "那么长[chang2]",
    "长[chang2]时间",
    "!多长[chang2]",
    "!有多长[chang2]",
    "!多长[chang2]时间",
    # 行 háng, a line of text and a trade.
    "一行[hang2]字",
    "两行[hang2]字",
    "这一行[hang2]",
    "第一行[hang2]",
    "第二行[hang2]",
    "第三行[hang2]",
    "最后一行[hang2]",
    # 还 huán, to give back.
    "!还[huan2]钱",
    "!还[huan2]款",
    "!还[huan2]书",
    "!还[huan2]给",
    "!归还[huan2]",
    "还[huan2]了我",
    "按时还[huan2]",
    # 得 děi, must.
    "得[dei3]好好",
    "得[dei3]好好学习",
    "得[dei3]走了",
    "得[dei3]赶快",
    "得[dei3]赶紧",
    # 得 de, after a verb: how it is done.
    "跑得[de5]",
    "说得[de5]",
    "做得[de5]",
    "写得[de5]",
    "唱得[de5]",
    # 种 zhòng, to plant.
    "种[zhong4]在",
    "要种[zhong4]",
    "里种[zhong4]",
    "种[zhong4]花",
    "种[zhong4]树",
    "种[zhong4]菜",
    # 数 shǔ, to count.
    "数[shu3]一数[shu3]",
    "数[shu3]一下",
    "数[shu3]不清",
    # 着 zháo, where the verb reaches its end.
    "找不着[zhao2]",
    "睡不着[zhao2]",
    # 着 zhù in 土着: what OpenCC's Simplified reading makes of Taiwan's 土著 (the mainland
    # writes 土著, read right); pypinyin read 土着 tǔ zhe.
    "土着[zhu4]",
    # 地 de, after an adverb.
    "高兴地[de5]",
    "慢慢地[de5]",
    "好奇地[de5]",
    "认真地[de5]",
    "轻轻地[de5]",
    "悄悄地[de5]",
    "静静地[de5]",
    "渐渐地[de5]",
    "不断地[de5]",
    "努力地[de5]",
    "大声地[de5]",
    "开心地[de5]",
    # 为 wéi, to become, to be taken as.
    "选为[wei2]",
    "分为[wei2]",
    "改为[wei2]",
    "视为[wei2]",
    # 教 jiāo, to teach (jiào stands in words pypinyin knows: 教育, 教室, 请教).
    "教[jiao1]我",
    "教[jiao1]我们",
    "教[jiao1]你",
    "教[jiao1]英语",
    "教[jiao1]数[shu4]学",
    "教[jiao1]中文",
    # 假 jià, days off.
    "一天假[jia4]",
    "两天假[jia4]",
    "三天假[jia4]",
    "几天假[jia4]",
    # 差 chā, a difference.
    "差[cha1]不大",
    # 干 gān, dry.
    "晒干[gan1]",
    "吹干[gan1]",
    "擦干[gan1]",
    "烘干[gan1]",
    # 曾 Zēng, the family name.
    "曾[zeng1]老师",
    "曾[zeng1]先生",
    "曾[zeng1]女士",
    # 一 yī in an order (first, January): no tone change there.
    "第一[yi1]名",
    "第一[yi1]个",
    "一[yi1]月",
    # 量 liáng, to measure.
    "量[liang2]一下",
    "量[liang2]体温",
    # 调 tiáo, to turn something (a volume, an air conditioner) up or down; 调到 is diào dào
    # (transferred to) unless what is turned is named: 音量调到五十.
    "!音量调[tiao2]到",
    "!温度调[tiao2]到",
    "!亮度调[tiao2]到",
    "!声音调[tiao2]到",
    "!空调[tiao2]调[tiao2]到",
    "!调[tiao2]到最大",
    "!调[tiao2]到最小",
    "!调[tiao2]到最高",
    "!调[tiao2]到最低",
    "!调[tiao2]大",
    "!调[tiao2]小",
    "!调[tiao2]高",
    "!调[tiao2]低",
    "!调[tiao2]成",
    "!调[tiao2]好",
    "!空调[tiao2]",
)

_MARKED = re.compile(r"\[([a-z]+[1-5])\]")


def readings(row: str) -> tuple[str, dict[int, str]]:
    """A row of WORDS (or any text marked so) as its word and the reading of each marked
    character, by its place; the FIRST mark is not part of the word."""
    word = ""
    marked = {}
    for at, part in enumerate(_MARKED.split(row.removeprefix(FIRST))):
        if at % 2:
            marked[len(word) - 1] = part
        else:
            word += part
    return word, marked


@functools.cache
def mandarin_tokenizer() -> Any:
    """jieba's shared tokenizer (the one misaki uses) with the WORDS taught to it, and their
    readings put in pypinyin's phrase table (the one misaki reads by); done once per process,
    on first use."""
    import jieba
    from pypinyin import Style, lazy_pinyin, load_phrases_dict
    from pypinyin.contrib.tone_convert import to_tone

    # jieba announces its dictionary on standard error unless told not to.
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    phrases = {}
    # The rows marked FIRST before the others, whose suggested frequencies count them.
    for row in sorted(WORDS, key=lambda row: not row.startswith(FIRST)):
        word, marked = readings(row)
        syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        syllables = [marked.get(at, syllable) for at, syllable in enumerate(syllables)]
        phrases[word] = [[to_tone(syllable)] for syllable in syllables]
        if row.startswith(FIRST):
            jieba.dt.add_word(word, freq=100_000)
        elif not jieba.dt.FREQ.get(word):
            jieba.dt.add_word(word)
    load_phrases_dict(phrases)
    return jieba.dt


def mandarin_reader() -> Any:
    """misaki's ZHG2P without a version (the reading the Mandarin voices were trained on),
    reading the WORDS as taught."""
    from misaki.zh import ZHG2P

    mandarin_tokenizer()
    return ZHG2P(version=None)
