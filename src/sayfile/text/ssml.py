"""SSML (a subset of W3C SSML 1.1) read into spans of words with pauses, voices, rates and
pronunciations, through the hardened reader of `safe_xml`; <say-as> is read by `say_as`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sayfile.errors import InvalidSsml
from sayfile.text.language_detection import language_by_script
from sayfile.text.pronunciations import pronunciation_problem
from sayfile.text.safe_xml import Position, read_xml
from sayfile.text.say_as import say_as
from sayfile.text.sentences import normalize
from sayfile.text.spans import Span

# Pause lengths of <break strength>, in seconds; a <break> with neither time nor strength is
# "medium", as W3C says.
BREAK_STRENGTHS: dict[str, float] = {
    "none": 0.0,
    "x-weak": 0.1,
    "weak": 0.25,
    "medium": 0.5,
    "strong": 1.0,
    "x-strong": 1.5,
}
# W3C sets no upper bound on a break; a longer silence than this is a mistake or an attempt to
# make the service write hours of nothing. It caps one break and several in a row alike.
MAX_PAUSE_S = 10.0
# Silence before a <p> that follows other speech, on top of the sentence gap the speech
# pipeline leaves after every sentence (an <s> adds none).
PARAGRAPH_PAUSE_S = 0.4
# <prosody rate> labels as multipliers of the voice's normal rate.
RATE_LABELS: dict[str, float] = {
    "x-slow": 0.5,
    "slow": 0.75,
    "medium": 1.0,
    "default": 1.0,
    "fast": 1.25,
    "x-fast": 1.75,
}
MIN_RATE = 0.25
MAX_RATE = 4.0
# <emphasis level> as a multiplier of the current rate: emphasised words come a little slower.
EMPHASIS_RATES: dict[str, float] = {"strong": 0.9, "moderate": 0.9, "reduced": 1.0, "none": 1.0}
# Elements whose content describes something and is not to be spoken.
SILENT_ELEMENTS = frozenset({"desc", "metadata"})

# A <speak> element, after an XML declaration and a DOCTYPE naming `speak` if there are any
# (the DOCTYPE makes it SSML, which the reader then refuses, rather than text read aloud).
_SSML_START = re.compile(
    r"(?:<\?xml\s[^>]*\?>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*"
    r"(?:<!DOCTYPE\s+speak\b[^>\[]*(?:\[[^\]]*\])?\s*>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*"
    r"<speak[\s>/]",
    re.DOTALL,
)
# Markup, taken out to see what script a document's words are in.
_MARKUP = re.compile(r"<[^>]*>")
_XML_DECLARATION = re.compile(r"\s*<\?xml\s[^>]*\?>")
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*", re.IGNORECASE)
_PERCENT = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)%")
_MULTIPLIER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def looks_like_ssml(text: str) -> bool:
    """Return True if `text`, stripped, starts with a <speak> element (optionally after an XML
    declaration and comments). Plain text is never taken as markup, whatever "<" or "&" it
    holds."""
    return _SSML_START.match(text.strip().removeprefix("\ufeff").lstrip()) is not None


def parse_ssml(document: str, max_chars: int = 200_000, max_depth: int = 32) -> list[Span]:
    """Read an SSML document into spans, in order, adjacent words spoken alike merged.

    White space is folded as in plain text. A <mark> names the moment the words after it
    begin. Unknown elements (and <audio>) are read for their text, never their markup; <desc>
    and <metadata> are silent. Raises InvalidSsml if the document is longer than `max_chars`,
    nested deeper than `max_depth` elements, not well-formed, declares a DTD or entities, has
    a root other than <speak>, or has an attribute sayfile cannot use (a break time, a prosody
    rate, a missing alias or ph or mark name); the message gives
    the line and column.
    """
    if len(document) > max_chars:
        raise InvalidSsml(f"SSML is {len(document)} characters long; the limit is {max_chars}.")
    document = document.removeprefix("\ufeff")
    if declaration := _XML_DECLARATION.match(document):
        # XML allows nothing before its declaration, which says nothing a str needs: blanked
        # out, it lets white space come first and keeps every line and column where it was.
        blank = re.sub(r"[^\n]", " ", declaration.group())
        document = blank + document[declaration.end() :]
    # <say-as> where no xml:lang says the language reads as the document's words are
    # written: 请拨打<say-as interpret-as="telephone"> in Chinese (it had been English).
    reader = _SsmlReader(language_by_script(_MARKUP.sub(" ", document[:20_000])))
    read_xml(document, reader, what="SSML", error=InvalidSsml, max_depth=max_depth)
    return reader.finish()


@dataclass(frozen=True, slots=True)
class _Style:
    """What spans of one element share."""

    voice: str | None = None
    language: str | None = None
    rate: float = 1.0


@dataclass(slots=True)
class _Frame:
    """One open element."""

    tag: str
    style: _Style
    where: Position
    attrs: dict[str, str]
    # How many spans were made before the element opened (<s>, <p>).
    spans_before: int = 0
    # The text of <sub>, <say-as>, <phoneme> and silent elements, gathered to the end tag.
    gathered: list[str] | None = None
    # Inside a gathering element: markup is ignored, text goes to that element.
    passive: bool = False


class _SsmlReader:
    """Turns SSML events into spans; words spoken alike are buffered until something changes."""

    def __init__(self, script_language: str | None = None) -> None:
        self.script_language = script_language
        """The language the document's script says (zh, ja, ko), for <say-as> without one."""
        self.spans: list[Span] = []
        self._frames: list[_Frame] = []
        self._gatherer: _Frame | None = None
        self._buffer: list[str] = []
        self._buffer_style = _Style()
        self._buffer_has_words = False
        self._pause = 0.0
        self._pause_style = _Style()
        self._mark: str | None = None
        # Whether the document's words so far end in white space (or there are none yet).
        self._spaced = True

    def start(self, tag: str, attrs: dict[str, str], where: Position) -> None:
        if not self._frames and tag != "speak":
            raise _fail(where, f"the document must be a <speak> element, not <{tag}>.")
        parent = self._frames[-1].style if self._frames else _Style()
        if self._gatherer is not None:
            self._frames.append(_Frame(tag, parent, where, attrs, passive=True))
            return
        frame = _Frame(tag, _style(tag, attrs, parent, where), where, attrs)
        self._frames.append(frame)
        match tag:
            case "break":
                self._add_pause(_break_seconds(attrs, where), frame.style)
            case "mark":
                name = attrs.get("name", "").strip()
                if not name:
                    raise _fail(where, "<mark> needs a name attribute.")
                self._flush()
                if self._mark is not None:
                    # Two marks with nothing between them: both name the same moment.
                    self._emit("", self._pause_style)
                self._mark = name
            case "p" | "s":
                self._sentence_boundary()
                if tag == "p" and self.spans:
                    self._pause = max(self._pause, PARAGRAPH_PAUSE_S)
                    self._pause_style = frame.style
                frame.spans_before = len(self.spans)
            case "sub" | "say-as" | "phoneme":
                required = {"sub": "alias", "say-as": "interpret-as", "phoneme": "ph"}[tag]
                if not attrs.get(required, "").strip():
                    raise _fail(where, f"<{tag}> needs a {required} attribute.")
                self._gather(frame)
            case _ if tag in SILENT_ELEMENTS:
                self._gather(frame)

    def end(self, tag: str) -> None:
        frame = self._frames.pop()
        if frame.passive:
            return
        if frame is self._gatherer:
            self._gatherer = None
        text = normalize("".join(frame.gathered or ()))
        match tag:
            case "p" | "s":
                self._sentence_boundary(since=frame.spans_before)
            case "sub":
                self._add_text(frame.attrs["alias"], frame.style)
            case "say-as":
                language = frame.style.language or self.script_language
                spoken = say_as(
                    text, frame.attrs["interpret-as"], frame.attrs.get("format"), language
                )
                if spoken.startswith("第") and "".join(self._buffer).rstrip().endswith("第"):
                    spoken = spoken[1:]  # 第<say-as ordinal>3</say-as>名: one 第
                self._add_text(spoken, frame.style)
            case "phoneme":
                alphabet = frame.attrs.get("alphabet", "ipa").strip().lower()
                said = " ".join(frame.attrs["ph"].split())
                if alphabet in ("ipa", "x-pinyin") and (
                    problem := pronunciation_problem(alphabet, said)
                ):
                    raise _fail(frame.where, f"<phoneme ph>: {problem}")
                self._add_phonemes("".join(frame.gathered or ()), frame.attrs, frame.style)

    def data(self, text: str) -> None:
        if self._gatherer is not None:
            if self._gatherer.gathered is not None:
                self._gatherer.gathered.append(text)
            return
        self._add_text(text, self._frames[-1].style)

    def finish(self) -> list[Span]:
        """The spans of the whole document, a trailing pause as a span of no words."""
        self._flush()
        if self._pause or self._mark is not None:
            style = self._pause_style
            span = Span("", self._pause, style.voice, style.language, style.rate, mark=self._mark)
            self.spans.append(span)
            self._pause = 0.0
            self._mark = None
        return self.spans

    def _gather(self, frame: _Frame) -> None:
        frame.gathered = [] if frame.tag not in SILENT_ELEMENTS else None
        self._gatherer = frame

    def _add_text(self, text: str, style: _Style) -> None:
        if style != self._buffer_style:
            if self._buffer_has_words:
                self._flush()
            elif self._buffer:  # white space alone: it parts these words from those before
                self._spaced = True
            self._buffer.clear()
            self._buffer_style = style
        self._buffer.append(text)
        self._buffer_has_words = self._buffer_has_words or not text.isspace()

    def _add_pause(self, seconds: float, style: _Style) -> None:
        if seconds <= 0:
            return
        self._flush()
        self._pause = min(self._pause + seconds, MAX_PAUSE_S)
        self._pause_style = style

    def _add_phonemes(self, written: str, attrs: dict[str, str], style: _Style) -> None:
        text = normalize(written)
        pronunciation = " ".join(attrs["ph"].split())
        alphabet = attrs.get("alphabet", "ipa").strip().lower()
        if alphabet not in ("ipa", "x-pinyin"):
            # Other alphabets (x-sampa, engine-specific ones) cannot be passed on: say the words.
            self._add_text(text, style)
            return
        self._flush()
        joined = not written[:1].isspace()
        if alphabet == "ipa":
            self._emit(text, style, phonemes=pronunciation, joined=joined)
        else:
            self._emit(text, style, pinyin=pronunciation, joined=joined)
        if written.strip():
            self._spaced = written[-1:].isspace()

    def _sentence_boundary(self, since: int = 0) -> None:
        self._flush()
        if len(self.spans) > since and self.spans[-1].text and not self.spans[-1].sentence_end:
            self.spans[-1] = replace(self.spans[-1], sentence_end=True)

    def _flush(self) -> None:
        written = "".join(self._buffer)
        text = normalize(written) if self._buffer_has_words else ""
        self._buffer.clear()
        self._buffer_has_words = False
        if text:
            self._emit(text, self._buffer_style, joined=not written[:1].isspace())
        if written:
            self._spaced = not written.strip() or written[-1:].isspace()

    def _emit(
        self,
        text: str,
        style: _Style,
        phonemes: str | None = None,
        pinyin: str | None = None,
        joined: bool = False,
    ) -> None:
        """A span of `text` (`joined`: the text written right after the words before it,
        no white space between)."""
        last = self.spans[-1] if self.spans else None
        if (
            last is not None
            and not self._pause
            and self._mark is None
            and text
            and phonemes is None
            and pinyin is None
            and last.phonemes is None
            and last.pinyin is None
            and not last.sentence_end
            and (last.voice, last.language, last.rate) == (style.voice, style.language, style.rate)
        ):
            # Words split apart only by an element holding nothing but white space.
            self.spans[-1] = replace(last, text=f"{last.text} {text}")
            return
        span = Span(
            text,
            self._pause,
            style.voice,
            style.language,
            style.rate,
            phonemes,
            pinyin,
            mark=self._mark,
            joined=joined and not self._spaced and bool(self.spans),
        )
        self.spans.append(span)
        self._pause = 0.0
        self._mark = None


