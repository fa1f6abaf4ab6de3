"""Each piece's audio as its file needs it: said by its engine (the words as the voice's
language says them), brought to the loudness target, at the file's sample rate, its pause
before it; the levels per target and each voice's reference sentence they are measured on."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sayfile.audio.formats import Samples, resample
from sayfile.engines import Engine
from sayfile.engines.base import Pronouncing, Pronunciation, WordSpan, WordTimed
from sayfile.errors import NothingToSay
from sayfile.models import Voice
from sayfile.speech.in_order import InOrder
from sayfile.speech.loudness import LoudnessLevel
from sayfile.speech.pieces import Piece
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.word_times import PieceWord, piece_words
from sayfile.text.normalisation import Normalisation
from sayfile.voices.catalogue import Catalogue, sample_text

log = logging.getLogger(__name__)
# Loudness targets whose per-voice gains are kept at once.
_KEPT_LEVELS = 64


@dataclass(frozen=True, slots=True)
class Finishing:
    """What every piece of one plan is brought to: the file's sample rate and loudness level,
    and the lift that makes up for what the format's decoders take off."""

    rate: int
    level: LoudnessLevel
    lift: float


class PieceAudio:
    """Makes the steps that turn pieces into audio, one per process: the catalogue's engines,
    the loudness levels in use (the `_KEPT_LEVELS` used last) and each voice's reference
    sentence, and how each language says its words (`normalisation`)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._levels: dict[tuple[float | None, float], LoudnessLevel] = {}
        self._levels_lock = threading.Lock()
        self._references = _ReferenceSentences()
        self.normalisation = Normalisation()
        # The voices whose engine told no word times (espeak-ng's command, a Piper model
        # without alignments); a set's add and `in` are safe across the steps' threads.
        self._untimed: set[str] = set()

    def level(self, target: float | None, headroom_db: float = 0.0) -> LoudnessLevel:
        """The loudness levelling to `target` LUFS (None: off), peaks kept `headroom_db`
        further under the ceiling (`LoudnessLevel`); one per target and headroom."""
        key = (target, headroom_db)
        with self._levels_lock:
            level = self._levels.pop(key, None) or LoudnessLevel(target, headroom_db=headroom_db)
            self._levels[key] = level  # the most recently used last
            if len(self._levels) > _KEPT_LEVELS:
                # Every request may name its own target: the least recently used go (their
                # gains are measured again, in milliseconds, from the kept references).
                del self._levels[next(iter(self._levels))]
            return level

    def finishing(self, plan: SpeechPlan) -> Finishing:
        """What `plan`'s pieces are brought to: its voice's rate, its loudness target with the
        headroom its format's encoder needs."""
        # Levelled audio is made that much louder than the target as the format's decoders
        # will take off, so that what is heard is at the target.
        fmt = plan.format
        lift = 10 ** (-fmt.decoded_gain_db / 20)
        level = self.level(plan.loudness, fmt.peak_overshoot_db)
        return Finishing(plan.voice.sample_rate, level, lift)

    def step(
        self, piece: Piece, index: int, final: bool, finishing: Finishing, in_order: InOrder[Any]
    ) -> PieceStep:
        """The step that makes piece `index` (`final`: the last) and offers it to `in_order`."""
        engine = self._catalogue.engine(piece.voice)
        return PieceStep(
            engine,
            piece,
            finishing,
            index,
            final,
            in_order,
            self._references,
            self.normalisation,
            self._untimed,
        )


