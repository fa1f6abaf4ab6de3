"""SSML (a subset of W3C SSML 1.1) read into spans of words with pauses, voices, rates and
pronunciations; and the hardened XML reader that SSML and pronunciation lexicons share (no DTD,
no entities, nothing fetched, bounded depth, errors located by line and column).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Protocol
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from num2words import num2words

from sayfile.errors import InvalidInput, InvalidSsml
from sayfile.text.pronunciations import pronunciation_problem
from sayfile.text.sentences import normalize

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
    r"(?:<\?xml\s[^>]*\?>\s*)?(?:<!DOCTYPE\s+speak\b[^>\[]*(?:\[[^\]]*\])?\s*>\s*)?"
    r"<speak[\s>/]"
)
_XML_DECLARATION = re.compile(r"\s*<\?xml\s[^>]*\?>")
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*", re.IGNORECASE)
_PERCENT = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)%")
_MULTIPLIER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_NUMBER = re.compile(r"[+-]?[0-9]{1,40}(?:\.[0-9]{1,20})?")
_ORDINAL = re.compile(r"([0-9]{1,40})(?:st|nd|rd|th|\.|º|ª)?", re.IGNORECASE)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.I)
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_DATE_FIELDS = re.compile(r"[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DATE_DIGITS = {"y": 4, "m": 2, "d": 2}
_CHINESE = frozenset({"zh", "cmn"})
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ZH_DIGITS = "零一二三四五六七八九"
# On the telephone 1 is read 幺 (yāo), which cannot be mistaken for 七 (qī).
_ZH_PHONE_DIGITS = "零幺二三四五六七八九"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A run of words spoken alike, in document order.

    `text` is what to say, already expanded (say-as, sub); it is "" for a pure pause at the end
    of a document, or for an empty <phoneme> (whose `phonemes` or `pinyin` say what to speak).
    `pause_before_s` is silence before the words. `phonemes` (IPA) or `pinyin` (numbered tones,
    "zhang3 san1"), when set, give the pronunciation of `text`. `sentence_end` marks the last
    span of an <s> or <p> (and the span before one starts): a new sentence starts after it.
    """

    text: str
    pause_before_s: float = 0.0
    voice: str | None = None
    language: str | None = None
    rate: float = 1.0
    phonemes: str | None = None
    pinyin: str | None = None
    sentence_end: bool = False
    mark: str | None = None
    """The name of an SSML <mark> right before these words (after the pause before them)."""


def looks_like_ssml(text: str) -> bool:
    """Return True if `text`, stripped, starts with a <speak> element (optionally after an XML
    declaration). Plain text is never taken as markup, whatever "<" or "&" it holds."""
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
    reader = _SsmlReader()
    read_markup(document, reader, what="SSML", error=InvalidSsml, max_depth=max_depth)
    return reader.finish()


# Where an element starts: line and column, both counted from 1.
Position = tuple[int, int]


class MarkupHandler(Protocol):
    """Receives a document's elements in order; names come without their namespace (so
    `xml:lang` is `lang`). A handler raises errors itself, located with `where`."""

    def start(self, tag: str, attrs: dict[str, str], where: Position) -> None: ...

    def end(self, tag: str) -> None: ...

    def data(self, text: str) -> None: ...


def read_markup(
    document: str | bytes,
    handler: MarkupHandler,
    *,
    what: str,
    error: Callable[[str, int, int], InvalidInput],
    max_depth: int,
) -> None:
    """Parse `document` with defusedxml, passing its elements and text to `handler`.

    DTDs (so every entity declaration: billion laughs, external entities) are refused before
    anything is expanded or fetched. Raises what `error(message, line, column)` makes, the
    message starting with `what`, if the document is not well-formed, declares a DTD or is
    nested deeper than `max_depth` elements; errors the handler raises pass through.
    """
    if isinstance(document, str) and (lone := _SURROGATE.search(document)):
        # Expat takes UTF-8, which has no lone surrogates: a str holding one (JSON's "\ud800")
        # is refused here, located, rather than failing inside the parser.
        line = document.count("\n", 0, lone.start()) + 1
        column = lone.start() - (document.rfind("\n", 0, lone.start()) + 1) + 1
        raise error(
            f"{what} holds a lone surrogate (U+{ord(lone.group()):04X}) at line {line}, column "
            f"{column}; it is no character. Send the text as valid UTF-8.",
            line,
            column,
        )
    target = _Target(handler, what, error, max_depth)
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    target.expat = parser.parser
    try:
        parser.feed(document)
        parser.close()
    except ParseError as problem:
        line, column = problem.position
        reason = expat.ErrorString(problem.code)
        raise error(
            f"{what} is not well-formed at line {line}, column {column + 1}: {reason}.",
            line,
            column + 1,
        ) from None
    except DefusedXmlException:
        line, column = target.where()
        raise error(
            f"{what} declares a DTD or entities at line {line}, column {column}; they are "
            "refused so that nothing is expanded or fetched.",
            line,
            column,
        ) from None


