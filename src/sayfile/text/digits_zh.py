"""Chinese digits said one at a time: the one table of them, for every rule that reads a number
out (codes, years, telephone numbers, a height's centimetres)."""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
# On the telephone, and wherever digits are read out on the mainland, 1 is 幺 (yāo), which
# cannot be mistaken for 七 (qī); Taiwan says 一.
CALLED_DIGITS = "零幺二三四五六七八九"


def digit_by_digit(text: str, digits: str = DIGITS) -> str:
    """`text` with each of its ASCII digits said alone (一 for 1, or as `digits` says them),
    everything else kept."""
    return "".join(digits[ord(c) - 48] if "0" <= c <= "9" else c for c in text)
