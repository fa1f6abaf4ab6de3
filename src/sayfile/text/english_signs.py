"""Signs around numbers in English said as words, before wetext's grammar (which leaves them
or misreads them): ranges, multiples, sizes, powers, heights, short units, blood pressure,
race times, "about", "with". Each rule is a pattern and what it is said as, applied in the
order of the table (`signs_said`), after `normalisation_en.py` has read money, versions and
large numbers; and the readings of numbers the two share (`words`, `counted`, `by_pairs`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

from sayfile.text.abbreviations import BEFORE_YEAR, OVER_PERIODS, SHORT_UNITS, either_case


def words(number: float, to: str = "cardinal") -> str:
    """`number` in English words, without the commas num2words puts between thousands (they
    would be read as pauses)."""
    return str(num2words(number, to=to)).replace(",", "")


_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digit_by_digit(text: str) -> str:
    """Each character of `text` apart, its ASCII digits said as words (a code, a telephone
    number, the digits after a point): "4096" → "four zero nine six"."""
    return " ".join(_DIGIT_WORDS[ord(c) - 48] if "0" <= c <= "9" else c for c in text)


# Fractions written as one character (½ tsp, 1½ cups), as said after a whole number.
FRACTIONS = {
    "½": "a half", "⅓": "a third", "⅔": "two thirds", "¼": "a quarter", "¾": "three quarters",
    "⅛": "an eighth", "⅜": "three eighths", "⅝": "five eighths", "⅞": "seven eighths",
}  # fmt: skip
_FRACTION = f"[{''.join(FRACTIONS)}]"
# Words before a place in a series written with a slash (Page 3/10).
_IN_A_SERIES = (
    "Page", "Step", "Day", "Week", "Part", "Episode", "Chapter", "Question", "Slide", "Round",
    "Stage", "Lap", "Track", "Disc",
)  # fmt: skip


# Units whose plural is not their name and an s.
_PLURALS = {"square foot": "square feet", "year old": "years old", "inch": "inches"}


def counted(number: str, unit: str) -> str:
    """`number` (as written) and `unit`, plural unless the number is 1 or a fraction alone
    (½ tsp: "one half teaspoon")."""
    single = number == "1" or (len(number) == 1 and number in FRACTIONS)
    return f"{_grouped_said(number)} {unit if single else _PLURALS.get(unit, unit + 's')}"


def measured(found: re.Match[str], unit: str) -> str:
    """A number and its unit as `counted`; after "a" or "an" (group `a`) the unit names a
    thing's kind and is not plural: "a twelve volt battery", "a four thousand milliamp hour
    battery"."""
    if found["a"]:
        return f"{found['a']}{_grouped_said(found['n'])} {unit}"
    return counted(found["n"], unit)


def _grouped_said(number: str) -> str:
    """A whole number with thousands separators in words (others as written): before a unit,
    wetext drops the "one" of 1,200 ("a thousand two hundred milliamp hours")."""
    return words(int(number.replace(",", ""))) if "," in number and "." not in number else number