def _engine_ready(engine: Engine, voice: Voice) -> bool:
    """Whether `engine` has what `voice` needs loaded (an engine that does not say, has)."""
    ready: Callable[[Voice], bool] | None = getattr(engine, "ready", None)
    return ready is None or ready(voice)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a piece's step made: its samples and its pause's (at the file's rate), the
    engine's computing seconds, its words (None: not timed) and the marks within it, each
    with its seconds from the start of the piece's audio (its pause included)."""

    size: int
    lead: int
    seconds: float
    words: list[PieceWord] | None
    marks_within: list[tuple[float, str]]


def mark_time(words: list[PieceWord], at: int, lead_s: float) -> float:
    """When the mark before character `at` of a piece comes, from its `words`: where the
    first word from there begins; inside a word (one the engine said together with the one
    before), its share of the word's time by characters; after the last word, its end."""
    for start, end, begin, stop in words:
        if end <= at:
            continue
        if start >= at:
            return begin
        return begin + (stop - begin) * (at - start) / (end - start)
    return words[-1][3] if words else lead_s


@dataclass(frozen=True, slots=True)
class PieceStep:
    """One piece through the engine, timed, levelled, brought to the file's rate and its pause
    put before it, then offered for encoding in order (runs on an executor thread); gives what
    it made (`StepResult`), its marks within timed by its words. The engine gets the
    words as its voice's language says them (`Normalisation`); timings keep them as written."""

    engine: Engine
    piece: Piece
    finishing: Finishing
    index: int
    final: bool
    in_order: InOrder[Any]
    references: _ReferenceSentences
    normalisation: Normalisation
    untimed: set[str]

    @property
    def heavy(self) -> bool:
        """Whether the voice is not set up yet (its loudness reference, its engine's model or
        reader), which makes this step long."""
        voice = self.piece.voice
        levelled = self.finishing.level.target_lufs is not None
        unmeasured = levelled and not self.references.has(voice.id)
        return unmeasured or not _engine_ready(self.engine, voice)

    def __call__(self) -> StepResult:
        piece, voice, rate = self.piece, self.piece.voice, self.finishing.rate
        started = time.perf_counter()
        samples, words, within = self._made(round(piece.pause_s * rate) / rate)
        seconds = time.perf_counter() - started
        if samples.size:
            level = self.finishing.level
            gain = level.gain_for(voice.id, voice.sample_rate, self._reference)
            levelled = level.apply(samples, gain, voice.sample_rate, self.finishing.lift)
            samples = resample(levelled, voice.sample_rate, rate)
        lead = round(piece.pause_s * rate)
        if lead:
            samples = np.concatenate([np.zeros(lead, dtype=np.int16), samples])
        self.in_order.offer(self.index, samples, self.final)
        return StepResult(samples.size, lead, seconds, words, within or [])

    def _made(
        self, lead_s: float
    ) -> tuple[Samples, list[PieceWord] | None, list[tuple[float, str]]]:
        """The piece's samples at its voice's rate, its words' times (None: not known) and
        its marks', in one engine call where that can place them, else part by part."""
        piece = self.piece
        if piece.marks_within and piece.voice.id in self.untimed:
            # A voice whose words its engine cannot place cannot have a mark placed inside
            # what it says in one go: the parts between the marks are said apart.
            return self._in_parts(lead_s, self._pronunciations_alone())
        spoken = self._whole()
        if spoken is None:
            # Pronunciations the engine cannot say inside the sentence: those it can say alone
            # are said apart, as before; where it reads none, the written words in one call.
            alone = self._pronunciations_alone()
            if alone:
                return self._in_parts(lead_s, alone)
            spoken = self._spoken(piece.text)
        samples, said, timed = spoken
        if timed is None:
            # A voice whose words its engine cannot place (remembered, so that the next piece
            # with marks is not said twice): its marks where their parts begin.
            self.untimed.add(piece.voice.id)
            if piece.marks_within:
                return self._in_parts(lead_s, {})
            return samples, None, []
        words = piece_words(piece.text, said, timed, piece.voice.sample_rate, lead_s)
        return samples, words, [(mark_time(words, at, lead_s), n) for at, n in piece.marks_within]

    def _whole(self) -> tuple[Samples, str, list[WordSpan] | None] | None:
        """The piece said in one call (`_spoken`); with pronunciations in it, by an engine
        that can say them there (`Pronouncing`), else None."""
        piece = self.piece
        if not piece.pronounced:
            return self._spoken(piece.text, piece.phonemes, piece.alphabet)
        if not isinstance(self.engine, Pronouncing):
            return None
        said, found = self._said_pronounced()
        try:
            made = self.engine.synthesize_pronounced(piece.voice, said, piece.speed, found)
        except NothingToSay:
            return None
        return None if made is None else (made[0], said, made[1])

    def _pronunciations_alone(self) -> dict[tuple[int, int], Samples]:
        """The piece's pronunciations the engine can say alone (`speak_phonemes`), by their
        words' (start, end) in the text."""
        piece = self.piece
        alone = {}
        for start, end, phonemes, alphabet in piece.pronounced:
            said = self.engine.speak_phonemes(piece.voice, phonemes, alphabet, piece.speed)
            if said is not None:
                alone[(start, end)] = said
        return alone

    def _said_pronounced(self) -> tuple[str, list[Pronunciation]]:
        """The piece's words as said, each pronounced one as written, and where those are in
        them: the words between normalised as the voice's language says them."""
        text, language = self.piece.text, self.piece.voice.language
        # Each run of words, whether a space came before it, and its pronunciation (None:
        # said as the language says it).
        runs: list[tuple[str, bool, tuple[str, str] | None]] = []
        done = 0
        # The words after the last pronunciation come as a last run (the end 0 marks it).
        for start, end, phonemes, alphabet in [*self.piece.pronounced, (len(text), 0, "", "")]:
            between = text[done:start]
            if between.strip():
                words = self.normalisation.said(between.strip(), language).strip()
                runs.append((words, between[:1].isspace(), None))
            if end:
                spaced = text[start - 1 : start].isspace()
                runs.append((text[start:end], spaced, (phonemes, alphabet)))
                done = end
        said = ""
        found: list[Pronunciation] = []
        for words, spaced, pronunciation in runs:
            said += " " if spaced and said else ""
            if pronunciation is not None:
                found.append((len(said), len(said) + len(words), *pronunciation))
            said += words
        return said, found

    def _spoken(
        self, text: str, phonemes: str | None = None, alphabet: str = "ipa"
    ) -> tuple[Samples, str, list[WordSpan] | None]:
        """`text`'s samples in the piece's voice, its words as said, and their times where
        the engine tells; said by `phonemes` where the engine can read them (its written
        words one word, the whole of its audio)."""
        piece = self.piece
        if phonemes is not None:
            said = self.engine.speak_phonemes(piece.voice, phonemes, alphabet, piece.speed)
            if said is not None:
                return said, text, [(0, len(text), 0, said.size)]
        if not text:
            return np.zeros(0, dtype=np.int16), "", []
        words = self.normalisation.said(text, piece.voice.language)
        if not any(char.isalnum() for char in words):  # nothing to say: emoji, marks
            return np.zeros(0, dtype=np.int16), "", []
        try:
            return self._said(words)
        except NothingToSay as error:  # letters the voice has no sound for: silence
            log.warning("%s: a piece is said as silence: %s", piece.voice.id, error)
            return np.zeros(0, dtype=np.int16), "", []

    def _in_parts(
        self, lead_s: float, alone: dict[tuple[int, int], Samples]
    ) -> tuple[Samples, list[PieceWord] | None, list[tuple[float, str]]]:
        """The piece's words said part by part, cut at its marks and around the
        pronunciations said `alone` (by their words' place; the others said as written);
        the words' times (None where a part's are not known) and each mark's, where its part
        begins."""
        piece, rate = self.piece, self.piece.voice.sample_rate
        text = piece.text
        cuts = {0, len(text), *(at for at, _ in piece.marks_within)}
        cuts.update(place for span in alone for place in span)
        parts: list[Samples] = []
        words: list[PieceWord] | None = []
        within = []
        made = 0
        for begin, end in itertools.pairwise(sorted(cuts)):
            begins_s = lead_s + made / rate
            within += [(begins_s, name) for at, name in piece.marks_within if at == begin]
            part = text[begin:end]
            skip = len(part) - len(part.lstrip())
            if not part.strip():
                continue
            timed: list[WordSpan] | None
            if (begin, end) in alone:
                samples = alone[(begin, end)]
                said, timed = part.strip(), [(0, len(part.strip()), 0, samples.size)]
            else:
                samples, said, timed = self._spoken(part.strip())
            if timed is None or words is None:
                words = None
            else:
                found = piece_words(part.strip(), said, timed, rate, begins_s)
                words += [(a + begin + skip, b + begin + skip, s, e) for a, b, s, e in found]
            parts.append(samples)
            made += samples.size
        return np.concatenate([np.zeros(0, np.int16), *parts]).astype(np.int16), words, within

    def _said(self, words: str) -> tuple[Samples, str, list[WordSpan] | None]:
        """The engine saying `words` (the piece's text as said)."""
        piece = self.piece
        # A stream's first piece may take more threads (the engine's quick path), and be said
        # as the head of the sentence it was cut from.
        if isinstance(self.engine, WordTimed):
            follows = piece.follows and self.normalisation.said(piece.follows, piece.voice.language)
            samples, timed = self.engine.synthesize_timed(
                piece.voice, words, piece.speed, piece.first, follows
            )
            return samples, words, timed
        first = getattr(self.engine, "synthesize_first", None) if piece.first else None
        samples = (first or self.engine.synthesize)(piece.voice, words, piece.speed)
        return samples, words, None

    def _reference(self) -> Samples:
        """What the voice's loudness is measured on: its own sample sentence."""
        return self.references.of(self.engine, self.piece.voice)


class _ReferenceSentences:
    """Each voice's sample sentence as the voice says it, made once per voice (however many
    threads ask at once) and kept for every loudness target: a request with a new `loudness`
    value measures again, in milliseconds, without making the sentence again."""

    def __init__(self) -> None:
        self._made: dict[str, Samples] = {}
        self._making: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def has(self, voice_id: str) -> bool:
        """Whether the voice's sample sentence is made already."""
        return voice_id in self._made

    def of(self, engine: Engine, voice: Voice) -> Samples:
        """The voice's sample sentence, made on the first call. An engine's exception
        propagates, and nothing is kept."""
        with self._lock:
            made = self._made.get(voice.id)
            if made is not None:
                return made
            making = self._making.setdefault(voice.id, threading.Lock())
        with making:
            with self._lock:
                made = self._made.get(voice.id)
            if made is None:
                made = engine.synthesize(voice, sample_text(voice), 1.0)
                with self._lock:
                    self._made[voice.id] = made
        return made