class _Target:
    """The parser's target: strips namespaces, counts depth and locates elements."""

    def __init__(
        self,
        handler: MarkupHandler,
        what: str,
        error: Callable[[str, int, int], InvalidInput],
        max_depth: int,
    ) -> None:
        self.handler = handler
        self.what = what
        self.error = error
        self.max_depth = max_depth
        self.depth = 0
        self.expat: expat.XMLParserType | None = None

    def where(self) -> Position:
        if self.expat is None:
            return (1, 1)
        return (self.expat.CurrentLineNumber, self.expat.CurrentColumnNumber + 1)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        where = self.where()
        if self.depth > self.max_depth:
            raise self.error(
                f"{self.what} is nested more than {self.max_depth} elements deep at line "
                f"{where[0]}, column {where[1]}.",
                *where,
            )
        attrs = {_local(name): value for name, value in attrib.items()}
        self.handler.start(_local(tag), attrs, where)

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.handler.end(_local(tag))

    def data(self, text: str) -> None:
        self.handler.data(text)

    def close(self) -> None:
        return None


def _local(name: str) -> str:
    """`name` without its `{namespace}` prefix."""
    return name.rpartition("}")[2]


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
    # Spans made before the element opened (<s>, <p>).
    mark: int = 0
    # The text of <sub>, <say-as>, <phoneme> and silent elements, gathered to the end tag.
    gathered: list[str] | None = None
    # Inside a gathering element: markup is ignored, text goes to that element.
    passive: bool = False


