"""Text as it is said, per language, just before an engine turns it into phonemes: numbers,
money, dates, times, units, phone numbers and abbreviations written out in words, for every
engine that speaks the language (Kokoro, Piper, espeak-ng).

wetext (WeTextProcessing's grammars) does most of it; the rules here are only what it misses or
says unlike people do (checked in tests/test_normalisation.py). Mandarin readings of polyphones
that pypinyin gets wrong are fixed where misaki looks them up: jieba's words and pypinyin's
phrase table.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from typing import Any, Protocol

from num2words import num2words

log = logging.getLogger(__name__)

Normaliser = Callable[[str], str]


class _Loader(Protocol):
    def __call__(self, language: str) -> Normaliser: ...


class Normalisation:
    """The normaliser of each language, loaded on first use and shared by every thread (the
    Synthesizer owns one and calls it on each piece, on the executor's thread)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Normaliser] = {}
        self._lock = threading.Lock()

    def said(self, text: str, language: str) -> str:
        """`text` as a speaker of `language` (BCP-47) reads it aloud; unchanged in a language
        without a normaliser."""
        primary = language.split("-", 1)[0].lower()
        loader = _NORMALISERS.get(primary)
        if loader is None or not text:
            return text
        with self._lock:
            normaliser = self._loaded.get(language)
            if normaliser is None:
                normaliser = self._loaded[language] = loader(language)
        try:
            return normaliser(text)
        except Exception as exc:  # a rule or a grammar that trips on odd text: say it as written
            log.warning("normalising %s text failed (%s); it is said as written", language, exc)
            return text


def _grammar(wetext: Any, text: str) -> str:
    """`text` through wetext's grammars, or as it is where they fail on it (wetext's English
    asserts on some mixes of scripts and symbols)."""
    try:
        said = str(wetext.normalize(text))
    except Exception:
        return text
    # Its English grammar can also drop a whole sentence ("Fixes from bugs.example.org." comes
    # back empty): words said are never fewer than half of those written.
    if _alnum(said) < _alnum(text) / 2:
        return text
    return said


def _alnum(text: str) -> int:
    return sum(char.isalnum() for char in text)


@functools.cache
def _wetext(language: str) -> Any:
    """wetext's text normaliser for `language`: its grammars are loaded once per process
    (about 0.7 s for Chinese), however many synthesizers the process builds."""
    from wetext import Normalizer

    return Normalizer(lang=language, operator="tn")


def _mandarin(language: str) -> Normaliser:
    mandarin_words()
    return functools.partial(_say_mandarin, _wetext("zh"))


def _english(language: str) -> Normaliser:
    return functools.partial(_say_english, _wetext("en"), language.lower() != "en-gb")


def _italian(language: str) -> Normaliser:
    return _say_italian


# ---------------------------------------------------------------------------------------------
# Mandarin

# Readings pypinyin's phrase table gets wrong, by phrase. Each is also made a jieba word, so
# that misaki (which looks up one jieba word at a time) finds the phrase whole.
_MANDARIN_READINGS = {
    "还钱": "huán qián",
    "还款": "huán kuǎn",
    "还书": "huán shū",
    "还给": "huán gěi",
    "归还": "guī huán",
    "多长": "duō cháng",
    "有多长": "yǒu duō cháng",
    "多长时间": "duō cháng shí jiān",
    # 调到 is diào dào (transferred to) unless what is turned is named: 音量调到五十.
    "音量调到": "yīn liàng tiáo dào",
    "温度调到": "wēn dù tiáo dào",
    "亮度调到": "liàng dù tiáo dào",
    "声音调到": "shēng yīn tiáo dào",
    "空调调到": "kōng tiáo tiáo dào",
    "调到最大": "tiáo dào zuì dà",
    "调到最小": "tiáo dào zuì xiǎo",
    "调到最高": "tiáo dào zuì gāo",
    "调到最低": "tiáo dào zuì dī",
    "调大": "tiáo dà",
    "调小": "tiáo xiǎo",
    "调高": "tiáo gāo",
    "调低": "tiáo dī",
    "调成": "tiáo chéng",
    "调好": "tiáo hǎo",
    "空调": "kōng tiáo",
}
# All-capital words said as words, not letter by letter.
_SAID_AS_WORDS = frozenset({"NASA", "COVID", "OPEC", "UNESCO", "UNICEF", "WIFI", "LOL", "OK"})
_CURRENCY_ZH = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
_UNITS_ZH = {
    "㎡": "平方米", "m²": "平方米", "m2": "平方米", "平米": "平方米", "㎞": "公里",
    "km²": "平方公里", "㎏": "公斤", "kg": "公斤", "KG": "公斤",
    "GB": "G", "MB": "兆", "TB": "T", "KB": "K", "Gb": "G", "G": "G",
    "mAh": "毫安时", "cm²": "平方厘米",
}  # fmt: skip
_MOBILE_DIGITS = "零幺二三四五六七八九"

_NUMBER = r"\d+(?:\.\d+)?"
_GROUPED = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_ZH_MONEY = re.compile(
    rf"(?P<sym>[¥￥$€£])\s*(?P<num>{_GROUPED}|{_NUMBER})\s*(?P<scale>[万亿])?(?P<name>元|美元|欧元)?"
)
_ZH_GROUPED = re.compile(_GROUPED)
_ZH_BELOW_ZERO = re.compile(rf"[-−－]\s*(?P<num>{_NUMBER})\s*(?P<unit>℃|°C|°|摄氏度|度)")
_ZH_MINUS = re.compile(rf"(?<![\w.])[−－](?={_NUMBER})")
_ZH_RANGE = re.compile(rf"(?P<a>{_NUMBER})\s*[–—~～〜]\s*(?P<b>{_NUMBER})")
# wetext says 第两名 for 第2名; an ordinal is counted, 第二.
_ZH_ORDINAL = re.compile(r"第(?P<num>\d+)(?![\d.:/])")
_ZH_PER_MILLE = re.compile(rf"(?P<num>{_NUMBER})\s*‰")
_ZH_UNIT = re.compile(
    r"(?<=\d)\s*(?P<unit>" + "|".join(sorted(map(re.escape, _UNITS_ZH), key=len, reverse=True))
    + r")(?![A-Za-z])"
)  # fmt: skip
# Mobile numbers (with or without +86, spaces or dashes), landlines with an area code, and
# the 400/800 service numbers, grouped as people say them.
_ZH_PHONE = re.compile(
    r"(?<!\d)(?:(?:\+?86)[\s-]?)?(?P<mobile>1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)"
    r"|(?<!\d)(?P<area>0\d{2,3})[\s-](?P<local>\d{7,8})(?!\d)"
    r"|(?<!\d)(?P<service>[48]00)[\s-]?(?P<mid>\d{3})[\s-]?(?P<end>\d{4})(?!\d)"
)
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@functools.cache
def mandarin_words() -> Any:
    """jieba's shared tokenizer (the one misaki uses), with the phrases whose readings
    sayfile fixes added as words and those readings put in pypinyin's phrase table; done once
    per process, on first use."""
    import jieba
    from pypinyin import load_phrases_dict

    # jieba announces its dictionary on standard error unless told not to.
    jieba.setLogLevel(logging.WARNING)
    for phrase in _MANDARIN_READINGS:
        jieba.dt.add_word(phrase, freq=100_000)
    load_phrases_dict(
        {
            phrase: [[syllable] for syllable in reading.split()]
            for phrase, reading in _MANDARIN_READINGS.items()
        }
    )
    return jieba.dt


def _cn(number: str) -> str:
    """A number written in digits (no separators) in Chinese numerals, as it is read."""
    import cn2an

    whole, _, fraction = number.partition(".")
    said = str(cn2an.an2cn(whole)) if whole else "零"
    if said[:2] in ("二千", "二万", "二亿"):
        said = "两" + said[1:]  # as people say 2,000 (两千), not as they count (二)
    if fraction:
        said += "点" + "".join("零一二三四五六七八九"[int(d)] for d in fraction)
    return said


def _zh_money(found: re.Match[str]) -> str:
    number = found["num"].replace(",", "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    name = found["name"] or _CURRENCY_ZH[found["sym"]]
    return _cn(number) + (found["scale"] or "") + name


def _zh_phone(text: str, found: re.Match[str]) -> str:
    if found["mobile"]:
        digits = re.sub(r"\D", "", found["mobile"])
        groups = [digits[:3], digits[3:7], digits[7:]]
    elif found["area"]:
        local = found["local"]
        groups = [found["area"], local[:-4], local[-4:]]
    else:
        groups = [found["service"], found["mid"], found["end"]]
    said = "，".join("".join(_MOBILE_DIGITS[int(d)] for d in group) for group in groups)
    # A pause after the number too, where words follow it.
    return said + ("，" if text[found.end() : found.end() + 1].isalnum() else "")


def _zh_latin(found: re.Match[str]) -> str:
    word = found.group()
    if word.isupper() and len(word) > 1 and word not in _SAID_AS_WORDS:
        # Acronyms letter by letter (PPT, AI, USB), as Chinese speakers say them.
        return " ".join(word)
    return word


def _say_mandarin(wetext: Any, text: str) -> str:
    whole = text
    text = _ZH_PHONE.sub(lambda found: _zh_phone(whole, found), text)
    text = _ZH_MONEY.sub(_zh_money, text)
    text = _ZH_GROUPED.sub(lambda found: found.group().replace(",", ""), text)
    text = _ZH_BELOW_ZERO.sub(
        lambda f: "零下" + _cn(f["num"]) + ("度" if f["unit"] == "度" else "摄氏度"), text
    )
    text = _ZH_MINUS.sub("-", text)
    text = _ZH_RANGE.sub(r"\g<a>到\g<b>", text)
    text = _ZH_ORDINAL.sub(lambda f: "第" + _cn(f["num"]), text)
    text = _ZH_PER_MILLE.sub(lambda f: "千分之" + _cn(f["num"]), text)
    text = _ZH_UNIT.sub(lambda f: _UNITS_ZH[f["unit"]], text)
    text = _grammar(wetext, text)
    return _LATIN_WORD.sub(_zh_latin, text)


# ---------------------------------------------------------------------------------------------
# English

_CURRENCY_EN = {"$": ("dollar", "cent"), "€": ("euro", "cent"), "£": ("pound", "penny")}
_SCALES = r"thousand|million|billion|trillion"
_EN_MONEY = re.compile(
    rf"(?P<sym>[$€£])\s?(?P<whole>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<cents>\d{{1,2}})(?!\d))?"
    rf"(?:\s?(?P<scale>{_SCALES})\b)?"
)
# Titles before a name; St. and Dr. are Street and Drive after one (Baker St.).
_TITLES = {"Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "Mt.": "Mount"}
_PLACES = {"Ave.": "Avenue", "Rd.": "Road", "Blvd.": "Boulevard", "Ln.": "Lane", "Jr.": "Junior"}
_BY_CONTEXT = {"St.": ("Saint", "Street"), "Dr.": ("Doctor", "Drive")}
# Capitalised words before St. or Dr. that are not a street's name (The St. Lawrence River).
_NOT_NAMES = frozenset({"The", "A", "An", "In", "On", "At", "To", "From", "Of", "By", "And"})
_PHRASES = {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus"}
_EN_ABBREVIATION = re.compile(
    r"(?<![\w.])(?P<word>"
    + "|".join(re.escape(a) for a in [*_TITLES, *_PLACES, *_BY_CONTEXT, *_PHRASES])
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
# Times with a dot (8.30 am, as in Britain) or a.m./p.m.: wetext reads only 8:30 am.
_EN_TIME = re.compile(
    r"\b(?P<hour>[01]?\d)[:.](?P<minute>[0-5]\d)\s?(?P<half>[ap])\.?m\b\.?", re.IGNORECASE
)
_EN_ORDINAL = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b")


def _words(number: float, to: str = "cardinal") -> str:
    """`number` in English words, without the commas num2words puts between thousands (they
    would be read as pauses)."""
    return str(num2words(number, to=to)).replace(",", "")


def _en_money(found: re.Match[str]) -> str:
    unit, hundredth = _CURRENCY_EN[found["sym"]]
    whole = int(found["whole"].replace(",", ""))
    cents = found["cents"]
    if found["scale"]:
        amount = _words(float(f"{whole}.{cents}") if cents else whole)
        return f"{amount} {found['scale']} {unit}s"
    said = f"{_words(whole)} {unit}" + ("" if whole == 1 else "s")
    if cents and int(cents.ljust(2, "0")):
        count = int(cents.ljust(2, "0"))
        plural = "pence" if hundredth == "penny" else "cents"
        said += f" and {_words(count)} {hundredth if count == 1 else plural}"
    return said


def _en_abbreviation(text: str, found: re.Match[str]) -> str:
    word = found["word"]
    at_end = found.end() == len(text)
    if word in _BY_CONTEXT:
        before = text[: found.start()].split()
        after = text[found.end() :].split()
        name_before = (
            bool(before)
            and before[-1][:1].isupper()
            and not before[-1].endswith(".")
            and before[-1] not in _NOT_NAMES
        )
        name_after = bool(after) and after[0][:1].isupper()
        title, place = _BY_CONTEXT[word]
        said = place if name_before or not name_after else title
    else:
        said = {**_TITLES, **_PLACES, **_PHRASES}[word]
    # A sentence that ended on the abbreviation's dot still ends.
    return said + ("." if at_end and word not in _TITLES else "")


def _en_dotted(text: str, found: re.Match[str]) -> str:
    letters = " ".join(found.group().replace(".", "").upper())
    return letters + ("." if found.end() == len(text) else "")


def _en_decade(found: re.Match[str]) -> str:
    year = int(found["year"] + found["decade"] + "0")
    said = _words(year, to="year")
    return said[:-1] + "ies" if said.endswith("y") else said + "s"


def _en_numeric_date(found: re.Match[str], us: bool) -> str:
    month, day = (found["a"], found["b"]) if us else (found["b"], found["a"])
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return found.group()
    return f"{_MONTHS[int(month) - 1]} {_words(int(day), 'ordinal')}, {found['year']}"


def _en_time(text: str, found: re.Match[str]) -> str:
    hour, minute = int(found["hour"]), int(found["minute"])
    if not 1 <= hour <= 12:
        return found.group()
    said = _words(hour)
    if minute:
        said += (" o " if minute < 10 else " ") + _words(minute)
    said += " " + found["half"].upper() + "M"
    # A sentence that ended on p.m.'s dot still ends.
    return said + ("." if found.group().endswith(".") and found.end() == len(text) else "")


def _say_english(wetext: Any, us: bool, text: str) -> str:
    whole = text
    text = _EN_TIME.sub(lambda found: _en_time(whole, found), text)
    text = _EN_MONEY.sub(_en_money, text)
    whole = text
    text = _EN_ABBREVIATION.sub(lambda found: _en_abbreviation(whole, found), text)
    whole = text
    text = _EN_DOTTED.sub(lambda found: _en_dotted(whole, found), text)
    text = _EN_DECADE.sub(_en_decade, text)
    text = _EN_BELOW_ZERO.sub("minus ", text)
    text = _EN_NUMERIC_DATE.sub(lambda found: _en_numeric_date(found, us), text)
    text = _EN_MONTH_DAY.sub(lambda f: f"{f['month']} {_words(int(f['day']), 'ordinal')}", text)
    text = _EN_ORDINAL.sub(lambda f: _words(int(f["n"]), "ordinal"), text)
    return _grammar(wetext, text)


# ---------------------------------------------------------------------------------------------
# Italian (no wetext grammar: num2words and the rules below). espeak-ng reads digits itself,
# but says "12,50 euro" as "dodici virgola cinquanta euro", "€45" as "euro quarantacinque",
# "10:30" with the colon in its phonemes and "3 kg" as "kappa gi": people say "dodici euro e
# cinquanta", "quarantacinque euro", "le dieci e trenta", "tre chili".

_IT_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_IT_MONEY = re.compile(
    rf"(?:(?P<sym>€|EUR)\s?(?P<a>{_IT_NUMBER})|(?P<b>{_IT_NUMBER})\s?(?:€|euro\b|EUR\b))"
)
# A time after the words that introduce one (alle 8:15, dalle 9.30, ore 18:00).
_IT_TIME = re.compile(
    r"\b(?P<lead>[Aa]lle|[Dd]alle|[Ll]e|[Oo]re|[Tt]ra le|[Vv]erso le)\s(?P<hour>[01]?\d|2[0-4])"
    r"[:.](?P<minute>[0-5]\d)\b"
)
_IT_CLOCK = re.compile(r"(?<![\d.,:])(?P<hour>[01]?\d|2[0-4]):(?P<minute>[0-5]\d)(?![\d:])")
_IT_PERCENT = re.compile(rf"(?P<num>{_IT_NUMBER})\s?%")
# Units after a number: (singular, plural).
_UNITS_IT = {
    "km/h": ("chilometro orario", "chilometri orari"), "km": ("chilometro", "chilometri"),
    "kg": ("chilo", "chili"), "g": ("grammo", "grammi"), "m²": ("metro quadrato", "metri quadrati"),
    "mq": ("metro quadrato", "metri quadrati"), "m": ("metro", "metri"),
    "cm": ("centimetro", "centimetri"), "mm": ("millimetro", "millimetri"),
    "l": ("litro", "litri"), "ml": ("millilitro", "millilitri"), "°C": ("grado", "gradi"),
    "°": ("grado", "gradi"), "GB": ("giga", "giga"), "MB": ("mega", "mega"),
}  # fmt: skip
_IT_UNIT = re.compile(
    rf"(?P<num>{_IT_NUMBER})\s?(?P<unit>"
    + "|".join(sorted(map(re.escape, _UNITS_IT), key=len, reverse=True))
    + r")(?![\w/²])"
)
_IT_FIRST_OF_MONTH = re.compile(
    r"\b1(?:°|º)?\s(?=(?:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre"
    r"|ottobre|novembre|dicembre)\b)",
    re.IGNORECASE,
)
_IT_DIGITS = re.compile(_IT_NUMBER)
_IT_DATE = re.compile(r"(?<![\d/])(?P<day>[0-3]?\d)/(?P<month>[01]?\d)/(?P<year>\d{4})(?![\d/])")
_MONTHS_IT = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)  # fmt: skip
_IT_MINUS = re.compile(r"(?<![\w.,])[-−](?=\d)")


def _it_number(written: str) -> str:
    """A number as Italians write it (1.200,50) in words: "milleduecento virgola cinquanta"."""
    whole, _, fraction = written.replace(".", "").partition(",")
    if len(whole) > 15:  # a code or an account number, not an amount: digit by digit
        return " ".join(str(num2words(int(d), lang="it")) for d in whole + fraction)
    said = str(num2words(int(whole), lang="it"))
    if fraction:
        # Decimals are read as a number (virgola cinquanta), or digit by digit after a zero.
        digits = fraction if fraction.startswith("0") else None
        tail = (
            " ".join(str(num2words(int(d), lang="it")) for d in digits)
            if digits
            else str(num2words(int(fraction), lang="it"))
        )
        said += " virgola " + tail
    return said


def _it_money(found: re.Match[str]) -> str:
    whole, _, cents = (found["a"] or found["b"]).replace(".", "").partition(",")
    if len(whole) > 15:
        return _it_number(whole) + " euro"
    count = int(whole)
    said = ("un" if count == 1 else str(num2words(count, lang="it"))) + " euro"
    if cents and int(cents.ljust(2, "0")[:2]):
        said += " e " + str(num2words(int(cents.ljust(2, "0")[:2]), lang="it"))
    return said


def _it_date(found: re.Match[str]) -> str:
    """10/12/1985 (day first, as in Italy) as "dieci dicembre millenovecentottantacinque"."""
    day, month = int(found["day"]), int(found["month"])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return found.group()
    said = "primo" if day == 1 else str(num2words(day, lang="it"))
    return f"{said} {_MONTHS_IT[month - 1]} {num2words(int(found['year']), lang='it')}"


def _it_time(hour: str, minute: str) -> str:
    said = "l'una" if int(hour) == 1 else str(num2words(int(hour), lang="it"))
    if int(minute):
        said += " e " + str(num2words(int(minute), lang="it"))
    return said


def _it_unit(found: re.Match[str]) -> str:
    one, many = _UNITS_IT[found["unit"]]
    number = found["num"]
    if number == "1":
        return "un " + one
    return f"{_it_number(number)} {many}"


def _say_italian(text: str) -> str:
    text = _IT_DATE.sub(_it_date, text)
    text = _IT_MONEY.sub(_it_money, text)
    text = _IT_TIME.sub(
        lambda f: f"{f['lead']} {_it_time(f['hour'], f['minute'])}".replace("le l'una", "l'una"),
        text,
    )
    text = _IT_CLOCK.sub(lambda f: _it_time(f["hour"], f["minute"]), text)
    text = _IT_PERCENT.sub(lambda f: _it_number(f["num"]) + " per cento", text)
    text = _IT_FIRST_OF_MONTH.sub("primo ", text)
    text = _IT_MINUS.sub("meno ", text)
    text = _IT_UNIT.sub(_it_unit, text)
    return _IT_DIGITS.sub(lambda f: _it_number(f.group()), text)


_NORMALISERS: dict[str, _Loader] = {
    "zh": _mandarin,
    "cmn": _mandarin,
    "en": _english,
    "it": _italian,
}
