"""How Home Assistant finds a pipeline's text-to-speech voices among those a Wyoming server
lists, written for the tests from its rules (`homeassistant/util/language.py`: `matches`,
which scores each listed tag against the pipeline's language; `components/wyoming/tts.py`:
the voices under exactly the tag taken, sorted by description; `components/assist_pipeline/
pipeline.py`: a pipeline it sets up takes the best scored tag and that tag's first voice)."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from wyoming.info import TtsVoice

# Two codes Home Assistant takes for one language.
_SAME_LANGUAGE = (frozenset({"nb", "no"}), frozenset({"he", "iw"}))
# What follows these languages' code is a script or a group of countries, not a country.
_NOT_COUNTRIES = {"es": ("419",), "sr": ("Latn",), "zh": ("Hans", "Hant")}


class Dialect(NamedTuple):
    """A tag as Home Assistant reads it: split once at the first `-` or `_`."""

    language: str
    region: str | None
    script: str | None

    @classmethod
    def of(cls, tag: str) -> Dialect:
        first, *rest = re.split(r"[-_]", tag, maxsplit=1)
        if not rest:
            return cls(first.casefold(), None, None)
        if rest[0] in _NOT_COUNTRIES.get(first, ()):
            return cls(first.casefold(), None, rest[0])
        return cls(first.casefold(), rest[0].upper(), None)


def _regions_preferred(language: str, script: str | None, country: str | None) -> list[str]:
    """Where a language without a region is taken to be spoken, likeliest first."""
    regions = [country.upper()] if country else []
    if language == "en" and country is None:
        regions.append("US")
    elif language == "zh":
        regions += ["HK", "TW"] if script == "Hant" else ["CN"]
    return [*regions, language.upper()]


def score(wanted: Dialect, listed: Dialect, country: str | None) -> tuple[float, int]:
    """Higher is a better match; a first number below 0 is none."""
    same = wanted.language == listed.language
    if not same and frozenset({wanted.language, listed.language}) not in _SAME_LANGUAGE:
        return (-1, 0)
    if wanted.region is None and listed.region is None:
        return (2 if same else 1, 0)
    if wanted.region is not None and listed.region is not None:
        return (math.inf, int(same)) if wanted.region == listed.region else (0, 0)
    preferred = _regions_preferred(wanted.language, wanted.script, country)
    region = wanted.region or listed.region
    if region in preferred:
        return (1 + len(preferred) - preferred.index(region), 0)
    return (0, 0)


def tags_taken(language: str, voices: list[TtsVoice], country: str | None = None) -> list[str]:
    """The listed tags Home Assistant may take for a pipeline in `language`: the best scored
    (several when they tie, and it then takes whichever its set of tags gives first)."""
    listed = {tag for voice in voices for tag in voice.languages}
    wanted = Dialect.of(language)
    scored = {tag: score(wanted, Dialect.of(tag), country) for tag in listed}
    matching = {tag: points for tag, points in scored.items() if points[0] >= 0}
    if not matching:
        return []
    best = max(matching.values())
    return sorted(tag for tag, points in matching.items() if points == best)


def offered(tag: str, voices: list[TtsVoice]) -> list[str]:
    """The voice ids Home Assistant offers under `tag`, in its order (by description): a
    pipeline it sets up speaks with the first."""
    under = [voice for voice in voices if tag in voice.languages]
    return [voice.name for voice in sorted(under, key=lambda v: v.description or v.name)]