class _SsmlReader:
    """Turns SSML events into spans; words spoken alike are buffered until something changes."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._frames: list[_Frame] = []
        self._gatherer: _Frame | None = None
        self._buffer: list[str] = []
        self._buffer_style = _Style()
        self._buffer_has_words = False
        self._pause = 0.0
        self._pause_style = _Style()
        self._mark: str | None = None

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
                frame.mark = len(self.spans)
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
                self._sentence_boundary(since=frame.mark)
            case "sub":
                self._add_text(frame.attrs["alias"], frame.style)
            case "say-as":
                language = frame.style.language
                spoken = say_as(
                    text, frame.attrs["interpret-as"], frame.attrs.get("format"), language
                )
                self._add_text(spoken, frame.style)
            case "phoneme":
                alphabet = frame.attrs.get("alphabet", "ipa").strip().lower()
                said = " ".join(frame.attrs["ph"].split())
                if alphabet in ("ipa", "x-pinyin") and (
                    problem := pronunciation_problem(alphabet, said)
                ):
                    raise _fail(frame.where, f"<phoneme ph>: {problem}")
                self._add_phonemes(text, frame.attrs, frame.style)

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

    def _add_phonemes(self, text: str, attrs: dict[str, str], style: _Style) -> None:
        pronunciation = " ".join(attrs["ph"].split())
        alphabet = attrs.get("alphabet", "ipa").strip().lower()
        if alphabet not in ("ipa", "x-pinyin"):
            # Other alphabets (x-sampa, engine-specific ones) cannot be passed on: say the words.
            self._add_text(text, style)
            return
        self._flush()
        if alphabet == "ipa":
            self._emit(text, style, phonemes=pronunciation)
        else:
            self._emit(text, style, pinyin=pronunciation)

    def _sentence_boundary(self, since: int = 0) -> None:
        self._flush()
        if len(self.spans) > since and self.spans[-1].text:
            self.spans[-1] = replace(self.spans[-1], sentence_end=True)

    def _flush(self) -> None:
        text = normalize("".join(self._buffer)) if self._buffer_has_words else ""
        self._buffer.clear()
        self._buffer_has_words = False
        if text:
            self._emit(text, self._buffer_style)

    def _emit(
        self, text: str, style: _Style, phonemes: str | None = None, pinyin: str | None = None
    ) -> None:
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


def say_as(text: str, interpret_as: str, fmt: str | None, language: str | None) -> str:
    """`text` written out as words the way <say-as interpret-as=...> asks, in `language`
    (English when None; Chinese for zh and cmn).

    interpret-as: characters (also spell-out, verbatim), cardinal (number), ordinal, digits,
    date (`fmt` is the order of the fields written: ymd, mdy, dmy, md, dm, ym, my, y, m, d;
    ISO ymd when None), time (`fmt` hms24 reads 24-hour English) and telephone. As W3C asks,
    text that does not fit its type, an unknown type, or a form not known in the language
    (other than cardinal and ordinal, which num2words knows for many) is returned unchanged.
    """
    reader = _SAY_AS.get(interpret_as.strip().lower())
    spoken = reader(text, fmt, language) if reader is not None and text else None
    return text if spoken is None else spoken


def _primary(language: str | None) -> str:
    """The primary subtag of a language tag, lower case ("en" when unknown)."""
    return re.split(r"[-_]", language or "en", maxsplit=1)[0].lower() or "en"


def _characters(text: str, fmt: str | None, language: str | None) -> str | None:
    # Capitals, so that "a" is read as the letter and not as the article.
    letters = [c.upper() if len(c.upper()) == 1 else c for c in text if not c.isspace()]
    return " ".join(letters)


def _cardinal(text: str, fmt: str | None, language: str | None) -> str | None:
    written = re.sub(r"(?<=[0-9])[,_ ](?=[0-9])", "", text)
    if not _NUMBER.fullmatch(written):
        return None
    return _number_words(Decimal(written), language)


def _ordinal(text: str, fmt: str | None, language: str | None) -> str | None:
    written = _ORDINAL.fullmatch(text)
    if written is None:
        return None
    return _number_words(Decimal(written.group(1)), language, ordinal=True)


def _number_words(value: Decimal, language: str | None, ordinal: bool = False) -> str | None:
    """`value` in words in `language`; None if num2words (or cn2an) cannot say it."""
    primary = _primary(language)
    if primary in _CHINESE:
        words = _chinese_number(str(value))
        return None if words is None else f"第{words}" if ordinal else words
    number: Decimal | int = int(value) if value == value.to_integral_value() else value
    # num2words drops the sign of -0.5 in English.
    sign = "minus " if number < 0 and primary == "en" else ""
    try:
        words = num2words(
            abs(number) if sign else number, lang=primary, to="ordinal" if ordinal else "cardinal"
        )
    except (NotImplementedError, ArithmeticError, ValueError, TypeError):
        return None
    return f"{sign}{words}"


def _chinese_number(number: str) -> str | None:
    """`number` ("123", "-3.5") in Chinese numerals (一百二十三), None if too long for cn2an."""
    # cn2an takes a tenth of a second to import; only Chinese say-as needs it.
    import cn2an

    try:
        return str(cn2an.an2cn(number))
    except ValueError:
        return None


def _digits(text: str, fmt: str | None, language: str | None) -> str | None:
    primary = _primary(language)
    chars = [c for c in text if not c.isspace()]
    if primary in _CHINESE:
        return "".join(_ZH_DIGITS[int(c)] if c in "0123456789" else c for c in chars)
    if primary == "en":
        return " ".join(_EN_DIGITS[int(c)] if c in "0123456789" else c for c in chars)
    return " ".join(chars)


def _telephone(text: str, fmt: str | None, language: str | None) -> str | None:
    if not _PHONE.fullmatch(text):
        return None
    groups = [group for written in re.findall(r"[0-9]+", text) for group in _phone_groups(written)]
    if not groups:
        return None
    primary = _primary(language)
    plus = text.lstrip().startswith("+")
    if primary in _CHINESE:
        spoken = "，".join("".join(_ZH_PHONE_DIGITS[int(c)] for c in group) for group in groups)
        return f"加{spoken}" if plus else spoken
    if primary == "en":
        spoken = ", ".join(" ".join(_EN_DIGITS[int(c)] for c in group) for group in groups)
        return f"plus {spoken}" if plus else spoken
    spoken = ", ".join(" ".join(group) for group in groups)
    return f"+{spoken}" if plus else spoken


def _phone_groups(digits: str) -> list[str]:
    """A run of digits written without separators, in the groups it is read in."""
    sizes = {10: (3, 3, 4), 11: (3, 4, 4)}.get(len(digits))
    if len(digits) <= 4:
        return [digits]
    if sizes is None:
        threes = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        if len(threes[-1]) == 1:
            # 3-3-4 rather than 3-3-3-1.
            threes[-2:] = [threes[-2] + threes[-1]]
        return threes
    groups: list[str] = []
    start = 0
    for size in sizes:
        groups.append(digits[start : start + size])
        start += size
    return groups


def _date(text: str, fmt: str | None, language: str | None) -> str | None:
    order = (fmt or "ymd").strip().lower()
    fields = _DATE_FIELDS.findall(text)
    if (
        not order
        or set(order) - set("ymd")
        or len(set(order)) != len(order)
        or len(fields) != len(order)
        or re.sub(r"[0-9]+|[-/.\s]", "", text)
        # No calendar has a 20-digit year or a 5,000-digit month: read as written.
        or any(len(v) > _DATE_DIGITS[k] for k, v in zip(order, fields, strict=False))
    ):
        return None
    parts = {letter: int(value) for letter, value in zip(order, fields, strict=True)}
    year, month, day = parts.get("y"), parts.get("m"), parts.get("d")
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    if year is not None and month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            return None
    primary = _primary(language)
    if primary in _CHINESE:
        return _chinese_date(year, month, day)
    if primary == "en":
        return _english_date(year, month, day, day_first=order.find("d") < order.find("m"))
    return None


def _chinese_date(year: int | None, month: int | None, day: int | None) -> str | None:
    spoken = ""
    if year is not None:
        spoken += "".join(_ZH_DIGITS[int(c)] for c in str(year)) + "年"
    for value, unit in ((month, "月"), (day, "日")):
        if value is not None:
            words = _chinese_number(str(value))
            if words is None:
                return None
            spoken += words + unit
    return spoken


def _english_date(year: int | None, month: int | None, day: int | None, day_first: bool) -> str:
    month_name = _MONTHS[month - 1] if month is not None else None
    nth = str(num2words(day, to="ordinal")) if day is not None else None
    if month_name and nth:
        spoken = f"the {nth} of {month_name}" if day_first else f"{month_name} {nth}"
    else:
        spoken = month_name or (f"the {nth}" if nth else "")
    if year is not None:
        spoken_year = str(num2words(year, to="year"))
        spoken = f"{spoken}, {spoken_year}" if nth else f"{spoken} {spoken_year}".strip()
    return spoken


def _time(text: str, fmt: str | None, language: str | None) -> str | None:
    written = _TIME.fullmatch(text)
    if written is None:
        return None
    hour, minute = int(written.group(1)), int(written.group(2))
    second = int(written.group(3) or 0)
    meridiem = (written.group(4) or "").lower()
    if minute > 59 or second > 59 or hour > (12 if meridiem else 23) or (meridiem and not hour):
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    primary = _primary(language)
    if primary in _CHINESE:
        return _chinese_time(hour, minute, second)
    if primary == "en":
        twelve = meridiem != "" or (fmt or "hms12").strip().lower() != "hms24"
        return _english_time(hour, minute, second, twelve)
    return None


def _chinese_time(hour: int, minute: int, second: int) -> str | None:
    # Two o'clock is 两点, not 二点.
    hours = "两" if hour == 2 else _chinese_number(str(hour))
    minutes = _chinese_number(str(minute))
    seconds = _chinese_number(str(second))
    if hours is None or minutes is None or seconds is None:
        return None
    spoken = f"{hours}点"
    if minute == 0 and second == 0:
        return f"{spoken}整"
    spoken += f"{'零' if minute < 10 else ''}{minutes}分"
    return f"{spoken}{seconds}秒" if second else spoken


def _english_time(hour: int, minute: int, second: int, twelve: bool) -> str:
    shown = (hour % 12 or 12) if twelve else hour
    spoken = str(num2words(shown))
    if minute:
        spoken += f" oh {_EN_DIGITS[minute]}" if minute < 10 else f" {num2words(minute)}"
    elif not twelve:
        spoken += " hundred"
    if second:
        spoken += f" and {num2words(second)} second{'s' if second > 1 else ''}"
    if twelve:
        # Spelled apart so that every voice reads the letters (and no sentence ends at "p.m.").
        spoken += " P M" if hour >= 12 else " A M"
    return spoken


_SAY_AS: dict[str, Callable[[str, str | None, str | None], str | None]] = {
    "characters": _characters,
    "spell-out": _characters,
    "verbatim": _characters,
    "cardinal": _cardinal,
    "number": _cardinal,
    "ordinal": _ordinal,
    "digits": _digits,
    "date": _date,
    "time": _time,
    "telephone": _telephone,
}
