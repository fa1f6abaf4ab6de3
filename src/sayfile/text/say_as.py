"""<say-as> of SSML: numbers, ordinals, digits, dates, times, telephone numbers and spelled-out
characters written out as words, in English and Chinese (cardinals and ordinals in every
language num2words knows); text that does not fit its type is read as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from num2words import num2words

from sayfile.text import language_tags
from sayfile.text.digits_zh import CALLED_DIGITS, digit_by_digit
from sayfile.text.english_signs import digit_by_digit as english_digits

_NUMBER = re.compile(r"[+-]?[0-9]{1,40}(?:\.[0-9]{1,20})?")
_ORDINAL = re.compile(r"([0-9]{1,40})(?:st|nd|rd|th|\.|º|ª)?", re.IGNORECASE)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.I)
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_DATE_FIELDS = re.compile(r"[0-9]+")
_DATE_DIGITS = {"y": 4, "m": 2, "d": 2}
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def say_as(text: str, interpret_as: str, fmt: str | None, language: str | None) -> str:
    """`text` written out as words the way <say-as interpret-as=...> asks, in `language`
    (English when None; Chinese for zh and cmn).

    interpret-as: characters (also spell-out, verbatim), cardinal (number), ordinal, digits,
    date (`fmt` is the order of the fields written: ymd, mdy, dmy, md, dm, ym, my, y, m, d;
    ISO ymd when None), time (`fmt` hms24 reads 24-hour English) and telephone. As W3C asks,
    text that does not fit its type, an unknown type, or a form not known in the language
    (other than cardinal and ordinal, which num2words knows for many) is returned unchanged.
    """
    reader = _SAY_AS.get(interpret_as.strip().lower())
    spoken = reader(text, fmt, language) if reader is not None and text else None
    return text if spoken is None else spoken


def _primary(language: str | None) -> str:
    """The primary subtag of a language tag, lower case ("en" when unknown)."""
    return language_tags.primary(language or "en") or "en"


def _characters(text: str, fmt: str | None, language: str | None) -> str | None:
    # Capitals, so that "a" is read as the letter and not as the article.
    letters = [c.upper() if len(c.upper()) == 1 else c for c in text if not c.isspace()]
    return " ".join(letters)


def _cardinal(text: str, fmt: str | None, language: str | None) -> str | None:
    written = re.sub(r"(?<=[0-9])[,_ ](?=[0-9])", "", text)
    if not _NUMBER.fullmatch(written):
        return None
    return _number_words(Decimal(written), language)


def _ordinal(text: str, fmt: str | None, language: str | None) -> str | None:
    written = _ORDINAL.fullmatch(text)
    if written is None:
        return None
    return _number_words(Decimal(written.group(1)), language, ordinal=True)


def _number_words(value: Decimal, language: str | None, ordinal: bool = False) -> str | None:
    """`value` in words in `language`; None if num2words (or cn2an) cannot say it."""
    primary = _primary(language)
    if primary in language_tags.MANDARIN:
        words = _chinese_number(str(value))
        return None if words is None else f"第{words}" if ordinal else words
    number: Decimal | int = int(value) if value == value.to_integral_value() else value
    # num2words drops the sign of -0.5 in English.
    sign = "minus " if number < 0 and primary == "en" else ""
    try:
        words = num2words(
            abs(number) if sign else number, lang=primary, to="ordinal" if ordinal else "cardinal"
        )
    except (NotImplementedError, ArithmeticError, ValueError, TypeError):
        return None
    return f"{sign}{words}"


def _chinese_number(number: str) -> str | None:
    """`number` ("123", "-3.5") in Chinese numerals (一百二十三), None if too long for cn2an."""
    # cn2an takes a tenth of a second to import; only Chinese say-as needs it.
    import cn2an

    try:
        return str(cn2an.an2cn(number))
    except ValueError:
        return None


def _digits(text: str, fmt: str | None, language: str | None) -> str | None:
    primary = _primary(language)
    chars = [c for c in text if not c.isspace()]
    if primary in language_tags.MANDARIN:
        return digit_by_digit("".join(chars))
    if primary == "en":
        return english_digits("".join(chars))
    return " ".join(chars)


def _telephone(text: str, fmt: str | None, language: str | None) -> str | None:
    if not _PHONE.fullmatch(text):
        return None
    groups = [group for written in re.findall(r"[0-9]+", text) for group in _phone_groups(written)]
    if not groups:
        return None
    primary = _primary(language)
    plus = text.lstrip().startswith("+")
    if primary in language_tags.MANDARIN:
        spoken = "，".join(digit_by_digit(group, CALLED_DIGITS) for group in groups)
        return f"加{spoken}" if plus else spoken
    if primary == "en":
        spoken = ", ".join(english_digits(group) for group in groups)
        return f"plus {spoken}" if plus else spoken
    spoken = ", ".join(" ".join(group) for group in groups)
    return f"+{spoken}" if plus else spoken


def _phone_groups(digits: str) -> list[str]:
    """A run of digits written without separators, in the groups it is read in."""
    sizes = {10: (3, 3, 4), 11: (3, 4, 4)}.get(len(digits))
    if len(digits) <= 4:
        return [digits]
    if sizes is None:
        threes = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        if len(threes[-1]) == 1:
            # 3-3-4 rather than 3-3-3-1.
            threes[-2:] = [threes[-2] + threes[-1]]
        return threes
    groups: list[str] = []
    start = 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    return groups


def _date(text: str, fmt: str | None, language: str | None) -> str | None:
    order = (fmt or "ymd").strip().lower()
    fields = _DATE_FIELDS.findall(text)
    if (
        not order
        or set(order) - set("ymd")
        or len(set(order)) != len(order)
        or len(fields) != len(order)
        or re.sub(r"[0-9]+|[-/.\s]", "", text)
        # No calendar has a 20-digit year or a 5,000-digit month: read as written.
        or any(len(v) > _DATE_DIGITS[k] for k, v in zip(order, fields, strict=False))
    ):
        return None
    parts = {letter: int(value) for letter, value in zip(order, fields, strict=True)}
    year, month, day = parts.get("y"), parts.get("m"), parts.get("d")
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    if year is not None and month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            return None
    primary = _primary(language)
    if primary in language_tags.MANDARIN:
        return _chinese_date(year, month, day)
    if primary == "en":
        return _english_date(year, month, day, day_first=order.find("d") < order.find("m"))
    return None


def _chinese_date(year: int | None, month: int | None, day: int | None) -> str | None:
    spoken = ""
    if year is not None:
        spoken += digit_by_digit(str(year)) + "年"
    for value, unit in ((month, "月"), (day, "日")):
        if value is not None:
            words = _chinese_number(str(value))
            if words is None:
                return None
            spoken += words + unit
    return spoken


def _english_date(year: int | None, month: int | None, day: int | None, day_first: bool) -> str:
    month_name = _MONTHS[month - 1] if month is not None else None
    nth = str(num2words(day, to="ordinal")) if day is not None else None
    if month_name and nth:
        spoken = f"the {nth} of {month_name}" if day_first else f"{month_name} {nth}"
    else:
        spoken = month_name or (f"the {nth}" if nth else "")
    if year is not None:
        spoken_year = str(num2words(year, to="year"))
        spoken = f"{spoken}, {spoken_year}" if nth else f"{spoken} {spoken_year}".strip()
    return spoken


def _time(text: str, fmt: str | None, language: str | None) -> str | None:
    written = _TIME.fullmatch(text)
    if written is None:
        return None
    hour, minute = int(written.group(1)), int(written.group(2))
    second = int(written.group(3) or 0)
    meridiem = (written.group(4) or "").lower()
    if minute > 59 or second > 59 or hour > (12 if meridiem else 23) or (meridiem and not hour):
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    primary = _primary(language)
    if primary in language_tags.MANDARIN:
        return _chinese_time(hour, minute, second)
    if primary == "en":
        twelve = meridiem != "" or (fmt or "hms12").strip().lower() != "hms24"
        return _english_time(hour, minute, second, twelve)
    return None


def _chinese_time(hour: int, minute: int, second: int) -> str | None:
    # Two o'clock is 两点, not 二点.
    hours = "两" if hour == 2 else _chinese_number(str(hour))
    minutes = _chinese_number(str(minute))
    seconds = _chinese_number(str(second))
    if hours is None or minutes is None or seconds is None:
        return None
    spoken = f"{hours}点"
    if minute == 0 and second == 0:
        return f"{spoken}整"
    spoken += f"{'零' if minute < 10 else ''}{minutes}分"
    return f"{spoken}{seconds}秒" if second else spoken


def _english_time(hour: int, minute: int, second: int, twelve: bool) -> str:
    if twelve:
        spoken = str(num2words(hour % 12 or 12))
    else:
        # Below ten, a 24-hour time's hour is said as its two digits, as timetables, station
        # announcements and the forces read it ("oh seven thirty", "zero zero oh five"):
        # "seven thirty" is heard as a 12-hour time, and "zero oh five" as a number.
        spoken = (
            "zero zero" if hour == 0 else f"oh {english_digits(str(hour))}" if hour < 10 else ""
        )
        spoken = spoken or str(num2words(hour))
    if minute:
        spoken += f" oh {english_digits(str(minute))}" if minute < 10 else f" {num2words(minute)}"
    elif not twelve:
        # "Thirteen hundred and thirty seconds" would be 1,330 seconds.
        spoken += " hundred hours" if second else " hundred"
    if second:
        spoken += f" and {num2words(second)} second{'s' if second > 1 else ''}"
    if twelve:
        # Spelled apart so that every voice reads the letters (and no sentence ends at "p.m.").
        spoken += " P M" if hour >= 12 else " A M"
    return spoken


_SAY_AS: dict[str, Callable[[str, str | None, str | None], str | None]] = {
    "characters": _characters,
    "spell-out": _characters,
    "verbatim": _characters,
    "cardinal": _cardinal,
    "number": _cardinal,
    "ordinal": _ordinal,
    "digits": _digits,
    "date": _date,
    "time": _time,
    "telephone": _telephone,
}
