"""English as it is said: money, times with a dot or a.m./p.m., titles and street
abbreviations, dotted capitals, decades, temperatures below zero, dates and ordinals written out
before wetext's grammar (dates month first in American English, day first elsewhere)."""

from __future__ import annotations

import functools
import re
from typing import Any

from sayfile.text.abbreviations import (
    BEFORE_NUMBER,
    BY_CONTEXT,
    MODEL_SERIES,
    MONTHS_BEFORE_DAY,
    PHRASES,
    PLACES,
    PLACES_BY_NUMBER,
    TITLES,
    either_case,
)
from sayfile.text.english_signs import by_pairs, counted, digit_by_digit, signs_said, words
from sayfile.text.normalisation_grammar import (
    Normaliser,
    through_grammar_where_needed,
    wetext_grammar,
)
from sayfile.text.product_versions import versions_said
from sayfile.text.roman_numerals import ROMAN_NUMERAL, roman_reading


def english_normaliser(language: str) -> Normaliser:
    """The normaliser of English (`language` en, en-US, en-GB...)."""
    return functools.partial(_say_english, wetext_grammar("en"), language.lower() != "en-gb")


_CURRENCY_EN = {"$": ("dollar", "cent"), "€": ("euro", "cent"), "£": ("pound", "penny")}
_SCALES = r"thousand|million|billion|trillion"
# A scale written as a letter or two after an amount of money ($5k, £2.5m, $3bn).
_SHORT_SCALES = {
    "k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million",
    "bn": "billion", "b": "billion", "B": "billion", "tn": "trillion",
}  # fmt: skip
_EN_MONEY = re.compile(
    rf"(?P<sym>[$€£])\s?(?P<whole>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<cents>\d{{1,2}})(?!\d))?"
    rf"(?:\s?(?P<scale>{_SCALES})\b|(?P<short>{'|'.join(_SHORT_SCALES)})\b)?"
)
# An abbreviation before a number (abbreviations.BEFORE_NUMBER), or # before one (#1).
_EN_BEFORE_NUMBER = re.compile(
    r"(?<![\w.])(?P<word>"
    + "|".join(w for a in sorted(BEFORE_NUMBER, key=len, reverse=True) for w in (a, a.title()))
    + r")\.\s?(?=\d)|(?<![\w&#])#(?=\d)"
)
# A number with thousands separators (1,500), or of four digits or more with decimals
# (1234.56), and 1000 alone: wetext says "thousand five hundred", "thousand two hundred and
# thirty four point five six" and "ten hundred" (years are left to it: 1999, 1500 people).
# Not before a unit, which wetext reads with its number, and right (1,500 km).
_UNITS = (
    r"(?:[kmcnµu]?(?:m|g|s|l|L|Hz|W|V|A|B|b|Wh)|[KMGT]i?B|kB|[KMG]b|[kMG]?bps|km/h|mph|kph|ft"
    r"|yd|mi|lbs?|oz|%|°[CF]?|min|hrs?|h|sec|mAh|px|pt|dpi|fps|rpm|sq|y/o)"
)
_EN_LARGE = re.compile(
    r"(?<![\d.,])(?:(?P<whole>\d{1,3}(?:,\d{3})+|\d{4,})(?:\.(?P<fraction>\d+))?"
    rf"(?(fraction)|(?<=,\d{{3}}))|1000)(?![\d,]|\.\d|\s?{_UNITS}(?![\w/]))"
)
# A version after a name or a v (Python 3.11, Ubuntu 22.04, v2.0): each part a number,
# "three point eleven" (wetext: "three point one one"), a part with a leading zero digit by
# digit ("twenty-two oh four"). After a name only where a part after the first has two digits
# or more, or there are two dots: otherwise both readings are one.
_EN_VERSION = re.compile(
    r"(?<![\w.])(?P<name>[A-Z][A-Za-z]*|version|v)(?P<gap>\s?)(?P<version>\d+(?:\.\d+)+)"
    rf"(?!\d|\.\d|%)(?!\s?(?:{_SCALES}|{_UNITS})(?![\w/]))"
)
# A season or a financial year (2023-24, 1914-18) with a hyphen: wetext read it as one amount,
# "two thousand and twenty three to twenty four". Only where the end is later than the start.
_EN_YEAR_RANGE = re.compile(
    r"(?<![\w.\-/])(?P<year>1[5-9]\d\d|20\d\d)-(?P<end>\d\d)(?![\w\-/]|\.\d)"
)
# Metres (100m, 5 m, 5m/s): wetext's English grammar reads a lone m as minutes ("a one hundred
# minutes race"). A duration (2h 15m, 4m 30s) keeps its minutes, and a count of people, views,
# users... is millions (10m views).
_EN_METRES = re.compile(
    r"(?<![\w.,$£€])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?m(?P<per>/s)?"
    r"(?![\w²³/'’]|\.\w)"
)
_DURATION_BEFORE = re.compile(r"\dh\s?\Z")
# Minutes and seconds (4m 30s): wetext read the seconds as a decade, "thirties".
_EN_MINUTES_SECONDS = re.compile(r"(?<![\w.])(?P<m>\d+)\s?m\s?(?P<s>\d+)\s?s\b")
_MILLIONS_OF = re.compile(
    r"\s+(?:people|users|views|viewers|visitors|downloads|subscribers|followers|fans|customers"
    r"|listeners|readers|players|residents|voters|votes|copies|jobs|homes|households|children"
    r"|patients|cases|barrels|tonnes|tons|shares|units|years|dollars|euros|pounds)\b"
)
# A count with its scale's letter (1.2k likes, 2.5M users, 3bn): wetext read "one.two k".
# k and K are thousands but before a race or a picture (a 5k run, 4K video) and K after a
# small whole number (shot in 4K); after a whole number M and B are millions and billions only
# before what they count (3M tape names a firm, a 7B model a size). Money is read before this.
_EN_SCALE_LETTER = re.compile(
    r"(?<![\w.,$£€])(?P<n>\d+(?:\.(?P<fraction>\d+))?)(?P<scale>[kK]|M|B|bn|mn|tn)"
    r"(?![\w/'’]|\.\w)"
)
# A seat, gate or flat named by a number and a letter (Seat 22K, Apartment 5B), and a race
# after the verb that runs it (I ran 5k): the letter.
_PLACE = "|".join(map(either_case, PLACES_BY_NUMBER))
_NAMED_BEFORE = re.compile(
    r"\b(?:" + _PLACE + r"|[Aa]pt\.?|ran|run|runs|running|jogged|raced|walked)\s+\Z"
)
_LETTER_K = re.compile(
    r"\s+(?:runs?|races?|walk|video|videos|TVs?|displays?|monitors?|screens?|resolution|HDR"
    r"|UHD|cameras?|gaming|streaming|footage|content)\b"
)
# Numbers that name, said as people say them: a video's lines (1080p: "ten eighty p"), the US
# emergency number ("nine one one", not "nine hundred and eleven"), September 11th ("nine
# eleven", not "nine elevenths"), even odds ("fifty-fifty", not "fifty fiftieths"), all the
# time (24/7).
_EN_NAMED_NUMBERS = {
    "480p": "four eighty p",
    "720p": "seven twenty p",
    "1080p": "ten eighty p",
    "1440p": "fourteen forty p",
    "2160p": "twenty-one sixty p",
    "911": "nine one one",
    "9/11": "nine eleven",
    "50/50": "fifty-fifty",
    "50-50": "fifty-fifty",
    "24/7": "twenty-four seven",
    "2x4s": "two by fours",
    "49ers": "forty-niners",
    "76ers": "seventy-sixers",
}
_EN_NAMED_NUMBER = re.compile(
    r"(?<![\w.,/$#\-])(?:"
    + "|".join(map(re.escape, sorted(_EN_NAMED_NUMBERS, key=len, reverse=True)))
    + r")(?![\w/%\-]|[.,]\d)"
)
# A place named by its number (a room, gate, flat...) or a flight, of three or four digits, said
# as people say it (Room 101 "one oh-one", Flight 2490 "twenty-four ninety", a Boeing 747 "seven
# forty-seven"), not as an amount ("one hundred and one"); a model after its series (RTX 4090
# "forty ninety").
_EN_ROOM = re.compile(
    r"(?<![\w.])(?P<word>(?:" + _PLACE + r"|[Ff]light|Boeing|" + "|".join(MODEL_SERIES) + r")"
    r"(?:\s+[A-Z]{2})?)"
    r"\s+(?P<n>[1-9]\d{2,3})(?!\w|[.,]\d)"
)
# TV, which wetext's grammar says "Television" wherever it reads it: its letters, as written.
_EN_TV = re.compile(r"(?<![\w.])TV(?!\w|['’](?!s\b)|\.\w)")
# A month and day without a year after a word that dates (on 12/25, by 3/15): wetext read a
# fraction, "twelve twenty fifths".
_EN_DAY_AFTER = re.compile(
    r"\b(?P<lead>(?:[Oo]n|by|until|till|from|since|before|after|[Dd]ue)\s)"
    r"(?P<a>[0-3]?\d)/(?P<b>[0-3]?\d)(?![\d/]|\.\d)"
)
# A month shortened before a day (Sept. 11): its name, which the rules for dates then read;
# wetext said "the the eleventh of september".
_EN_SHORT_MONTH = re.compile(
    r"\b(?P<month>"
    + "|".join(MONTHS_BEFORE_DAY)
    + r")(?:\.?\s(?=[1-3]?\d\b(?!:|\.\d))|\.\s(?=\d{4}\b))"
)
# A month shortened with its dot after a word that dates (in Nov., since Feb.): said whole, its
# dot kept where it ends the sentence.
_EN_MONTH_AFTER = re.compile(
    r"(?<![\w.])(?P<lead>(?i:in|since|until|till|by|from|through|last|next|early|late|mid"
    r"|during|before|after) )(?P<month>" + "|".join(MONTHS_BEFORE_DAY) + r")\."
    r"(?:(?P<end>$|\s+(?=[A-Z]))|(?=\s|[,;:)]))"
)
# Comparisons before a number (≥ 2 GB, >= 90, <$10): wetext left the sign or said ">equals".
_EN_COMPARED = {"≥": "at least", ">=": "at least", "≤": "at most", "<=": "at most"}
_EN_COMPARED |= {">": "more than", "<": "less than"}
_EN_COMPARISON = re.compile(
    r"(?P<space>\s?)(?<![<>=\-])(?P<sign>[≥≤]|[<>]=?)\s?(?=[$€£]?\d)(?![\d:.]*>)"
)
# A web address's scheme as wetext's grammar says it: left unsaid, as people read an address
# out ("example dot com slash docs", not "HTTPS colon slash slash example..."). Taken out of
# what the grammar said, since without the scheme it gives up on an address that ends a
# sentence.
_SAID_SCHEME = re.compile(r"\b(?:HTTPS?|FTP) colon slash slash ")
# Capitalised words before St. or Dr. that are not a street's name (The St. Lawrence River).
_NOT_NAMES = frozenset({"The", "A", "An", "In", "On", "At", "To", "From", "Of", "By", "And"})
_EN_ABBREVIATION = re.compile(
    r"(?<![\w.])(?P<word>"
    + "|".join(re.escape(a) for a in [*TITLES, *PLACES, *BY_CONTEXT, *PHRASES])
    + r")(?=\s|$|[,;:!?)])"
)
_EN_DOTTED = re.compile(r"(?<![\w.])(?:[A-Za-z]\.){2,}(?![\w])")
_EN_DECADE = re.compile(r"(?<![\d,.])(?P<year>1[0-9]|20)(?P<decade>\d)0s\b")
_EN_BELOW_ZERO = re.compile(r"(?<![\w.])[-−](?=\d+(?:\.\d+)?\s?(?:°|degrees\b))")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_EN_MONTH_DAY = re.compile(
    r"\b(?P<month>" + "|".join(_MONTHS) + r")\s(?P<day>[1-9]|[12]\d|3[01])(?!\d|st|nd|rd|th|:)"
)
_EN_NUMERIC_DATE = re.compile(r"(?<![\d/])(?P<a>[01]?\d)/(?P<b>[0-3]?\d)/(?P<year>\d{4})(?![\d/])")
# Times with a dot (8.30 am, as in Britain) or a.m./p.m.: wetext reads only 8:30 am, and a
# clock time with seconds as a duration ("two hours zero minutes and thirty seconds PM").
_EN_TIME = re.compile(
    r"\b(?P<hour>[01]?\d)(?P<mark>[:.])(?P<minute>[0-5]\d)(?:(?P=mark)(?P<second>[0-5]\d))?"
    r"\s?(?P<half>[ap])\.?m\b\.?",
    re.IGNORECASE,
)
_EN_ORDINAL = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b")


