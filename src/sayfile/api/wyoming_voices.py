"""What sayfile's Wyoming server says about itself (`describe`): its voices, the language
tags each is listed under and their order, made for how Home Assistant finds an assistant's
voices among them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice

from sayfile import __version__
from sayfile.models import Voice
from sayfile.text.language_tags import MANDARIN, primary
from sayfile.voices.catalogue import Catalogue

_HOME = "https://github.com/rhasspy/wyoming"

# Home Assistant offers an assistant the voices listed under exactly one tag: of the tags the
# voices list, the one it scores best for the assistant's language and the home's country
# (homeassistant/util/language.py): the same tag; for a tag without a region, the country's
# region or the language's own (fr-FR for fr, en-US for en) about as well as the bare
# language; and where several score alike, whichever its set of tags gives first. So each tag
# of a language an assistant may take lists every voice of that language.
#
# Regional tags assistants are set to, beyond those sayfile's voices carry: listed so that
# such an assistant takes its own tag (its voices in their order for it) rather than another
# region's, which puts that region's voices first. And cmn, which Mandarin voices answer to.
ASSISTANT_TAGS: dict[str, tuple[str, ...]] = {
    "de": ("de-DE", "de-AT", "de-CH"),
    "en": ("en-US", "en-GB", "en-AU", "en-CA", "en-IE", "en-IN", "en-NZ", "en-ZA"),
    "es": ("es-ES", "es-MX", "es-419", "es-US", "es-AR", "es-CL", "es-CO"),
    "fr": ("fr-FR", "fr-CA", "fr-BE", "fr-CH"),
    "hi": ("hi-IN",),
    "it": ("it-IT", "it-CH"),
    "ja": ("ja-JP",),
    "nl": ("nl-NL", "nl-BE"),
    "pt": ("pt-BR", "pt-PT"),
    "zh": ("zh-CN", "zh-TW", "zh-HK", "cmn"),
}
# A language and a region: a country (fr-CA) or an area of countries (es-419, en-029).
_REGIONAL = re.compile(r"[a-z]{2,3}-(?:[A-Z]{2}|[0-9]{3})")
# What Home Assistant reads after these languages' code as a script or a group of countries,
# not a country (util/language.py, `is_region`).
_NOT_COUNTRIES = {"es": ("419",), "sr": ("Latn",), "zh": ("Hans", "Hant")}


def describe(catalogue: Catalogue) -> Info:
    """The `info` answer: one text-to-speech program, sayfile, with every voice (`listed`)."""
    program = TtsProgram(
        name="sayfile",
        attribution=Attribution(name="sayfile", url=_HOME),
        installed=True,
        description="sayfile: text to speech (Kokoro, Piper, espeak-ng)",
        version=__version__,
        voices=listed(catalogue),
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


def listed(catalogue: Catalogue) -> list[TtsVoice]:
    """Every voice by its id, under every tag an assistant in its language may take
    (`assistant_tags`), each tag's voices in the catalogue's order for that tag (as
    `GET /voices?language=` gives them: the best first, and for a regional tag the region's
    own voices first; those it never chooses by language last), or in the bare language's
    order where Home Assistant cannot tell the tag from it (`read_as_bare`). Tags whose
    orders are the same share a listing; a voice is listed once for each order (`Order`). A
    description starts with the voice's place in its order, zero-padded: Home Assistant sorts
    a tag's voices by description, and an assistant it sets up takes the first."""
    languages: dict[str, list[Voice]] = {}
    for voice in catalogue.voices():
        languages.setdefault(_language_of(voice), []).append(voice)
    out: list[TtsVoice] = []
    for language, voices in sorted(languages.items()):
        for order in orders(catalogue, language, voices):
            out += order.listed()
    return out


