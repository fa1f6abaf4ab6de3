"""Years in Chinese text that wetext reads as amounts: a range of years before what it spans
(2024-2025学年), and a year written with two digits (24年3月, 98年出生, 我是98年的), each said
digit by digit as people say years (二四年, not 二十四年: twenty-four years)."""

from __future__ import annotations

import re

from sayfile.text.digits_zh import digit_by_digit

# A range of years before what it spans (2024-2025学年, 2024~2025年): wetext said 两千零二十四减
# (minus) before 学年 and 财年.
_RANGE = re.compile(
    r"(?<![\d.\-/:])(?P<a>(?:1[6-9]|20)\d\d)\s*[-–—~～〜至到]\s*(?P<b>(?:1[6-9]|20)\d\d)"
    r"(?=\s?(?:学年|財年|财年|年度|学期|學年|學期|赛季|賽季|年|届|屆))"
)
# Two digits and 年 are a year where a month or a part of the year follows (24年3月, 19年底),
# an event dated by it (98年出生, 24年毕业) or 的 at a clause's end (我是98年的), after 从 or 自
# (自98年以来), and at a range's ends (从19年到23年); elsewhere they count years (干了24年, 有98年
# 的历史, 24年来).
_SHORT = re.compile(
    r"(?<![\d.\-/:第几幾多每近])\d\d年"
    r"(?=\d{1,2}月|[初底末]|[上下]半年|春节|春節|国庆|國慶|出生|生人|生的|毕业|畢業|入学|入學"
    r"|入职|入職|结婚|結婚|高考|考研|的\s*(?:[，。！？、,.!?;；]|$)|\s*[到至~～-]\s*\d\d年)"
    r"|(?:(?<=[从從自])|(?<=\d\d年[到至~～-]))\d\d年(?![里裡内內间間中多了前后後])"
)


def years_said(text: str) -> str:
    """`text` with its ranges of years and its two-digit years said digit by digit."""
    text = _RANGE.sub(_range, text)
    return _SHORT.sub(lambda found: digit_by_digit(found.group()), text)


def _range(found: re.Match[str]) -> str:
    if found["a"] >= found["b"]:
        return found.group()
    return f"{digit_by_digit(found['a'])}到{digit_by_digit(found['b'])}"
