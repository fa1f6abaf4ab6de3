"""Telephone numbers in Chinese text, said as people say them: each digit alone (幺 for 1), in
the groups people pause between, a country code after 加."""

from __future__ import annotations

import re

_PHONE_DIGITS = "零幺二三四五六七八九"
# Mobile numbers (with or without +86, spaces or dashes), landlines with an area code, and
# the 400/800 service numbers, grouped as people say them.
_NATIONAL = re.compile(
    r"(?<!\d)(?:(?:\+?86)[\s-]?)?(?P<mobile>1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)"
    r"|(?<!\d)(?P<area>0\d{2,3})[\s-](?P<local>\d{7,8})(?!\d)"
    r"|(?<!\d)(?P<service>[48]00)[\s-]?(?P<mid>\d{3})[\s-]?(?P<end>\d{4})(?!\d)"
)
# A number with a country code (+1 415 555 0100, +852 2345 6789, +86-10-62345678; a Chinese
# mobile number with +86 is read by _NATIONAL, without it), its groups as written: wetext read
# the plus as 正 and each dash as 减 (minus), the groups as amounts.
_INTERNATIONAL = re.compile(
    r"(?<![A-Za-z0-9+])\+(?!86[\s-]?1[3-9])(?P<country>\d{1,3})"
    r"(?P<rest>(?:[\s-]\d{1,8}){1,5})(?!\d)"
)


def telephone_numbers_said(text: str) -> str:
    """`text` with its telephone numbers said."""
    return _NATIONAL.sub(_national, _INTERNATIONAL.sub(_international, text))


def _national(found: re.Match[str]) -> str:
    if found["mobile"]:
        digits = re.sub(r"\D", "", found["mobile"])
        groups = [digits[:3], digits[3:7], digits[7:]]
    elif found["area"]:
        local = found["local"]
        groups = [found["area"], local[:-4], local[-4:]]
    else:
        groups = [found["service"], found["mid"], found["end"]]
    return _said(found, groups)


def _international(found: re.Match[str]) -> str:
    written = re.findall(r"\d+", found["rest"])
    if sum(map(len, written)) < 6:  # too short for a telephone number: +5 -3 stays as it is
        return found.group()
    # A long group is said as a local number is, its last four apart.
    groups = [part for group in written for part in (group[:-4], group[-4:]) if part]
    return "加" + _said(found, [found["country"], *groups])


def _said(found: re.Match[str], groups: list[str]) -> str:
    """A telephone number's `groups` of digits, each digit said (幺 for 1), a pause between."""
    said = "，".join("".join(_PHONE_DIGITS[int(d)] for d in group) for group in groups)
    # A pause after the number too, where words follow it.
    return said + ("，" if found.string[found.end() : found.end() + 1].isalnum() else "")
