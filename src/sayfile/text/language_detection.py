"""The language of text nobody labelled, sentence by sentence: Han, kana and hangul by their
script (`language_by_script`, which also picks an OpenAI voice name's language), other scripts
by an offline identifier (Lingua) restricted to the languages this process's voices speak; runs
of sentences in one language become spans of that language."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import sayfile.text.sentences as textmod
from sayfile.errors import UnknownLanguage
from sayfile.models import Quality, Voice
from sayfile.text import language_tags
from sayfile.text.spans import Span

if TYPE_CHECKING:
    from lingua import LanguageDetector

# A sentence decides its own language only with this many letters and with the identifier
# this sure of it; a shorter or less certain one ("OK.", "Paris.", "Vielen Dank.") keeps the
# language of the sentences around it, so one word never flips the voice.
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.9
# The quick identifier reads at most this much of a sentence (it is as sure of a language
# after 200 characters), the one that confirms a switch more (it is asked rarely).
_SAMPLE_CHARS = 200
_JUDGED_CHARS = 1000
# The high-accuracy models that confirm a switch are kept for this many languages at most
# (about 20 MB each); past that they are let go and loaded again when asked for.
MAX_JUDGED_LANGUAGES = 10
# A text longer than this (a whole book, planned before its parts) is not cut into runs: a
# sample of its sentences gives its main language, and each part of it is routed when made.
WHOLE_CHARS = 50_000
# Languages read by their script alone: the identifier is not asked about them.
_BY_SCRIPT = frozenset({"zh", "ja", "ko"})
# The CJK scripts (by the language `language_by_script` gives) a voice of each language reads:
# Japanese voices read Han as kanji; a Mandarin voice reads no kana nor hangul.
# The Chinese languages (Mandarin as zh or cmn, Cantonese, Hakka...) all read Han.
_HAN = frozenset({"zh"})
_READS = {code: _HAN for code in ("zh", "cmn", "yue", "hak", "wuu", "nan", "gan", "hsn", "lzh")}
_READS |= {"ja": frozenset({"ja", "zh"}), "ko": frozenset({"ko"})}
# Han, kana and hangul, the scripts of `_BY_SCRIPT`.
_SCRIPTS = (
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ja", re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
)
# A Han character or a hangul block is a syllable, often a word: weighed against the words of
# other scripts, not their letters, a Chinese sentence naming two products (我用 iPhone 看
# YouTube 影片) is Chinese, while an English one naming a Chinese word (Say 謝謝) stays English.
_CJK = re.compile("|".join(pattern.pattern for _, pattern in _SCRIPTS))
_WORD = re.compile(r"[^\W\d_]+")


def language_by_script(text: str) -> str | None:
    """The language of `text` when it is mostly written in a CJK script (zh, ja or ko): over a
    third of its letters, or more characters than it has words in other scripts; else None.
    Kana make it Japanese even among many kanji (東京都の天気)."""
    sample = text[:2000]
    letters = sum(1 for ch in sample if ch.isalpha())
    if not letters:
        return None
    counts = {language: len(pattern.findall(sample)) for language, pattern in _SCRIPTS}
    if counts["ja"] and counts["ja"] + counts["zh"] > letters / 3:
        return "ja"
    words = len(_WORD.findall(_CJK.sub(" ", sample)))
    for language, count in counts.items():
        if count > letters / 3 or count > words:
            return language
    return None


class VoiceCatalogue(Protocol):
    """What language detection asks of the voice catalogue (`voices.catalogue.Catalogue`):
    which voices speak a language, and which one its unlabelled text gets."""

    def voices(self, language: str | None = None) -> list[Voice]: ...

    def for_language(self, language: str, engine: str | None = None) -> Voice: ...


@dataclasses.dataclass(frozen=True, slots=True)
class LanguageVoice:
    """A language some voice speaks, the voice its text gets when nobody names one, whether
    that voice is neural, and whether text in it is told apart with no hint (`detected`)."""

    language: str
    voice: str
    neural: bool
    detected: bool

    def public(self) -> dict[str, object]:
        """The fields users see (`GET /voices/languages`, `sayfile voices --languages`)."""
        return dataclasses.asdict(self)


class SentenceLanguages:
    """Which language each sentence of unlabelled text is in, among the languages the
    catalogue's voices speak. The identifier is built on first use, once per synthesizer
    (under a second and about 70 MB for the 61 languages of the default voices that Lingua
    knows, in its low-accuracy mode, which is sure of whole sentences; bench/languages.py);
    call `load` off the event loop. Safe to use from several threads."""

    def __init__(self, catalogue: VoiceCatalogue) -> None:
        self._catalogue = catalogue
        self._lock = threading.Lock()
        self._loaded = False
        self._spoken: frozenset[str] = frozenset()
        self._identifier: LanguageDetector | None = None
        self._only: str | None = None
        self._judges: dict[tuple[str, str], LanguageDetector] = {}

    def load(self) -> None:
        """Build the identifier now (blocking: a fraction of a second the first time)."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            from lingua import Language, LanguageDetectorBuilder

            spoken = {code for code in _BY_SCRIPT if self._catalogue.voices(code)}
            known = []
            for language in Language.all():
                code = language.iso_code_639_1.name.lower()
                if code not in _BY_SCRIPT and self._catalogue.voices(code):
                    spoken.add(code)
                    known.append(language)
            if len(known) > 1:
                self._identifier = (
                    LanguageDetectorBuilder.from_languages(*known)
                    .with_low_accuracy_mode()
                    .with_preloaded_language_models()
                    .build()
                )
            self._only = known[0].iso_code_639_1.name.lower() if len(known) == 1 else None
            self._spoken = frozenset(spoken)
            self._loaded = True

    def spoken(self) -> frozenset[str]:
        """The primary language codes (ISO 639-1) some voice speaks that can be told apart."""
        self.load()
        return self._spoken

    def table(self) -> list[LanguageVoice]:
        """Every primary language a voice speaks (chosen by language), with the voice its
        unlabelled text gets; neural ones first, then by code (blocking on first use)."""
        spoken = self.spoken()
        codes = {language_tags.primary(v.language) for v in self._catalogue.voices() if v.auto}
        rows = []
        for code in codes:
            try:
                voice = self._catalogue.for_language(code)
            except UnknownLanguage:
                continue
            neural = voice.quality is Quality.neural
            rows.append(LanguageVoice(code, voice.id, neural, code in spoken))
        return sorted(rows, key=lambda row: (not row.neural, row.language))

    def of(self, sentence: str) -> str | None:
        """The language `sentence` is surely in (a code some voice speaks), else None."""
        self.load()
        by_script = language_by_script(sentence)
        if by_script is not None:
            return by_script if by_script in self._spoken else None
        letters = sum(1 for ch in sentence if ch.isalpha())
        if letters < MIN_LETTERS:
            return None
        if self._identifier is None:
            return self._only
        best = self._identifier.compute_language_confidence_values(sentence[:_SAMPLE_CHARS])[0]
        if best.value < MIN_CONFIDENCE:
            return None
        return best.language.iso_code_639_1.name.lower()

    def label(self, spans: Sequence[Span]) -> tuple[list[Span], str | None]:
        """`spans` with every span that names no voice, language or pronunciation cut into
        runs of sentences in one language, each labelled with it; and the language most of
        the text is in (None when no sentence is sure of its language: then nothing is
        labelled).

        Reading starts in the language most sentences are surely in. A sentence sure of
        another language moves the reading there when its script says so (Han, kana, hangul,
        or Latin after them), or when a finer identifier for just the two languages agrees;
        a sentence not sure of its language stays in the current one."""
        routable = _routable_indices(spans)
        if sum(len(spans[index].text) for index in routable) > WHOLE_CHARS:
            return list(spans), self._main(spans[index].text for index in routable)
        cuts: list[tuple[int, str, str | None]] = []  # (span index, sentence, language)
        for index in routable:
            cuts.extend((index, s, self.of(s)) for s in _sentences(spans[index].text))
        sure: Counter[str] = Counter()
        for _, sentence, language in cuts:
            if language:
                sure[language] += len(sentence)
        if not sure:
            return list(spans), None
        current = sure.most_common(1)[0][0]
        latin = None if current in _BY_SCRIPT else current  # the last language not by script
        weight: Counter[str] = Counter()
        labelled: list[tuple[int, str, str]] = []
        for index, sentence, language in cuts:
            if language and language != current:
                current = self._next(sentence, current, language, latin)
            if current not in _BY_SCRIPT:
                latin = current
            labelled.append((index, sentence, current))
            weight[current] += len(sentence)
        main = weight.most_common(1)[0][0]
        if len(weight) == 1:
            return list(spans), main
        return list(_relabelled(spans, labelled)), main

    def by_script(self, spans: Sequence[Span], language: str) -> list[Span]:
        """`spans` with each run of sentences written in a CJK script a voice of `language`
        does not read (kana or hangul for Mandarin; Han, kana or hangul for a language written
        in another script) labelled with the script's language; the rest labelled `language`.
        `spans` as they are where every sentence is readable, or the text is a book's."""
        readable = _READS.get(language_tags.primary(language), frozenset())
        routable = _routable_indices(spans)
        if sum(len(spans[index].text) for index in routable) > WHOLE_CHARS:
            return list(spans)
        labelled: list[tuple[int, str, str]] = []
        for index in routable:
            for sentence in _sentences(spans[index].text):
                script = language_by_script(sentence)
                unread = script is not None and script not in readable
                labelled.append((index, sentence, script if unread and script else language))
        if all(label == language for _, _, label in labelled):
            return list(spans)
        return list(_relabelled(spans, labelled))

    def _main(self, texts: Iterable[str]) -> str | None:
        """The language most of a long text is surely in, from an even sample of about
        `WHOLE_CHARS` / 10 characters of its sentences."""
        sentences = [s for text in texts for s in _sentences(text)]
        total = sum(len(s) for s in sentences)
        step = max(1, round(total / (WHOLE_CHARS / 10)))
        sure: Counter[str] = Counter()
        for sentence in sentences[::step]:
            language = self.of(sentence)
            if language:
                sure[language] += len(sentence)
        return sure.most_common(1)[0][0] if sure else None

    def _next(self, sentence: str, current: str, proposed: str, latin: str | None) -> str:
        """The language reading goes on in after `sentence`, which the quick identifier puts
        in `proposed`. A script (Han, kana, hangul) is always followed. Otherwise the quick
        identifier is sometimes sure of a rare language for a plain English sentence, so
        between two languages of one script a high-accuracy identifier of just those two
        decides: `proposed` against the current one, or, after Chinese or Japanese, against
        the language of the text before it."""
        if proposed in _BY_SCRIPT:
            return proposed
        base = latin if current in _BY_SCRIPT else current
        if base is None or base == proposed or self._confirmed(sentence, base, proposed):
            return proposed
        return base

    def _confirmed(self, sentence: str, current: str, other: str) -> bool:
        """Whether a high-accuracy identifier of `current` and `other` alone is sure that
        `sentence` is in `other` (its models, about 20 MB a language, are loaded for the
        languages it is asked about, `MAX_JUDGED_LANGUAGES` at most)."""
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        pair = (current, other)
        with self._lock:
            judge = self._judges.get(pair)
            if judge is None:
                judged = {code for known in self._judges for code in known} | set(pair)
                if len(judged) > MAX_JUDGED_LANGUAGES:
                    for old in self._judges.values():
                        old.unload_language_models()  # type: ignore[no-untyped-call]
                    self._judges.clear()
                languages = [
                    Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                    for code in pair
                ]
                judge = self._judges[pair] = LanguageDetectorBuilder.from_languages(
                    *languages
                ).build()
        best = judge.compute_language_confidence_values(sentence[:_JUDGED_CHARS])[0]
        return best.language.iso_code_639_1.name.lower() == other and best.value >= MIN_CONFIDENCE