@dataclass(frozen=True)
class Order:
    """One order of a language's voices, and the tags it is listed under. The one under the
    bare language also lists each voice's own tags that are no assistant's (en-GB-x-rp,
    zh-yue), so a voice answers to all its tags once."""

    language: str
    voices: tuple[Voice, ...]
    tags: tuple[str, ...]

    def listed(self) -> list[TtsVoice]:
        width = len(str(len(self.voices)))
        return [
            _listed(voice, f"{n:0{width}d}", self._tags_of(voice))
            for n, voice in enumerate(self.voices, start=1)
        ]

    def _tags_of(self, voice: Voice) -> list[str]:
        """This order's tags, the voice's own among them first (its language first)."""
        bare = self.language in self.tags
        here = [
            tag
            for tag in _own_tags(voice)
            if tag in self.tags or (bare and not assistant_tag(self.language, tag))
        ]
        return list(dict.fromkeys([*here, *self.tags]))


def orders(catalogue: Catalogue, language: str, voices: list[Voice]) -> list[Order]:
    """The orders `voices` (a language's) take under the tags an assistant in `language` may
    take, the bare language's first."""
    best = {v.id: n for n, v in enumerate(catalogue.voices(language))}
    voices = sorted(voices, key=lambda v: best.get(v.id, len(best)))
    tags_by_order: dict[tuple[Voice, ...], list[str]] = {}
    for tag in assistant_tags(language, voices):
        ranked_as = language if read_as_bare(language, tag) else tag
        tags_by_order.setdefault(_ranked(catalogue, ranked_as, voices), []).append(tag)
    return [Order(language, order, tuple(tags)) for order, tags in tags_by_order.items()]


def assistant_tags(language: str, voices: list[Voice]) -> list[str]:
    """The tags an assistant in `language` may take among those listed: the bare language,
    the regions in ASSISTANT_TAGS, and every regional tag of the language a voice carries."""
    carried = [tag for voice in voices for tag in _own_tags(voice)]
    tags = [language, *ASSISTANT_TAGS.get(language, ())]
    tags += [tag for tag in carried if assistant_tag(language, tag)]
    return list(dict.fromkeys(tags))


def assistant_tag(language: str, tag: str) -> bool:
    """Whether `tag` is one an assistant in `language` may take: the language, one of its
    regions, or another tag ASSISTANT_TAGS gives it."""
    if tag == language or tag in ASSISTANT_TAGS.get(language, ()):
        return True
    return primary(tag) == language and _REGIONAL.fullmatch(tag) is not None


def read_as_bare(language: str, tag: str) -> bool:
    """Whether an assistant in the bare `language` scores `tag` as high as the language itself,
    taking whichever of the two its set of tags gives first: the language's own region (fr-FR
    for fr, pt-PT for pt) and what follows the code is not a country (es-419). Such a tag is
    listed in the bare language's order, so that the assistant starts with the same voice
    either way."""
    first, _, rest = tag.partition("-")
    if first != language or not rest:
        return False
    return rest in _NOT_COUNTRIES.get(language, ()) or rest.upper() == language.upper()


def _ranked(catalogue: Catalogue, tag: str, voices: list[Voice]) -> tuple[Voice, ...]:
    """`voices` in the catalogue's order for `tag`; those it leaves out after, as they were."""
    ours = {voice.id: voice for voice in voices}
    first = [ours[v.id] for v in catalogue.voices(tag) if v.id in ours]
    taken = {voice.id for voice in first}
    return (*first, *(voice for voice in voices if voice.id not in taken))


def _own_tags(voice: Voice) -> list[str]:
    return list(dict.fromkeys([voice.language, *(tag for tag, _ in voice.aliases)]))


def _language_of(voice: Voice) -> str:
    """The language `voice` is listed in: zh for every Chinese voice, else its own primary
    tag."""
    if any(primary(tag) in MANDARIN for tag in _own_tags(voice)):
        return "zh"
    return primary(voice.language)


def _listed(voice: Voice, place: str, tags: list[str]) -> TtsVoice:
    about = ", ".join(
        part for part in (voice.language, voice.gender, voice.quality.name, voice.grade) if part
    )
    return TtsVoice(
        name=voice.id,
        attribution=Attribution(name=voice.credit or voice.engine, url=""),
        installed=True,
        description=f"{place}. {voice.name} ({about})",
        version=None,
        languages=tags,
    )