def _en_money(found: re.Match[str]) -> str:
    unit, hundredth = _CURRENCY_EN[found["sym"]]
    whole = int(found["whole"].replace(",", ""))
    cents = found["cents"]
    scale = found["scale"] or _SHORT_SCALES.get(found["short"] or "")
    if scale:
        amount = words(float(f"{whole}.{cents}") if cents else whole)
        return f"{amount} {scale} {unit}s"
    said = f"{words(whole)} {unit}" + ("" if whole == 1 else "s")
    if cents and int(cents.ljust(2, "0")):
        count = int(cents.ljust(2, "0"))
        plural = "pence" if hundredth == "penny" else "cents"
        said += f" and {words(count)} {hundredth if count == 1 else plural}"
    return said


def _en_large(found: re.Match[str]) -> str:
    whole = found["whole"] or found.group()
    said = words(int(whole.replace(",", "")))
    if found["fraction"]:
        said += " point " + digit_by_digit(found["fraction"])
    return said


def _en_roman(text: str, found: re.Match[str]) -> str:
    reading = roman_reading(text, found)
    if reading is None:
        return found.group()
    value, kind = reading
    return ("the " if kind == "ordinal" else "") + words(value, kind)


def _en_version(found: re.Match[str]) -> str:
    parts = found["version"].split(".")
    v = found["name"] == "v"
    if not v and len(parts) < 3 and all(len(part) < 2 for part in parts[1:]):
        return found.group()
    said = [
        " ".join("oh" if d == "0" else words(int(d)) for d in part)
        if part.startswith("0") and len(part) > 1
        else words(int(part))
        for part in parts
    ]
    return ("V " if v else found["name"] + (found["gap"] or " ")) + " point ".join(said)


