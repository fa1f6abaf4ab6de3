"""What Taiwan and Hong Kong write that Mandarin's rules (and wetext's grammar, both keyed on
Simplified characters) missed: their dollars, the Republic's dates, Taiwan's mobile numbers,
counted things in Traditional characters, and their quotes and punctuation forms."""

from __future__ import annotations

import re

from sayfile.engines.traditional import taiwan_to_simplified
from sayfile.text.digits_zh import digit_by_digit

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# Dollars written before the amount (NT$12,900, HK$88, US$5): the voice said the letters and
# then 美元 (N T一万二千九百美元). As said: 新台币一万二千九百元, 港币八十八元, 五美元.
# A space is taken only after the currency's name: one before the code stays outside the
# price, which is one word of the timings.
_DOLLARS = re.compile(
    rf"(?:(?P<named>新[臺台][幣币]|港[幣币]|澳門[幣币]|美金)\s?)?"
    rf"(?<![A-Za-z])(?P<code>NT|HK|MOP|US)\s?\$\s*(?P<num>{_NUMBER})"
    r"(?P<scale>\s?[萬万億亿])?(?:\s?[元圓])?"
)
_DOLLAR_NAMES = {"NT": "新台币", "HK": "港币", "MOP": "澳门币"}
# A date of the Republic's calendar as forms, receipts and cards write it (115/12/06): year
# 115 of the Republic, said 一百一十五年十二月六日; it was read as two fractions. Years of
# three digits only: 99/12/31 could be another calendar's.
_REPUBLIC_DATE = re.compile(
    r"(?<![\d/.])(?P<year>1\d\d)/(?P<month>0?[1-9]|1[0-2])/(?P<day>0?[1-9]|[12]\d|3[01])(?![\d/])"
)
# Taiwan's mobile numbers (0912-345-678, 0912345678), in three groups as they are read, 1 as
# 一 (Taiwan does not say 幺); unbroken, one was read as an amount (零九亿一千...).
_TAIWAN_MOBILE = re.compile(r"(?<![\d.])(09\d\d)[\s-]?(\d{3})[\s-]?(\d{3})(?![\d.])")
# The word after a number (个, 张, 点, 万...): wetext's grammar and the rules of
# normalisation_zh know only its Simplified form; 2個 was said 二個, 2.50萬元 二点五零萬元.
_COUNTED = re.compile(r"(?<=\d)\s?[^\W\d_]")
# Two before Taiwan's units of measure is 两, as before 公里 and 公斤 (2公尺 was 二公尺).
_TWO_UNITS = re.compile(r"(?<![\d.,:/\-])2(?=\s?(?:公尺|公分|公克|公升|公頃|公畝|坪|台斤))")
# Quotes and marks misaki does not turn into the marks the voices pause at (they were dropped):
# 『』 as 「」 (which it makes quotes), and the small and vertical forms as the full-width ones.
_MARKS = str.maketrans("『』﹁﹂﹃﹄﹐﹑﹒﹔﹕﹖﹗︰︵︶", "「」「」「」，、。；：？！：（）")


def taiwan_and_hong_kong_forms(text: str) -> str:
    """`text` with Taiwan's and Hong Kong's ways of writing money, dates, phone numbers, counted
    things and quotes put as Mandarin's rules read them (the rest as written)."""
    text = text.translate(_MARKS)
    text = _DOLLARS.sub(_dollars, text)
    text = _REPUBLIC_DATE.sub(lambda f: f"{f['year']}年{int(f['month'])}月{int(f['day'])}日", text)
    text = _TAIWAN_MOBILE.sub(
        lambda f: "，".join(map(digit_by_digit, f.groups())),
        text,
    )
    text = _TWO_UNITS.sub("两", text)
    if not text.isascii():
        text = _COUNTED.sub(lambda f: str(taiwan_to_simplified().convert(f.group())), text)
    return text


def _dollars(found: re.Match[str]) -> str:
    scale = (found["scale"] or "").strip()
    if found["named"]:  # 新臺幣NT$500: the name once
        return f"{found['named']}{found['num']}{scale}元"
    if found["code"] == "US":
        return f"{found['num']}{scale}美元"
    return f"{_DOLLAR_NAMES[found['code']]}{found['num']}{scale}元"
