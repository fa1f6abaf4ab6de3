"""What sayfile's Wyoming server says about itself (`describe`): its voices, the language
tags each is listed under and their order, made for how Home Assistant finds a pipeline's
voices among them."""

from __future__ import annotations

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice

from sayfile import __version__
from sayfile.models import Voice
from sayfile.voices.catalogue import Catalogue
from sayfile.voices.language_names import primary

_HOME = "https://github.com/rhasspy/wyoming"

# Home Assistant offers a pipeline the voices listed under exactly one tag: of the tags the
# voices list, the one it scores best for the pipeline's language (homeassistant/util/
# language.py). For Chinese, zh-cn, zh-Hans and zh go to zh-CN, zh-tw to zh-TW, zh-hk and
# zh-Hant to zh-HK; a tag no listed one scores above the others (zh-hk without zh-HK) to
# whichever its set of tags happens to give first, a Cantonese-only zh-yue among them. Every
# Chinese voice is listed under each of these, so whichever it takes offers them all.
CHINESE_TAGS = ("zh", "zh-CN", "zh-TW", "zh-HK", "cmn")
# Primary tags of Chinese voices: Mandarin's own, and zh (which espeak-ng's Cantonese
# answers to as well).
_CHINESE = frozenset({"zh", "cmn"})


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
    """Every voice by its id, with the tags it is listed under (`languages_of`), each
    language's voices in the catalogue's order for that language (the best first; those it
    never chooses by language last). A description starts with the voice's place in that
    order, zero-padded: Home Assistant sorts a tag's voices by description, and a pipeline
    it sets up takes the first."""
    languages: dict[str, list[Voice]] = {}
    for voice in catalogue.voices():
        languages.setdefault(_ranked_in(voice), []).append(voice)
    out: list[TtsVoice] = []
    for language, voices in sorted(languages.items()):
        place = {v.id: n for n, v in enumerate(catalogue.voices(language))}
        voices.sort(key=lambda v: place.get(v.id, len(place)))
        width = len(str(len(voices)))
        out += [_listed(voice, f"{n:0{width}d}") for n, voice in enumerate(voices, start=1)]
    return out


def languages_of(voice: Voice) -> list[str]:
    """The tags `voice` is listed under: its own first, then the others it answers to, and for
    a Chinese voice every tag Home Assistant may take for a Chinese pipeline."""
    tags = [voice.language, *(tag for tag, _ in voice.aliases)]
    if _ranked_in(voice) == "zh":
        tags += CHINESE_TAGS
    return list(dict.fromkeys(tags))


def _ranked_in(voice: Voice) -> str:
    """The language `voice` takes its place in: zh for every Chinese voice, else its own
    primary tag."""
    tags = [voice.language, *(tag for tag, _ in voice.aliases)]
    return "zh" if any(primary(tag) in _CHINESE for tag in tags) else primary(voice.language)


def _listed(voice: Voice, place: str) -> TtsVoice:
    about = ", ".join(
        part for part in (voice.language, voice.gender, voice.quality.name, voice.grade) if part
    )
    return TtsVoice(
        name=voice.id,
        attribution=Attribution(name=voice.credit or voice.engine, url=""),
        installed=True,
        description=f"{place}. {voice.name} ({about})",
        version=None,
        languages=languages_of(voice),
    )