def _en_before_number(found: re.Match[str]) -> str:
    word = found["word"]
    if word is None:
        return "number "
    said = BEFORE_NUMBER[word.lower()]
    return (said.title() if word[:1].isupper() else said) + " "


def _en_abbreviation(text: str, found: re.Match[str]) -> str:
    word = found["word"]
    at_end = found.end() == len(text)
    if word in BY_CONTEXT:
        before = text[: found.start()].split()
        after = text[found.end() :].split()
        name_before = (
            bool(before)
            and before[-1][:1].isupper()
            and not before[-1].endswith(".")
            and before[-1] not in _NOT_NAMES
        )
        name_after = bool(after) and after[0][:1].isupper()
        title, place = BY_CONTEXT[word]
        said = place if name_before or not name_after else title
    else:
        said = {**TITLES, **PLACES, **PHRASES}[word]
    # A sentence that ended on the abbreviation's dot still ends.
    return said + ("." if at_end and word not in TITLES else "")


def _en_dotted(text: str, found: re.Match[str]) -> str:
    letters = " ".join(found.group().replace(".", "").upper())
    return letters + ("." if found.end() == len(text) else "")


def _en_decade(found: re.Match[str]) -> str:
    year = int(found["year"] + found["decade"] + "0")
    said = words(year, to="year")
    return said[:-1] + "ies" if said.endswith("y") else said + "s"


