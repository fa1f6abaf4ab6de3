"""Versions of a product written with slashes after its name (Windows 10/11, iOS 16/17,
Python 2/3): alternatives, said with the language's "or", where the grammars read a fraction
("ten elevenths", 三分之二) or a date (十月十一日)."""

from __future__ import annotations

import re

# Names whose versions follow them as whole numbers: operating systems, languages, suites and
# devices. Only these: after other words (Page 3/10, 第3/4页) a slash is "of" or a fraction.
VERSIONED = (
    "Windows", "Win", "iOS", "iPadOS", "macOS", "watchOS", "Android", "HarmonyOS", "Ubuntu",
    "Debian", "Fedora", "CentOS", "RHEL", "Python", "Java", "PHP", "Perl", "Office", "iPhone",
    "PlayStation", "PS", "Xbox",
)  # fmt: skip
_SLASHED = re.compile(
    r"(?<![A-Za-z0-9.])(?P<name>" + "|".join(VERSIONED) + r")(?P<gap>\s?)"
    r"(?P<versions>\d{1,4}(?:/\d{1,4}){1,4})(?![A-Za-z0-9/]|\.\d)"
)


def versions_said(text: str, list_mark: str, or_word: str) -> str:
    """`text` with each product's versions in slashes said as alternatives: the last after
    `or_word`, the others apart by `list_mark` (", " and " or " in English: "7, 8 or 10")."""

    def said(found: re.Match[str]) -> str:
        *first, last = found["versions"].split("/")
        return f"{found['name']}{found['gap']}{list_mark.join(first)}{or_word}{last}"

    return _SLASHED.sub(said, text)