def _fail(where: Position, problem: str) -> InvalidSsml:
    line, column = where
    return InvalidSsml(f"SSML error at line {line}, column {column}: {problem}", line, column)


def _style(tag: str, attrs: dict[str, str], parent: _Style, where: Position) -> _Style:
    """The style of an element: its own language, voice and rate, else its parent's."""
    language = attrs.get("lang", "").strip() or parent.language
    voice = parent.voice
    rate = parent.rate
    if tag == "voice":
        voice = attrs.get("name", "").strip() or parent.voice
    elif tag == "prosody" and "rate" in attrs:
        try:
            rate = prosody_rate(attrs["rate"], parent.rate)
        except ValueError as problem:
            raise _fail(where, str(problem)) from None
    elif tag == "emphasis":
        level = attrs.get("level", "moderate").strip().lower()
        rate = _clamp_rate(parent.rate * EMPHASIS_RATES.get(level, EMPHASIS_RATES["moderate"]))
    return _Style(voice, language, rate)


def prosody_rate(value: str, current: float = 1.0) -> float:
    """The rate multiplier a <prosody rate> value asks for, clamped to MIN_RATE..MAX_RATE.

    Labels (RATE_LABELS), a percentage of the normal rate ("150%" is 1.5), a bare multiplier
    ("1.5"), or a signed percentage relative to `current` ("+10%", "-20%").
    Raises ValueError for anything else.
    """
    text = value.strip().lower()
    if text in RATE_LABELS:
        return RATE_LABELS[text]
    if percent := _PERCENT.fullmatch(text):
        sign, number = percent.groups()
        if sign:
            change = float(number) / 100 * (1 if sign == "+" else -1)
            return _clamp_rate(current * (1 + change))
        return _clamp_rate(float(number) / 100)
    if _MULTIPLIER.fullmatch(text):
        return _clamp_rate(float(text))
    raise ValueError(
        f"<prosody rate={value!r}> is not a rate; use x-slow, slow, medium, fast, x-fast, "
        "a percentage such as 150% or a multiplier such as 1.5."
    )


def _clamp_rate(rate: float) -> float:
    return min(max(rate, MIN_RATE), MAX_RATE)


def _break_seconds(attrs: dict[str, str], where: Position) -> float:
    """The pause a <break> asks for: its time if given (capped), else its strength."""
    if "time" in attrs:
        duration = _DURATION.fullmatch(attrs["time"])
        if duration is None:
            raise _fail(
                where, f"<break time={attrs['time']!r}> is not a duration such as 500ms or 2s."
            )
        number, unit = duration.groups()
        seconds = float(number) / (1000 if unit.lower() == "ms" else 1)
        return min(seconds, MAX_PAUSE_S)
    strength = attrs.get("strength", "medium").strip().lower()
    if strength not in BREAK_STRENGTHS:
        raise _fail(
            where,
            f"<break strength={attrs['strength']!r}> is not one of {', '.join(BREAK_STRENGTHS)}.",
        )
    return BREAK_STRENGTHS[strength]