def _en_numeric_date(found: re.Match[str], us: bool) -> str:
    month, day = (found["a"], found["b"]) if us else (found["b"], found["a"])
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return found.group()
    said = f"{_MONTHS[int(month) - 1]} {words(int(day), 'ordinal')}"
    if "lead" in found.re.groupindex:  # a day without its year
        return found["lead"] + said
    return f"{said}, {found['year']}"


def _en_time(text: str, found: re.Match[str]) -> str:
    hour, minute = int(found["hour"]), int(found["minute"])
    if not 1 <= hour <= 12:
        return found.group()
    second = int(found["second"] or 0)
    said = words(hour)
    if minute:
        said += (" o " if minute < 10 else " ") + words(minute)
    elif second:
        said += " o'clock"
    if second:
        said += f" and {words(second)} second" + ("" if second == 1 else "s")
    said += " " + found["half"].upper() + "M"
    # A sentence that ended on p.m.'s dot still ends.
    return said + ("." if found.group().endswith(".") and found.end() == len(text) else "")


def _en_metres(text: str, found: re.Match[str]) -> str:
    number = found["n"]
    if _MILLIONS_OF.match(text, found.end()):
        return f"{number} million"
    if _DURATION_BEFORE.search(text, 0, found.start()):
        return found.group()
    return counted(number, "meter") + (" per second" if found["per"] else "")