def by_pairs(number: int) -> str:
    """A number of three or four digits that names a room or a flight, as people say it: its
    hundreds, then its last two digits (1208 "twelve oh-eight", 2001 "twenty oh-one", 1500
    "fifteen hundred"); whole thousands as they are (2000 "two thousand")."""
    if number % 1000 == 0:
        return words(number)
    hundreds, rest = divmod(number, 100)
    ending = "hundred" if rest == 0 else f"oh-{words(rest)}" if rest < 10 else words(rest)
    return f"{words(hundreds)} {ending}"


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_RULES: tuple[_Rule, ...] = (
    # An en or em dash between numbers (pages 10–20, 1939–1945): wetext keeps the dash.
    (re.compile(r"(?<=\d)\s?[–—]\s?(?=\d)"), lambda f: " to "),
    # Height in feet and inches (5'11", 6′2″, 5 ft 10 in, where wetext left "in" as the word).
    (
        re.compile(
            r"(?<![\d.])(?P<feet>\d)(?:\s?['′’]\s?(?P<inches>\d{1,2})\s?(?:[\"″”]|'')"
            r"|\s?ft\.?\s?(?P<in>\d{1,2})\s?in\b(?=\s*(?:[.,;:!?)]|$|tall|high|long|wide)))"
        ),
        lambda f: f"{f['feet']} foot {f['inches'] or f['in']}",
    ),
    # A range before a multiple or a percent sign (2-3x, 15-20%): "two to three times", where
    # wetext said "two-three x".
    (
        re.compile(r"(?<![\w.\-])(?P<a>\d+(?:\.\d+)?)-(?P<b>\d+(?:\.\d+)?)(?P<of>x|%)(?!\w)"),
        lambda f: f"{f['a']} to {f['b']}" + (" times" if f["of"] == "x" else "%"),
    ),
    # Thousands and more (5k+ users): "five thousand plus", where wetext said "five k plus".
    (re.compile(r"(?<![\w.,])(?P<n>\d+)[kK]\+"), lambda f: f"{f['n']} thousand plus"),
    # A multiple with decimals (1.5x faster): wetext reads only whole ones.
    (re.compile(r"(?<![\w.])(?P<n>\d+\.\d+)x(?!\w)"), lambda f: f"{f['n']} times"),
    # Inches written as a double quote (a 27" monitor, 12" x 18", 6" deep), where the mark was
    # not said: only before what inches measure, a size's x (then only the number, which the
    # size's rule below reads) or a word of size, so that a number closing a quotation ("give
    # me 5") stays as it is.
    (
        re.compile(
            r"(?<![\w.,])(?P<n>\d+(?:\.\d+)?)[\"″](?:(?P<thing>(?=\s(?:monitor|screen|display|TV"
            r"|laptop|tablet|pizza|wheels?|tires?|tyres?|rims?|subwoofer|speakers?|frame|pan|blade"
            r"|iPad|MacBook)\b))|(?P<size>(?=\s?[x×]\s?\d))|(?=\s(?:wide|tall|long|high|deep|thick)\b))"
        ),
        lambda f: (
            f["n"]
            if f["size"] is not None
            else f"{f['n']} inch"
            if f["thing"] is not None
            else counted(f["n"], "inch")
        ),
    ),
    # A hexadecimal number (error code 0x80070005): "hex" and each character, as programmers
    # read one out, where the sizes' rule below read "zero by eighty million...".
    (
        re.compile(r"(?<![\w.])0x(?P<h>[0-9A-Fa-f]{2,})\b"),
        lambda f: "hex " + digit_by_digit(f["h"].upper()),
    ),
    # Sizes (a 9x13 pan, 1920x1080, 4x4): "nine by thirteen", where wetext said "times".
    (
        re.compile(r"(?<![\w.^])(?P<a>\d+)\s?[x×]\s?(?P<b>\d+)(?![\w^]|\.\d)"),
        lambda f: f"{f['a']} by {f['b']}",
    ),
    # A power (10^6, 2^10): "to the power of", where wetext said "circumflex".
    (
        re.compile(r"(?<![\w.])(?P<a>\d+)\^(?P<b>\d+)(?!\w|\.\d)"),
        lambda f: f"{f['a']} to the power of {f['b']}",
    ),
    # Short units after a number (abbreviations.SHORT_UNITS: 2 tbsp, 1-2 hrs, 4,000 mAh), which
    # wetext leaves as written ("two T B S P"); a dot after one is its own, unless a capital
    # follows.
    (
        re.compile(
            r"(?<![\w.,])(?P<a>\b(?-i:[Aa])n? )?"
            rf"(?P<n>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?{_FRACTION}?|{_FRACTION})"
            r"\s?(?P<unit>" + "|".join(SHORT_UNITS) + r")\b(?:\.(?=\s+(?-i:[a-z])))?",
            re.IGNORECASE,
        ),
        lambda f: measured(f, SHORT_UNITS[f["unit"].lower()]),
    ),
    # Volts after a number (220 V, 3.7V): "volts", where wetext left the capital (it reads a
    # small v so itself).
    (
        re.compile(r"(?<![\w.,])(?P<a>\b[Aa]n? )?(?P<n>\d+(?:\.\d+)?)\s?V\b(?!\s?\d|\.\w)"),
        lambda f: measured(f, "volt"),
    ),
    # A small v between two numbers (won 2 v 1): "versus", where wetext said "volts".
    (re.compile(r"(?<=\d) v (?=\d)"), lambda f: " versus "),
    # An HTTP status (HTTP 404, error 503, a 404 page, 502 Bad Gateway): by pairs, as the web's
    # people say it ("four oh-four", "five hundred"), where wetext read an amount ("four
    # hundred and four"). After the word that names it any status; before a word, only an
    # error's (4xx, 5xx), so that "a 250 page report" stays an amount.
    (
        re.compile(
            r"(?:(?<=\bHTTP )|(?<=\bHTTPS )|(?<=\b[Ee]rror )|(?<=\bERROR )|(?<=\b[Ss]tatus )"
            r"|(?<=\b[Ss]tatus code ))(?P<n>[1-5]\d\d)(?!\w|[.,]\d)"
            r"|(?<![\w.,$€£#])(?P<error>[45]\d\d)(?=\s(?:[Ee]rrors?|ERROR|page|response|status"
            r"|Not Found|Forbidden|Bad Request|Unauthorized|Internal Server Error|Bad Gateway"
            r"|Service Unavailable|Gateway Timeout|Too Many Requests)\b)"
        ),
        lambda f: by_pairs(int(f["n"] or f["error"])),
    ),
    # Before a year that ends a phrase (Bakery, Est. 1887.): abbreviations.BEFORE_YEAR.
    (
        re.compile(
            r"\b(?P<word>"
            + "|".join(BEFORE_YEAR)
            + r")\.\s?(?=(?:1[5-9]|20)\d\d(?:\s*[.,;:!?)]|\s*$))",
            re.IGNORECASE,
        ),
        lambda f: BEFORE_YEAR[f["word"].lower()] + " ",
    ),
    # An Airbus by its model (A380 "A three eighty"), a financial year (FY2024, FY24) as a year,
    # and finance's changes over a period (YoY: abbreviations.OVER_PERIODS).
    (
        re.compile(r"(?<![\w-])A(?P<n>220|3[0-8]\d)(?!\w|[.,]\d)"),
        lambda f: "A " + by_pairs(int(f["n"])),
    ),
    (re.compile(r"\bFY(?=(?:19|20)?\d\d\b)"), lambda f: "FY "),
    (
        re.compile(r"\b(?P<word>" + "|".join(OVER_PERIODS) + r")\b"),
        lambda f: OVER_PERIODS[f["word"]],
    ),
    # Blood pressure (BP 120/80): "one twenty over eighty", where wetext read a fraction.
    (
        re.compile(
            r"(?P<lead>\b(?:[Bb]lood pressure|BP)\b[^.\d]{0,20}?)(?P<a>\d{2,3})/(?P<b>\d{2,3})"
            r"(?![\d/])"
        ),
        lambda f: f"{f['lead']}{by_pairs(int(f['a']))} over {f['b']}",
    ),
    # A number read out, not counted, after the word that names it (Your code is 384920, PIN
    # 4921, ZIP code 90210), and the emergency numbers after ring, call or dial (Ring 999):
    # digit by digit, where wetext read an amount. A status code is read by pairs above.
    (
        re.compile(
            r"(?:(?<=\b[Cc]ode )|(?<=\b[Cc]ode is )|(?<=\b[Cc]ode: )|(?<=\bPIN )|(?<=\bPIN is )"
            r"|(?<=\bPIN: )|(?<=\bOTP )|(?<=\bOTP is )|(?<=\b[Pp]asscode is )|(?<=\bZIP ))"
            r"(?P<n>\d{3,20})(?![\w.,]\d|\w)"
            r"|(?:(?<=\b[Rr]ing )|(?<=\b[Cc]all )|(?<=\b[Dd]ial ))(?P<sos>999|112|000)"
            r"(?![\w.,]\d|\w)"
        ),
        lambda f: digit_by_digit(f["n"] or f["sos"]),
    ),
    # Minutes and seconds past what an hour can be (a 5K in 25:30): "twenty-five thirty",
    # where wetext read a ratio, "twenty five to thirty".
    (
        re.compile(r"(?<![\w.:])(?P<m>2[4-9]|[3-5]\d):(?P<s>[0-5]\d)(?![\d:]|\.\d)"),
        lambda f: f"{f['m']} " + (f"oh {f['s'][1]}" if f["s"][0] == "0" else f["s"]),
    ),
    # A rating with decimals (4.5/5 stars): "four point five out of five", where wetext read
    # a fraction, "four.five fifths".
    (
        re.compile(r"(?<![\w.,/])(?P<a>\d+\.\d+)\s?/\s?(?P<b>\d+)(?![\w/]|\.\d)"),
        lambda f: f"{f['a']} out of {f['b']}",
    ),
    # A whole number and a fraction in one character (1½ cups, 2¾ inches): "one and a half",
    # which wetext left as written.
    (
        re.compile(rf"(?<![\w.,])(?P<n>\d+)(?P<f>{_FRACTION})"),
        lambda f: f"{words(int(f['n']))} and {FRACTIONS[f['f']]}",
    ),
    # A whole-number rating (Rated 4/5 stars, I give it 9/10, scored 12/20): "out of", after a
    # word that rates or before stars; elsewhere 8/10 is a fraction or a date, as wetext reads it.
    (
        re.compile(
            r"(?:(?<=\b[Rr]ated )|(?<=\b[Rr]ating )|(?<=\b[Rr]ating: )|(?<=\b[Ss]cored )"
            r"|(?<=\b[Ss]core: )|(?<=\bgive it )|(?<=\bgave it )|(?<=\bgives it ))"
            r"(?P<a>\d{1,3})\s?/\s?(?P<b>[1-9]\d{0,2})(?![\w/]|[.,]\d)"
            r"|(?<![\w.,/])(?P<c>\d)\s?/\s?(?P<d>5|10)(?=\s?stars?\b)"
        ),
        lambda f: f"{f['a'] or f['c']} out of {f['b'] or f['d']}",
    ),
    # A place in a series (Page 3/10, Step 2/5, Episode 4/12): "three of ten", where wetext
    # read a fraction ("three tenths") or a date.
    (
        re.compile(
            "(?:"
            + "|".join(f"(?<=\\b{either_case(word)} )" for word in _IN_A_SERIES)
            + r")(?P<a>\d{1,4})\s?/\s?(?P<b>[1-9]\d{0,3})(?![\w/]|[.,]\d)"
        ),
        lambda f: f"{f['a']} of {f['b']}",
    ),
    # A number and more (18+, 100+ points): "eighteen plus", where wetext left the sign as
    # written and the voices said nothing for it; a sum (2+2) is wetext's.
    (
        re.compile(r"(?<![\w.,+])(?P<n>\d{1,3}(?:,\d{3})+|\d+)\+(?![\w+])"),
        lambda f: f"{f['n']} plus",
    ),
    # Cents (99¢), which wetext left as written.
    (re.compile(r"(?<![\w.,])(?P<n>\d+)\s?¢"), lambda f: counted(f["n"], "cent")),
    # A telephone number with a country code, in groups (+44 20 7946 0958): the code as a
    # number, then digit by digit with a pause between groups, where wetext read the groups as
    # amounts; with the area code in brackets (+1 (800) 555-0199) it is wetext's, which reads
    # it so.
    (
        re.compile(r"(?<![\w+])\+(?P<country>\d{1,3})(?P<rest>(?:[\s-]\d{1,8}){2,5})(?![\d(])"),
        lambda f: (
            f"plus {words(int(f['country']))}, "
            + ", ".join(digit_by_digit(group) for group in re.findall(r"\d+", f["rest"]))
        ),
    ),
    # A plus before a number (+5°C, +12%): said, where wetext read "+5°C" as "plus five degree
    # C"; a sum (2+2) and a telephone number (read before) are not this.
    (re.compile(r"(?<![\w+])\+\s?(?=\d)"), lambda f: "plus "),
    # A tilde before a number (~30%): about.
    (re.compile(r"(?<![\w~])~\s?(?=\d)"), lambda f: "about "),
    # with and without, written short (coffee w/ milk, w/o sugar).
    (
        re.compile(r"(?<![\w/])w/(?P<o>o(?!\w))?(?!\w|/)"),
        lambda f: "without" if f["o"] else "with",
    ),
)


def signs_said(text: str) -> str:
    """`text` with the signs of the table above said as words, rule after rule."""
    for pattern, said in _RULES:
        text = pattern.sub(said, text)
    return text
