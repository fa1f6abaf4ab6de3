"""The page's interface languages: their words (Traditional Chinese made from the Simplified
strings of api/messages.py), and choosing one for a request (a `?lang=` switch, then its
cookie, then `Accept-Language`)."""

from __future__ import annotations

import functools
from typing import Any

from sayfile.api.messages import MESSAGES

# The first is the fallback when nothing the browser asks for is available.
LANGUAGES = ("en", "zh-CN", "zh-TW", "zh-HK")
# What the switch shows for each language, written in that language.
LANGUAGE_NAMES = {
    "en": "English",
    "zh-CN": "简体中文",
    "zh-TW": "繁體中文（台灣）",
    "zh-HK": "繁體中文（香港）",
}
# Traditional Chinese is made from the Simplified strings by OpenCC, so there is no second copy
# to keep in step: Taiwan's words as well as its characters (s2twp: 伺服器, 檔案, 預設), Hong
# Kong's characters (s2hk); both quote with 「」, not “”.
_TRADITIONAL = {"zh-TW": "s2twp", "zh-HK": "s2hk"}
_QUOTES = str.maketrans("“”‘’", "「」『』")

COOKIE = "sayfile_lang"

# The language the page preselects for speech when a visitor has chosen none: Chinese
# visitors most likely type Chinese; English ones get the default (English) voice.
SPEECH_LANGUAGE = {"en": None, "zh-CN": "zh", "zh-TW": "zh", "zh-HK": "zh"}


@functools.cache
def _converter(language: str) -> Any:
    """OpenCC's converter from Simplified to `language`'s Traditional, or None (made once)."""
    config = _TRADITIONAL.get(language)
    if config is None:
        return None
    import opencc

    return opencc.OpenCC(config)


def written(language: str, text: str) -> str:
    """Chinese `text` in the characters (and, for Taiwan, the words) of the page's `language`;
    other text as it is."""
    converter = _converter(language)
    return text if converter is None else str(converter.convert(text)).translate(_QUOTES)


@functools.cache
def words(language: str) -> dict[str, str]:
    """Every string of the page in `language` (one of LANGUAGES); Traditional Chinese is made
    on first use, once per process."""
    if language not in _TRADITIONAL:
        return MESSAGES[language]
    return {key: written(language, text) for key, text in MESSAGES["zh-CN"].items()}


def prepare() -> None:
    """Every language's words made, and OpenCC's tables loaded for the group names: some ms
    for each Traditional page, which the first visitor's request would otherwise wait for on
    the event loop. Run once at start-up, in a thread."""
    for language in LANGUAGES:
        words(language)
        written(language, "中文")


def supported_language(tag: str | None) -> str | None:
    """The interface language for a BCP 47 tag (`zh`, `zh-Hans-CN`, `zh-Hant`, `en-GB`...), or
    None. Chinese by its script, else its region: Hong Kong's and Macao's Traditional, Taiwan's
    (and Traditional with no region), the rest Simplified."""
    if not tag:
        return None
    primary, *rest = tag.strip().replace("_", "-").lower().split("-")
    if primary == "zh":
        if "hans" in rest:
            return "zh-CN"
        if "hk" in rest or "mo" in rest:
            return "zh-HK"
        return "zh-TW" if "hant" in rest or "tw" in rest else "zh-CN"
    for language in LANGUAGES:
        if language.split("-")[0].lower() == primary:
            return language
    return None


def from_accept_language(header: str | None) -> str:
    """The best interface language for an `Accept-Language` header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = supported_language(tag)
        if language is not None and quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else LANGUAGES[0]


def choose_language(switch: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The switch wins, then the remembered choice, then what the browser asks for."""
    return (
        supported_language(switch)
        or supported_language(cookie)
        or from_accept_language(accept_language)
    )
