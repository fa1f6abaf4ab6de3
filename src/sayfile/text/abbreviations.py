"""English abbreviations, one table each: what each is said as (`normalisation_en.py`), and
which of their dots do not end a sentence (`sentences.py`)."""

from __future__ import annotations

import re

# Said before a name; a sentence never ends at their dot when words follow (Dr. Patel).
TITLES = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "Mt.": "Mount",
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz",
}  # fmt: skip
# A title before a name, a street after one (St. Louis, Baker St.); their dot is no sentence's
# end when words follow either.
BY_CONTEXT = {"St.": ("Saint", "Street"), "Dr.": ("Doctor", "Drive")}
# After a name; these may end a sentence.
PLACES = {
    "Ave.": "Avenue", "Rd.": "Road", "Blvd.": "Boulevard", "Ln.": "Lane", "Jr.": "Junior",
    "Jr": "Junior",
}  # fmt: skip
# Latin phrases said in English; etc. may end a sentence, the others introduce what follows.
PHRASES = {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus"}
# Phrases that introduce what follows but are left to the voice (cf. is read "cf").
INTRODUCING = ("e.g.", "i.e.", "vs.", "cf.", "viz.")
# Before a number (No. 5, p. 23, pp. 10-12, Fig. 3, Ch. 4, ca. 1900, Sec. 2), with a capital or
# without; a sentence does not end at their dot when a number follows.
BEFORE_NUMBER = {
    "no": "number", "nos": "numbers", "p": "page", "pp": "pages", "fig": "figure",
    "figs": "figures", "ch": "chapter", "vol": "volume", "ca": "circa", "approx": "approximately",
    "para": "paragraph", "sec": "section", "art": "article", "eq": "equation",
}  # fmt: skip

# Before a year at the end of a phrase (Est. 1887 on a sign or a label, built c. 1850): said
# whole; a sentence does not end at their dot when a number follows. Before other numbers they
# are left as written (est. 2,000 visitors is "estimated").
BEFORE_YEAR = {"est": "established", "c": "circa"}

# Months shortened before a day (Sept. 11, Jan. 1, 2025): said whole; a sentence does not end
# at their dot when a number follows.
MONTHS_BEFORE_DAY = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October",
    "Nov": "November", "Dec": "December",
}  # fmt: skip
# Units shortened after a number that wetext's grammar leaves as written (2 tbsp, 2 hrs, 500 sq
# ft): the unit's name, made plural where the number is not 1.
SHORT_UNITS = {
    "tbsp": "tablespoon", "tbs": "tablespoon", "tsp": "teaspoon", "hr": "hour", "hrs": "hour",
    "mins": "minute", "secs": "second", "mah": "milliamp hour", "db": "decibel", "pts": "point",
    "sq ft": "square foot", "sq m": "square meter", "sq mi": "square mile",
    "sq km": "square kilometer", "y/o": "year old",
}  # fmt: skip


def never_ending() -> list[str]:
    """The abbreviations (without their last dot) whose dot never ends a sentence when words
    follow: the titles, St. and Dr., and the phrases that introduce what follows."""
    dotted = [a for a in [*TITLES, *BY_CONTEXT] if a.endswith(".")]
    return [a[:-1] for a in [*dotted, *INTRODUCING]]


# Product series before a model number and a space (RTX 4090, GTX 1060, RX 7900): the number
# names the model, said as English says a model (forty ninety) and Mandarin a code (四零九零).
MODEL_SERIES = ("RTX", "GTX", "RX")


def either_case(word: str) -> str:
    """A pattern of `word` with its first letter in either case (Room: [Rr]oom), as it is
    written at a sentence's start and inside one."""
    return f"[{word[0].upper()}{word[0].lower()}]{re.escape(word[1:])}"


# Places named by their number, and by a letter after it (Room 101, Gate 22, Seat 22K, Flat 5B):
# the number is said as a name (one oh-one), the letter as a letter, not a scale (22 thousand).
PLACES_BY_NUMBER = (
    "Room", "Suite", "Gate", "Platform", "Apartment", "Seat", "Row", "Unit", "Flat", "Bay",
    "Berth",
)  # fmt: skip
# Finance's shortenings of a change over a period (up 12% YoY): said whole wherever they stand.
OVER_PERIODS = {"YoY": "year over year", "QoQ": "quarter over quarter", "MoM": "month over month"}
