"""Italian as it is said (no wetext grammar: num2words and the rules here). espeak-ng reads
digits itself, but says "12,50 euro" as "dodici virgola cinquanta euro", "€45" as "euro
quarantacinque", "10:30" with the colon in its phonemes and "3 kg" as "kappa gi": people say
"dodici euro e cinquanta", "quarantacinque euro", "le dieci e trenta", "tre chili"."""

from __future__ import annotations

import re

from num2words import num2words

from sayfile.text.addresses import ADDRESS, AddressWords
from sayfile.text.normalisation_grammar import Normaliser


def italian_normaliser(language: str) -> Normaliser:
    """The normaliser of Italian (`language` it, it-IT...)."""
    return _say_italian


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
# A date, day first (10/12/1985, 05/03/24: a year of two digits is said so, "ventiquattro").
_IT_DATE = re.compile(
    r"(?<![\d/])(?P<day>[0-3]?\d)/(?P<month>[01]?\d)/(?P<year>\d{4}|\d{2})(?![\d/])"
)
_MONTHS_IT = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)  # fmt: skip
_IT_MINUS = re.compile(r"(?<![\w.,])[-−](?=\d)")
# An ordinal (3° posto, 2ª classificata, 10° anniversario), before the nouns that are counted
# so: "terzo posto", where the degree sign was read "tre gradi posto".
_IT_ORDINAL = re.compile(
    r"(?<![\d.,])(?P<n>\d{1,3})(?P<sign>[°ºª])(?=\s+(?:posto|piano|anniversario|classificat[oa]"
    r"|giorno|secolo|anno|edizione|volta|capitolo|turno|premio|livello|episodio|stagione"
    r"|congresso|festival|gara|tappa|giornata|settimana|classe|elementare|media|superiore)\b)",
    re.IGNORECASE,
)
# A number with two dots or more that is no amount (a version, 1.2.3; an address, 192.168.1.1):
# its parts with "punto" between, where espeak-ng said the dots as nothing. Italy's thousands
# (1.200.000) have three digits in every part after the first, and stay numbers.
_IT_DOTTED = re.compile(r"(?<![\d.,])\d+(?:\.\d+){2,}(?!\d|[.,]\d)")
# Even odds (50/50): "cinquanta e cinquanta", where espeak-ng read the slash ("barra").
_IT_EVEN_ODDS = re.compile(r"(?<![\d/.,])50/50(?![\d/]|[.,]\d)")
# A phone number (06 1234 5678, 347 123 4567, +39 02 12345678): digit by digit, a pause between
# its groups, as it is read out; espeak-ng read each group as an amount ("milleduecento...").
# A mobile has ten digits from a 3, a landline starts with 0 (so neither is an amount).
_IT_PHONE = re.compile(
    r"(?<![\d.,+])(?P<country>\+39[\s.]?)?(?:"
    r"(?P<mobile>3\d{2}[\s-]?\d{3}[\s-]?\d{4}|3\d{2}[\s-]?\d{7})"
    r"|(?P<landline>0\d{1,3}(?:/|[\s-]?)\d{2,4}(?:[\s-]?\d{2,4}){0,2})"
    r")(?!\d|[.,]\d)"
)
_DIGITS_IT = ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove")
_IT_ADDRESS = AddressWords(at=" chiocciola ", dot=" punto ", slash=" slash ", www="vu vu vu")


def _it_number(written: str) -> str:
    """A number as Italians write it (1.200,50) in words: "milleduecento virgola cinquanta"."""
    whole, _, fraction = written.replace(".", "").partition(",")
    if len(whole) > 15 or (len(whole) > 2 and whole[0] == "0"):
        # a code or an account number (007, 0042), not an amount: digit by digit
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
    year = found["year"]
    # '03 is "zero tre", as it is written and said.
    said_year = ("zero " if year[0] == "0" else "") + str(num2words(int(year), lang="it"))
    return f"{said} {_MONTHS_IT[month - 1]} {said_year}"


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


def _it_ordinal(found: re.Match[str]) -> str:
    said = str(num2words(int(found["n"]), lang="it", to="ordinal"))
    return said[:-1] + "a" if found["sign"] == "ª" else said


def _it_dotted(found: re.Match[str]) -> str:
    parts = found.group().split(".")
    if all(len(part) == 3 for part in parts[1:]):
        return found.group()
    return " punto ".join(str(num2words(int(part), lang="it")) for part in parts)


def _it_phone(found: re.Match[str]) -> str:
    number = found["mobile"] or found["landline"]
    if sum(c.isdigit() for c in number) < 6:
        return found.group()
    groups = re.split(r"[\s/-]", number)
    if found["mobile"] and len(groups) == 1:
        groups = [number[:3], number[3:6], number[6:]]
    said = ", ".join(" ".join(_DIGITS_IT[int(d)] for d in group) for group in groups)
    return ("più trentanove, " if found["country"] else "") + said


def _say_italian(text: str) -> str:
    text = ADDRESS.sub(_IT_ADDRESS.said, text)
    text = _IT_DOTTED.sub(_it_dotted, text)
    text = _IT_EVEN_ODDS.sub("cinquanta e cinquanta", text)
    text = _IT_DATE.sub(_it_date, text)
    text = _IT_PHONE.sub(_it_phone, text)
    text = _IT_MONEY.sub(_it_money, text)
    text = _IT_TIME.sub(
        lambda f: f"{f['lead']} {_it_time(f['hour'], f['minute'])}".replace("le l'una", "l'una"),
        text,
    )
    text = _IT_CLOCK.sub(lambda f: _it_time(f["hour"], f["minute"]), text)
    text = _IT_PERCENT.sub(lambda f: _it_number(f["num"]) + " per cento", text)
    text = _IT_FIRST_OF_MONTH.sub("primo ", text)
    text = _IT_ORDINAL.sub(_it_ordinal, text)
    text = _IT_MINUS.sub("meno ", text)
    text = _IT_UNIT.sub(_it_unit, text)
    return _IT_DIGITS.sub(lambda f: _it_number(f.group()), text)
