"""Clock times in Chinese text that wetext leaves half read: an hour with am or pm and no
minutes (改到3pm, 10AM开会), said with the half of the day before it (下午3点, 上午10点), as
wetext itself says 3:30pm (下午三点三十分)."""

from __future__ import annotations

import re

_HOUR = re.compile(
    r"(?P<said>(?:上午|下午|晚上|早上|凌晨|中午|傍晚|清晨|夜里)\s?)?"
    r"(?<![\d:.])(?P<h>1[0-2]|0?[1-9])\s?(?P<half>[AaPp])[Mm](?![A-Za-z])"
)
# The half of the day an hour is in, by am or pm; 12 pm is noon, 12 am midnight.
_HALVES = {("a", False): "上午", ("p", False): "下午", ("a", True): "凌晨", ("p", True): "中午"}


def hours_said(text: str) -> str:
    """`text` with each hour written with am or pm said as a time of the day."""
    return _HOUR.sub(_hour, text)


def _hour(found: re.Match[str]) -> str:
    hour = int(found["h"])
    # Where the text says the half of the day already (晚上8pm), it is not said twice.
    half = found["said"] or _HALVES[found["half"].lower(), hour == 12]
    return f"{half}{hour}点"
