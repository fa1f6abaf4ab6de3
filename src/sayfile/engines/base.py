"""The engine interface every speech engine implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sayfile.audio.formats import Samples
from sayfile.models import Voice


class Engine(Protocol):
    """A speech engine: lists its voices and turns one sentence into samples.

    `voices()` is cheap after the first call. `synthesize(voice, text, speed)` takes one
    sentence (already normalised, at most a few hundred characters) and returns mono int16
    samples at `voice.sample_rate`, spoken `speed` times faster than normal (0.25-4.0). It is
    safe to call from several threads at once; it raises EngineError when the engine fails.
    `close()` releases loaded models and processes. `join_below`: sentences shorter than
    this many characters are handed over together with the next one, for engines whose every
    call pays a start-up (0: every sentence alone, which keeps each sentence's timing).
    """

    name: str
    join_below: int

    def voices(self) -> list[Voice]: ...

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples: ...

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        """Speak a pronunciation given as `phonemes` in `alphabet` ("ipa", or "x-pinyin":
        pinyin with tone numbers), like `synthesize`; None when this engine or voice cannot
        read that alphabet (the caller then speaks the written words)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Blending(Protocol):
    """An engine that can mix its voices into a new one (Kokoro: its voices are style
    vectors, and a weighted sum of them is a voice)."""

    def blend(self, parts: Sequence[tuple[Voice, int]]) -> Voice | None:
        """The voice mixing `parts`: this engine's voices, of one language, each with its
        share in percent (the shares sum to 100, the largest first: the first voice leads,
        and its language and accent are the blend's). Its id names the parts and shares, so
        the same mix always has the same id and the same sound."""
        ...


WordSpan = tuple[int, int, int, int]
"""A word heard: (start_char, end_char) in the text the engine was given, and (start_sample,
end_sample) in the samples it gave back."""


@runtime_checkable
class WordTimed(Protocol):
    """An engine that can say when each word is heard (Kokoro: its model's durations)."""

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """What `synthesize` gives, and each word of `text` with where it is heard, in order
        (every word once; words the engine said together share one entry spanning them);
        None for a voice whose words this engine cannot place. `first`: a stream's first
        piece, which an engine may make on a quicker path (more threads, fewer frames);
        `follows`: the rest of the sentence such a piece was cut from (`Piece.follows`),
        which an engine may ignore."""
        ...


Pronunciation = tuple[int, int, str, str]
"""A pronunciation inside a text: (start_char, end_char) of the words it says, its phonemes,
and their alphabet ("ipa", or "x-pinyin": pinyin with tone numbers)."""


@runtime_checkable
class Pronouncing(Protocol):
    """An engine that can say a pronunciation inside a sentence (Kokoro: its phonemes put in
    place of the words' in the sentence's own)."""

    def synthesize_pronounced(
        self, voice: Voice, text: str, speed: float, pronounced: Sequence[Pronunciation]
    ) -> tuple[Samples, list[WordSpan] | None] | None:
        """`text` (words as said) said in one call with each of `pronounced` (in order, not
        overlapping) said by its phonemes in place of its words, and the words' times as
        `WordTimed` gives them (each pronounced one word); None where `voice` cannot read one
        of them (the caller then says them apart, as `speak_phonemes` would)."""
        ...
