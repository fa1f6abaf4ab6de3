"""Telephone numbers in Chinese text, said as people say them: each digit alone (幺 for 1), in
the groups people pause between, a country code after 加; the emergency numbers so only where
they are called; account numbers, codes and identity numbers after the words that name them."""

from __future__ import annotations

import re

from sayfile.text.digits_zh import CALLED_DIGITS, digit_by_digit

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

# The emergency numbers (110 police, 119 fire, 120 ambulance, 112), which wetext read as them,
# 幺二零, wherever no measure word it knows came next: 120Hz, 120次, 有120年的历史, 答案是120.
# They are numbers called only after a word that calls (拨打120, 报警电话110), before one that
# names the service (120急救, 110出警), or listed after one called (拨打110、119或120); every
# other is an amount. One before a letter is left to wetext (120 s: 一百二十秒).
_EMERGENCY = re.compile(
    r"(?<![\d.,:/A-Za-z+\-−－])(?:11[029]|120)(?![\d.,:/%‰°℃+\-~～]|\s?[A-Za-z])"
)
_CALLING = re.compile(
    r"(?:打|拨|叫|呼叫|电话|热线|号码|报警|求救|求助|致电|撥|電話|熱線|號碼|報警)"
    r"(?:了|过|過)?\s?[是为為:：]?\s?$"
)
_SERVICE = re.compile(
    r"\s?(?:急救|救护|救護|报警|報警|火警|匪警|出警|接警|民警|巡警|指挥|指揮|来了|來了|赶到|趕到"
    r"|电话|電話|热线|熱線|求救|求助)"
)
_LISTED = re.compile(r"\s?[、,，/和或及与與]\s?")
_AMOUNTS = {"110": "一百一十", "112": "一百一十二", "119": "一百一十九", "120": "一百二十"}

# A number read out to someone after the word that names it (QQ号123456789, 验证码是384920,
# 身份证号11010119900101123X): digit by digit, as a telephone number is, where wetext read an
# amount (一亿二千三百...) or, for an identity card's, emergency numbers and amounts mixed.
_READ_OUT = re.compile(
    r"(?P<word>QQ号|微信号|账号|帐号|賬號|卡号|卡號|单号|單號|验证码|驗證碼|密码|密碼|编号|編號|工号|学号"
    r"|學號|会员号|會員號|身份证号码|身份证号|身份證號碼|身份證號)(?P<lead>[是为為:：]?\s?)"
    r"(?P<digits>\d{4,20}[Xx]?)(?![\d.])"
)


def read_out_numbers_said(text: str) -> str:
    """`text` with the numbers read out after the words that name them said digit by digit."""
    return _READ_OUT.sub(
        lambda found: found["word"] + found["lead"] + _digits(found["digits"]), text
    )


def emergency_numbers_said(text: str) -> str:
    """`text` with 110, 112, 119 and 120 said as numbers called (幺幺零) where they are called, and
    as amounts (一百一十) everywhere else."""
    said: list[str] = []
    start = 0
    called_end = -1  # where the last number called ends
    for found in _EMERGENCY.finditer(text):
        before = text[start : found.start()]
        called = (
            _CALLING.search(text[max(0, found.start() - 6) : found.start()]) is not None
            or _SERVICE.match(text, found.end()) is not None
            or (called_end >= 0 and _LISTED.fullmatch(text, called_end, found.start()) is not None)
        )
        number = found.group()
        said += [before, _digits(number) if called else _AMOUNTS[number]]
        called_end = found.end() if called else -1
        start = found.end()
    return "".join(said) + text[start:]


def _digits(number: str) -> str:
    """Each digit alone (幺 for 1); a letter (an identity card's X) kept."""
    return digit_by_digit(number, CALLED_DIGITS)


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
    said = "，".join(_digits(group) for group in groups)
    # A pause after the number too, where words follow it.
    return said + ("，" if found.string[found.end() : found.end() + 1].isalnum() else "")