def _en_scale_letter(text: str, found: re.Match[str]) -> str:
    number, scale, whole = found["n"], found["scale"], not found["fraction"]
    if _NAMED_BEFORE.search(text, max(0, found.start() - 12), found.start()):
        return found.group()
    if scale in "kK":
        small = whole and int(number) <= 16 and not _MILLIONS_OF.match(text, found.end())
        if _LETTER_K.match(text, found.end()) or (scale == "K" and small):
            return found.group()
    elif scale in "MB" and whole and not _MILLIONS_OF.match(text, found.end()):
        return found.group()
    return (
        f"{words(float(number)) if found['fraction'] else words(int(number))} "
        + (_SHORT_SCALES[scale])
    )


def _en_compared(found: re.Match[str]) -> str:
    """A comparison's sign as words, a space before them where a word or number ends there."""
    start = found.start()
    space = found["space"] or (" " if start and found.string[start - 1].isalnum() else "")
    return space + _EN_COMPARED[found["sign"]] + " "


def _say_english(wetext: Any, us: bool, text: str) -> str:
    whole = text
    text = _EN_TIME.sub(lambda found: _en_time(whole, found), versions_said(text, ", ", " or "))
    text = _EN_NAMED_NUMBER.sub(lambda found: _EN_NAMED_NUMBERS[found.group()], text)
    text = _EN_YEAR_RANGE.sub(
        lambda f: f"{f['year']} to {f['end']}" if f["end"] > f["year"][2:] else f.group(), text
    )
    text = _EN_MINUTES_SECONDS.sub(
        lambda f: counted(f["m"], "minute") + " " + counted(f["s"], "second"), text
    )
    whole = text
    text = _EN_METRES.sub(lambda found: _en_metres(whole, found), text)
    text = _EN_ROOM.sub(lambda f: f"{f['word']} {by_pairs(int(f['n']))}", text)
    text = _EN_TV.sub("T V", text)
    text = _EN_COMPARISON.sub(_en_compared, text)
    text = _EN_MONEY.sub(_en_money, text)
    whole = text
    text = _EN_SCALE_LETTER.sub(lambda found: _en_scale_letter(whole, found), text)
    text = _EN_VERSION.sub(_en_version, text)
    text = _EN_LARGE.sub(_en_large, text)
    text = _EN_BEFORE_NUMBER.sub(_en_before_number, text)
    text = signs_said(text)
    whole = text
    text = ROMAN_NUMERAL.sub(lambda found: _en_roman(whole, found), text)
    text = _EN_SHORT_MONTH.sub(lambda f: MONTHS_BEFORE_DAY[f["month"]] + " ", text)
    text = _EN_MONTH_AFTER.sub(
        lambda f: (
            f["lead"] + MONTHS_BEFORE_DAY[f["month"]] + ("" if f["end"] is None else "." + f["end"])
        ),
        text,
    )
    whole = text
    text = _EN_ABBREVIATION.sub(lambda found: _en_abbreviation(whole, found), text)
    whole = text
    text = _EN_DOTTED.sub(lambda found: _en_dotted(whole, found), text)
    text = _EN_DECADE.sub(_en_decade, text)
    text = _EN_BELOW_ZERO.sub("minus ", text)
    text = _EN_NUMERIC_DATE.sub(lambda found: _en_numeric_date(found, us), text)
    text = _EN_DAY_AFTER.sub(lambda found: _en_numeric_date(found, us), text)
    text = _EN_MONTH_DAY.sub(lambda f: f"{f['month']} {words(int(f['day']), 'ordinal')}", text)
    text = _EN_ORDINAL.sub(lambda f: words(int(f["n"]), "ordinal"), text)
    said = through_grammar_where_needed(wetext, text)
    return _SAID_SCHEME.sub("", said) if "://" in text else said
