"""Cutting a plan into engine calls: sentences within the configured limit, a stream's short
first piece, short sentences joined for engines with a start-up cost (`join_below`), each
span's voice, speed, pause and marks carried onto its pieces."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sayfile.engines.base import Pronunciation
from sayfile.models import Voice
from sayfile.speech.plan import Planner, SpeechPlan
from sayfile.text.sentences import inside_word
from sayfile.text.sentences import sentences as split_sentences
from sayfile.text.spans import Span

# A stream's first piece is cut this short (at a clause, else a space) so that its first
# audio comes after a couple of seconds of speech are synthesized, not a whole long
# sentence: about 30 Latin characters, or 8 Chinese or Japanese ones (each a syllable).
FIRST_PIECE_CHARS = 30
FIRST_PIECE_CJK_CHARS = 8
# A stream's first pieces this many, each made alone on the engine's first-piece path: the
# second is the rest of a first sentence cut short (or the next sentence), which must be ready
# before the short first piece has been heard; beside a third piece on the other core it was
# not (docs/benchmarks.md, "First byte": a stall of 0.3-0.4 s after the first piece). On a
# CPU without VNNI, where Kokoro is 1.6 times slower, the third piece made on one thread beside
# the fourth was late in the same way (0.2-0.4 s), and made alone it was not ("The same
# rewrite on a CPU without VNNI").
FIRST_PIECES = 3
# Chinese or Japanese characters per Latin one, for lengths in engines' `join_below`.
_CJK_PER_LATIN = 3
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Chinese and Japanese characters and their full-width marks, which no space parts.
_CJK_OR_MARK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@dataclass(frozen=True, slots=True)
class Piece:
    """One engine call: the words (or a pronunciation of them), in a voice and at a speed,
    after a pause."""

    text: str
    voice: Voice
    speed: float
    pause_s: float = 0.0
    phonemes: str | None = None
    alphabet: str = "ipa"
    marks: tuple[str, ...] = ()
    """Names of SSML marks at the start of the words (after the pause)."""
    marks_within: tuple[tuple[int, str], ...] = ()
    """SSML marks inside the words: each with the character of `text` it stands before. The
    piece is said whole, and the mark timed where the engine says that word begins."""
    pronounced: tuple[Pronunciation, ...] = ()
    """Pronunciations inside the words (a `<phoneme>`, a lexicon's IPA or pinyin): where the
    engine can, said in their place in the sentence (`Pronouncing`), else apart."""
    first: bool = False
    """One of a stream's first pieces (FIRST_PIECES): made alone, urgently, on the engine's
    first-piece path (`synthesize_first`) where it has one."""
    follows: str = ""
    """A stream's first piece cut short: the rest of its sentence, which an engine may say
    after it unheard so that the piece is said as the start of a sentence that goes on
    (Kokoro's window, engines/kokoro_run.py); engines without one ignore it."""


@dataclass(slots=True)
class _Run:
    """Spans said as one text: a span after a mark, a pronunciation or the words after one,
    in the same sentence, voice and speed, goes on the words before it. `marks` are
    (characters of the run before the mark, not counting white space; its name), and
    `pronounced` (the characters before the words a pronunciation says, and up to their end,
    counted so; its phonemes and alphabet)."""

    voice: Voice
    speed: float
    pause: float
    quick: bool
    texts: list[str]
    marks: list[tuple[int, str]]
    pronounced: list[Pronunciation] = field(default_factory=list)
    joined: list[bool] = field(default_factory=list)
    """For each of `texts`, whether it was written right after the one before (`Span.joined`)."""
    ended: bool = False
    length: int = 0

    def __post_init__(self) -> None:
        self.length = sum(map(_length, self.texts))

    @classmethod
    def of(
        cls, span: Span, voice: Voice, speed: float, pause: float, quick: bool, marks: list[str]
    ) -> _Run:
        """A run starting with `span` (words), after `pause`, `marks` (the span's own among
        them) at its start."""
        run = cls(voice, speed, pause, quick, [], [(0, name) for name in marks])
        run.add_words(span)
        return run

    def goes_on(self, span: Span, voice: Voice, speed: float) -> bool:
        """Whether `span` (words) is said on from this run: it follows a mark, or is or
        follows a pronunciation, with no pause, in the same sentence, voice and speed."""
        pronounced = bool(span.phonemes or span.pinyin)
        after_one = bool(self.pronounced) and self.pronounced[-1][1] == self.length
        return (
            (span.mark is not None or pronounced or after_one)
            and not span.pause_before_s
            and not self.ended
            and (voice, speed) == (self.voice, self.speed)
        )

    def add(self, span: Span) -> None:
        """`span`'s words after the run's, its mark before them."""
        if span.mark is not None:
            self.marks.append((self.length, span.mark))
        self.add_words(span)

    def add_words(self, span: Span) -> None:
        """`span`'s words (and their pronunciation) after the run's."""
        length = _length(span.text)
        if span.phonemes:
            self.pronounced.append((self.length, self.length + length, span.phonemes, "ipa"))
        elif span.pinyin:
            self.pronounced.append((self.length, self.length + length, span.pinyin, "x-pinyin"))
        self.texts.append(span.text)
        self.joined.append(span.joined)
        self.length += length
        self.ended = span.sentence_end

    def text(self) -> str:
        """The run's words: a space between two spans, none where the text had none (only
        markup parted them: `Nguyen's`, `Hel<mark/>lo`) nor between Chinese or Japanese
        characters (which have none)."""
        parts = self.texts[:1]
        for (before, text), joined in zip(
            itertools.pairwise(self.texts), self.joined[1:], strict=True
        ):
            close = joined or (_CJK_OR_MARK.match(before[-1:]) and _CJK_OR_MARK.match(text))
            parts.append(text if close else f" {text}")
        return "".join(parts)

    @property
    def after(self) -> tuple[str, ...]:
        """The marks after the run's last word: at the start of whatever is said next."""
        return tuple(name for place, name in self.marks if place >= self.length)


def _terms_whole(
    cut: Iterator[tuple[str, str]], pronounced: list[Pronunciation]
) -> Iterator[tuple[str, str]]:
    """The pieces of `cut` (text, `Piece.follows`) with no pronunciation's words parted:
    where a cut (the sentence limit, a sentence's end inside a pronounced "etc. And") falls
    inside them, the cut moves to before them. Said by its phonemes in the piece it starts
    in, with its words after the cut said again as written in the next, a term was heard
    twice over."""
    terms = iter(pronounced)
    term = next(terms, None)
    at = 0  # characters (not white space) of the pieces given before
    carried = ""  # the words of a term cut off the piece before
    for text, follows in cut:
        if carried:
            gap = "" if _CJK_OR_MARK.match(carried[-1]) and _CJK_OR_MARK.match(text) else " "
            text, follows = carried + gap + text, follows and carried + gap + follows
        length = _length(text)
        while term is not None and term[1] <= at + length:
            term = next(terms, None)
        carried = ""
        if term is not None and term[0] < at + length:
            inside = _offset(text, max(term[0] - at, 0))
            text, carried = text[:inside].rstrip(), text[inside:]
            follows = follows and f"{carried} {follows}"
        if text:
            yield text, follows
            at += _length(text)
    if carried:
        yield carried, ""


def _length(text: str) -> int:
    """The characters of `text` that are not white space."""
    return len(text) - sum(char.isspace() for char in text)


def _offset(text: str, count: int) -> int:
    """Where in `text` the character comes that has `count` characters before it that are
    not white space."""
    seen = 0
    for at, char in enumerate(text):
        if char.isspace():
            continue
        if seen == count:
            return at
        seen += 1
    return len(text)


class PieceCutter:
    """Cuts plans into pieces, no sentence longer than `max_chars`; each span's voice is
    the planner's choice (`Planner.voice_of`)."""

    def __init__(self, planner: Planner, max_chars: int) -> None:
        self._planner = planner
        self._max_chars = max_chars

    def pieces(self, plan: SpeechPlan, quick_start: bool = False) -> Iterator[Piece]:
        """The engine calls of a plan: sentences, none longer than the configured limit, one
        shorter than the engine's `join_below` joined to the next; with `quick_start`, a long
        first one cut short at a clause. Each span keeps its voice, speed and pause; a span
        after a mark goes on the sentence before it (`Piece.marks_within`); a pronunciation
        is a call of its own; a pause at the very end is a call of silence."""
        pause = 0.0
        marks: tuple[str, ...] = ()
        run: _Run | None = None
        first = True
        starting = FIRST_PIECES if quick_start else 0
        for span in plan.script:
            pronunciation = span.phonemes or span.pinyin
            empty = not span.text and not pronunciation
            if run is not None and empty and not span.pause_before_s:
                # A mark after the run's words so far: within it if its words go on.
                run.marks.extend((run.length, name) for name in [span.mark] if name)
                continue
            voice = self._planner.voice_of(span, plan.voice)
            speed = min(max(plan.speed * span.rate, 0.25), 4.0)
            if run is not None and not empty and run.goes_on(span, voice, speed):
                run.add(span)
                continue
            if run is not None:
                for piece in self._cut(run, starting):
                    yield piece
                    starting -= 1
                marks, run = run.after, None
            pause += span.pause_before_s
            if span.mark is not None:
                marks = (*marks, span.mark)
            if empty:
                continue
            if not span.text and pronunciation:  # an empty <phoneme>: nothing written
                alphabet = "ipa" if span.phonemes else "x-pinyin"
                yield Piece(span.text, voice, speed, pause, pronunciation, alphabet, marks)
                starting -= 1
            else:
                run = _Run.of(span, voice, speed, pause, quick_start and first, list(marks))
            pause, marks, first = 0.0, (), False
        if run is not None:
            for piece in self._cut(run, starting):
                yield piece
                starting -= 1
            marks = run.after
        if pause > 0 or marks:
            yield Piece("", plan.voice, plan.speed, pause, marks=marks)

    def _cut(self, run: _Run, starting: int) -> Iterator[Piece]:
        """A run's pieces, each with the marks that fall at its start or within it (the
        marks after its last word are the run's `after`)."""
        join_below = self._planner.catalogue.engine(run.voice).join_below
        at = 0  # characters (not white space) of the run before the piece
        pause = run.pause
        marks = iter(run.marks)  # in order of their places
        mark = next(marks, None)
        pronunciations = iter(run.pronounced)
        pronunciation = next(pronunciations, None)
        cut = self._sentences(run.text(), join_below, run.quick)
        for text, follows in _terms_whole(cut, run.pronounced):
            length = _length(text)
            starting_marks: list[str] = []
            within: list[tuple[int, str]] = []
            while mark is not None and mark[0] < at + length:
                place, name = mark
                if place == at:
                    starting_marks.append(name)
                else:
                    within.append((_offset(text, place - at), name))
                mark = next(marks, None)
            pronounced: list[Pronunciation] = []
            while pronunciation is not None and pronunciation[0] < at + length:
                first, last, phonemes, alphabet = pronunciation
                end = _offset(text, last - 1 - at) + 1  # `_terms_whole`: in this piece
                pronounced.append((_offset(text, first - at), end, phonemes, alphabet))
                pronunciation = next(pronunciations, None)
            yield Piece(
                text,
                run.voice,
                run.speed,
                pause,
                marks=tuple(starting_marks),
                first=starting > 0,
                follows=follows,
                marks_within=tuple(within),
                pronounced=tuple(pronounced),
            )
            pause, starting, at = 0.0, starting - 1, at + length

    def _sentences(
        self, text: str, join_below: int, quick_start: bool
    ) -> Iterator[tuple[str, str]]:
        """Each piece's words, and the rest of its sentence where a first piece is cut from
        one (`Piece.follows`; empty for every other piece)."""
        sentences = split_sentences(text, self._max_chars)
        first = next(sentences, None)
        if first is None:
            return
        budget = FIRST_PIECE_CJK_CHARS if _CJK.search(first) else FIRST_PIECE_CHARS
        if quick_start and len(first) > budget:
            head = next(split_sentences(first, budget), first)
            if inside_word(first, len(head)):
                # A first word longer than the budget is said whole: its halves, said apart,
                # are heard as two other words.
                space = first.find(" ", len(head))
                head = first if space < 0 else first[:space]
            rest = first[len(head) :].strip()
            if first.startswith(head) and rest:
                yield head, rest
                first = rest
        for piece in self._joined(itertools.chain([first], sentences), join_below):
            yield piece, ""

    def _joined(self, sentences: Iterator[str], join_below: int) -> Iterator[str]:
        """Each sentence shorter than `join_below` characters (a third of that in Chinese or
        Japanese) goes to the engine with the next, within the sentence limit."""
        piece: str | None = None
        for sentence in sentences:
            if piece is None:
                piece = sentence
                continue
            cjk = _CJK.search(piece) is not None
            short = len(piece) < (join_below // _CJK_PER_LATIN if cjk else join_below)
            gap = "" if cjk and _CJK.match(sentence) else " "
            if short and len(piece) + len(gap) + len(sentence) <= self._max_chars:
                piece = piece + gap + sentence
            else:
                yield piece
                piece = sentence
        if piece is not None:
            yield piece
