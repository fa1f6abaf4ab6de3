"""Measures after a number in Chinese text, said as Chinese speakers say them: the units wetext
leaves in letters or misreads (32GB 三十二G, 120Hz 一百二十赫兹, 500g 五百克, 12V 十二伏), a
height in metres and centimetres (1米75 一米七五) and a change in percent with its sign
(-2.3%)."""

from __future__ import annotations

import re

from sayfile.text.digits_zh import digit_by_digit

# What each unit is said as after a number (wetext reads kg, mm, km/h and the like itself), in
# two tables: the units before which 2 is 两 (两伏, 两赫兹), where wetext said 二, and the others:
# areas and weights it reads itself, and sizes, which the counting rule of normalisation_zh
# reads (G is also a network's generation, 2G网络).
_COUNTED_UNITS = {
    "Hz": "赫兹", "kHz": "千赫兹", "KHz": "千赫兹", "MHz": "兆赫兹", "GHz": "吉赫兹",
    "V": "伏", "kV": "千伏", "dB": "分贝", "fps": "帧每秒",
    "kbps": "千比特每秒", "Mbps": "兆比特每秒", "Gbps": "吉比特每秒",
}  # fmt: skip
_UNITS = {
    "㎡": "平方米", "m²": "平方米", "m2": "平方米", "平米": "平方米", "㎞": "公里",
    "km²": "平方公里", "㎏": "公斤", "kg": "公斤", "KG": "公斤",
    "GB": "G", "MB": "兆", "TB": "T", "KB": "K", "Gb": "G", "G": "G",
    "mAh": "毫安时", "cm²": "平方厘米", "mL": "毫升", "ml": "毫升",
    **_COUNTED_UNITS,
}  # fmt: skip
# Grams: a small g, but not the network's generation written small (5g网络, 4g手机).
_GRAMS = (
    r"g(?!\s?(?:网|手机|信号|基站|时代|技术|通信|套餐|流量|频段|芯片"
    r"|網|手機|信號|時代|技術|通訊|頻段))"
)
# 2 before a counted unit, grams, 克, 赫兹 or 安: 两.
_TWO = re.compile(
    r"(?<![\d.,:/\-])2(?=\s?(?:"
    + "|".join(sorted(_COUNTED_UNITS, key=len, reverse=True))
    + "|"
    + _GRAMS
    + r"|克|赫兹|安)(?![A-Za-z\d]))"
)
_UNIT = re.compile(
    r"(?<=[\d两])\s*(?P<unit>"
    + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
    + "|"
    + _GRAMS
    + r")(?![A-Za-z\d])"
)
# A charger's volts and amps (5V2A): 五伏两安, where the letters were said.
_VOLTS_AMPS = re.compile(r"(?<![\d.])(?P<v>\d+(?:\.\d+)?)V(?P<a>\d+(?:\.\d+)?)A(?![A-Za-z])")
# A height in metres and centimetres (身高1米75, 2米05): the centimetres digit by digit, as
# people say them (一米七五, 两米零五), where wetext counted them (一米七十五); not before a unit
# of their own.
_HEIGHT = re.compile(
    r"(?<![\d.])(?P<m>[12])\s?米\s?(?P<cm>\d\d)(?![\d.%])(?!\s?(?:厘米|公分|cm|毫米|mm))"
)
# A change in percent with its sign (涨幅-2.3%, 环比+1.2%): 负百分之二点三, 正百分之一点二, where
# wetext said 百分之负二点三; not a range's end (3-5%, 5%-10%) nor a sum.
_SIGNED_PERCENT = re.compile(r"(?<![\dA-Za-z.%)])(?P<sign>[-−－+＋])(?=\d+(?:\.\d+)?\s?[%％])")


def measures_said(text: str) -> str:
    """`text` with the units after its numbers, its heights and its signed percentages as they
    are said."""
    text = _SIGNED_PERCENT.sub(lambda found: "正" if found["sign"] in "+＋" else "负", text)
    text = _HEIGHT.sub(_height, text)
    text = _VOLTS_AMPS.sub(lambda found: f"{found['v']}伏{found['a']}安", text)
    text = _TWO.sub("两", text)
    return _UNIT.sub(lambda found: _UNITS.get(found["unit"], "克"), text)


def _height(found: re.Match[str]) -> str:
    metres = "一" if found["m"] == "1" else "两"
    return metres + "米" + digit_by_digit(found["cm"])