def _routable(span: Span) -> bool:
    return bool(span.text) and not (span.voice or span.language or span.phonemes or span.pinyin)


def _routable_indices(spans: Sequence[Span]) -> list[int]:
    """Where the spans nobody labelled are: indices, not (index, span) pairs, which the garbage
    collector would walk, one per sentence of a book-size document, while it is labelled."""
    return [index for index, span in enumerate(spans) if _routable(span)]


def _sentences(text: str) -> Iterator[str]:
    """The sentences of `text`, whole (never cut at a length)."""
    return textmod.sentences(text, max(len(text), 1))


def _relabelled(spans: Sequence[Span], labelled: list[tuple[int, str, str]]) -> Iterator[Span]:
    """Each routable span as runs of its sentences in one language (the first run keeps the
    span's pause and mark, the last its sentence end); the others as they are."""
    runs: dict[int, list[tuple[str, list[str]]]] = {}
    for index, sentence, language in labelled:
        own = runs.setdefault(index, [])
        if own and own[-1][0] == language:
            own[-1][1].append(sentence)
        else:
            own.append((language, [sentence]))
    for index, span in enumerate(spans):
        if index not in runs:
            yield span
            continue
        last = len(runs[index]) - 1
        for n, (language, sentences) in enumerate(runs[index]):
            yield dataclasses.replace(
                span,
                text=_joined(sentences),
                language=language,
                pause_before_s=span.pause_before_s if n == 0 else 0.0,
                mark=span.mark if n == 0 else None,
                sentence_end=span.sentence_end if n == last else True,
            )


# What a sentence that is followed by another with no space between ends in.
_CJK_CLOSED = frozenset(textmod.CJK_ENDS + "”’」』）")


def _joined(sentences: list[str]) -> str:
    """Sentences as one text again: a space after a Latin end, none after a CJK one."""
    out = sentences[0]
    for sentence in sentences[1:]:
        out += ("" if out[-1] in _CJK_CLOSED else " ") + sentence
    return out
