"""The speech pipeline with the tone engine: pieces, files and streams every format, errors,
early close, the same audio however many threads, and the per-piece observer."""

from __future__ import annotations

import re
import threading
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import decode
from sayfile.audio.formats import FORMATS, Samples
from sayfile.engines.tone import ToneEngine
from sayfile.errors import EngineError, NoSpeech, NothingToSay
from sayfile.models import Voice
from sayfile.settings import Settings
from sayfile.speech.in_order import InOrder
from sayfile.speech.pieces import FIRST_PIECE_CHARS
from sayfile.speech.pipeline import Observer
from sayfile.speech.scheduler import Lane, SentenceExecutor
from sayfile.speech.synthesizer import SpeechResult, Synthesizer
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import build_synthesizer

# The tone voice at speed 1: each word is a 0.12 s beep and a 0.04 s gap, each piece ends in a
# 0.2 s pause.
WORD_S = 0.12 + 0.04
PAUSE_S = 0.2
RATE = 16_000

TEXT = "One two three. Four five! Six seven eight nine? Ten."
TEXT_S = 10 * WORD_S + 4 * PAUSE_S


# Lossy codecs pad the audio they cannot mark as padding: ADTS AAC one priming frame and the
# last frame's rest (2 x 1024 samples at 16 kHz); a streamed MP3, which has no LAME header to
# say so, the encoder delay (1105 samples) and the last frame's rest (576). Never shorter.
PADDING_S = {"mp3": 0.11, "aac": 0.13, "m4b": 0.13}


def assert_decodes_to(data: bytes, fmt: str, seconds: float) -> None:
    decoded = decode(data, fmt).duration_s
    assert seconds - 0.01 <= decoded <= seconds + PADDING_S.get(fmt, 0.01), decoded


def tone_seconds(pieces: list[str]) -> float:
    return sum(len(piece.split()) * WORD_S + PAUSE_S for piece in pieces)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


MakeSynthesizer = Callable[..., Synthesizer]


@pytest.fixture
def make_synthesizer(tmp_path: Path) -> Iterator[MakeSynthesizer]:
    """Synthesizers wired as the service wires them, with the tone engine."""
    made: list[Synthesizer] = []

    def make(parallel: int = 2, observer: Observer | None = None) -> Synthesizer:
        settings = Settings(
            engines=["tone"],
            default_voice="tone:beep",
            parallel_sentences=parallel,
            data_dir=tmp_path / "data",
        )
        synthesizer = build_synthesizer(settings, observer)
        made.append(synthesizer)
        return synthesizer

    yield make
    for synthesizer in made:
        synthesizer.executor.close()
        synthesizer.catalogue.close()


@pytest.fixture
def synthesizer(make_synthesizer: MakeSynthesizer) -> Synthesizer:
    return make_synthesizer()


async def collect_samples(synthesizer: Synthesizer, text: str) -> list[Samples]:
    plan = synthesizer.planner.plan_of(text, "tone:beep", "wav", 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "test")
    return [chunk async for chunk in synthesizer.samples(plan, turn)]


def long_sentence(words: list[str]) -> str:
    """One sentence of about 400 characters made of `words` over and over."""
    out: list[str] = []
    while len(" ".join(out)) < 395:
        out.append(words[len(out) % len(words)])
    return " ".join(out) + "."


@pytest.mark.parametrize(
    ("words", "ends"),
    [
        # A clause ends within the first FIRST_PIECE_CHARS characters: cut after its comma.
        (["when", "the", "rain", "came,", "everyone", "ran", "inside", "quickly"], ","),
        # No punctuation at all: cut at a space, after a whole word.
        (["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"], None),
    ],
)
def test_quick_start_cuts_a_long_first_sentence_at_a_clause(
    synthesizer: Synthesizer, words: list[str], ends: str | None
) -> None:
    first = long_sentence(words)
    assert 390 <= len(first) <= 400
    text = f"{first} And a short second one. Third."
    plan = synthesizer.planner.plan_of(text, "tone:beep", "mp3", 1.0)

    pieces = list(synthesizer.piece_words(plan, quick_start=True))

    head, rest, *others = pieces
    assert 0 < len(head) <= FIRST_PIECE_CHARS
    assert text.startswith(head)
    if ends is not None:
        assert head.endswith(ends)
    else:
        assert text[len(head)] == " "  # a whole word, not half of one
        assert head.split()[-1] in words
    assert rest == first[len(head) :].strip()  # the rest of the sentence kept whole
    assert others == ["And a short second one.", "Third."]
    assert squeezed("".join(pieces)) == squeezed(text)


@pytest.mark.parametrize(
    ("start", "head"),
    [
        # A first word longer than the first piece is that piece, whole.
        ([], "Donaudampfschifffahrtsgesellschaftskapitän"),
        # A word the first piece's limit falls in is left to the rest of the sentence.
        (["A"], "A"),
    ],
)
def test_quick_start_never_cuts_a_word(
    synthesizer: Synthesizer, start: list[str], head: str
) -> None:
    """The first piece had been the first 30 characters: "Donaudampfschifffahrtsgesellsc"
    said alone, and then "haftskapitän" as a word of its own."""
    words = [*start, "Donaudampfschifffahrtsgesellschaftskapitän", *["sailed", "on"] * 30]
    first = " ".join(words) + "."
    plan = synthesizer.planner.plan_of(f"{first} Second.", "tone:beep", "mp3", 1.0)
    pieces = list(synthesizer.piece_words(plan, quick_start=True))
    assert pieces[:2] == [head, first[len(head) :].strip()]


def test_without_quick_start_the_first_sentence_is_whole(synthesizer: Synthesizer) -> None:
    first = long_sentence(["when", "the", "rain", "came,", "everyone", "ran"])
    text = f"{first} Second. Third."
    plan = synthesizer.planner.plan_of(text, "tone:beep", "mp3", 1.0)
    assert list(synthesizer.piece_words(plan)) == [first, "Second.", "Third."]
    # A short first sentence is not cut, quick start or not.
    short = synthesizer.planner.plan_of(TEXT, "tone:beep", "mp3", 1.0)
    assert list(synthesizer.piece_words(short, quick_start=True)) == list(
        synthesizer.piece_words(short)
    )


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_write_makes_a_whole_file_of_the_right_duration(
    synthesizer: Synthesizer, tmp_path: Path, fmt: str
) -> None:
    plan = synthesizer.planner.plan_of(TEXT, "tone:beep", fmt, 1.0)
    path = tmp_path / f"speech.{FORMATS[fmt].extension}"
    turn = synthesizer.executor.turn(Lane.background, "test")

    result = await synthesizer.write(plan, path, turn)

    assert result.duration_s == pytest.approx(TEXT_S, abs=1e-3)
    assert result.bytes == path.stat().st_size
    assert_decodes_to(path.read_bytes(), fmt, TEXT_S)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [path.name]


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", [name for name, f in FORMATS.items() if f.streamable])
async def test_stream_pieces_together_decode_to_the_same_duration(
    synthesizer: Synthesizer, fmt: str
) -> None:
    plan = synthesizer.planner.plan_of(TEXT, "tone:beep", fmt, 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "test")

    parts = [part async for part in synthesizer.stream(plan, turn)]

    assert len(parts) > 1
    assert_decodes_to(b"".join(parts), fmt, TEXT_S)


@pytest.mark.usefixtures("ffmpeg")
async def test_a_stream_of_a_long_first_sentence_starts_with_a_short_piece(
    synthesizer: Synthesizer,
) -> None:
    first = long_sentence(["when", "the", "rain", "came,", "everyone", "ran"])
    text = f"{first} Second one here."
    plan = synthesizer.planner.plan_of(text, "tone:beep", "wav", 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "test")

    parts = [part async for part in synthesizer.stream(plan, turn)]

    # The cut adds one piece, so one pause, to the words of the text.
    expected = len(text.split()) * WORD_S + 3 * PAUSE_S
    assert tone_seconds(list(synthesizer.piece_words(plan, quick_start=True))) == pytest.approx(
        expected
    )
    assert_decodes_to(b"".join(parts), "wav", expected)


async def test_an_engine_error_fails_the_write_and_leaves_no_file(
    synthesizer: Synthesizer, tmp_path: Path
) -> None:
    text = "One two. Three four. Five FAIL six. Seven eight. Nine."
    plan = synthesizer.planner.plan_of(text, "tone:beep", "mp3", 1.0)
    path = tmp_path / "speech.mp3"
    turn = synthesizer.executor.turn(Lane.background, "test")

    with pytest.raises(EngineError, match="tone:beep"):
        await synthesizer.write(plan, path, turn)

    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []
    assert synthesizer.executor.waiting() == 0


class _Mute(ToneEngine):
    """The tone engine, with no sound for a piece that has the word MUTE (as Kokoro's Mandarin
    voice has none for Danish Æ or bopomofo)."""

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        if "MUTE" in text:
            raise NothingToSay(f"no phoneme of {text!r} is in the voice's vocabulary")
        return super().synthesize(voice, text, speed)


async def _written_by_mute(text: str, path: Path, fmt: str = "wav") -> SpeechResult:
    executor = SentenceExecutor(1)
    try:
        synthesizer = Synthesizer(Catalogue([_Mute()], "tone:beep"), executor, 400)
        plan = synthesizer.planner.plan_of(text, "tone:beep", fmt, 1.0)
        return await synthesizer.write(plan, path, executor.turn(Lane.interactive, "test"))
    finally:
        executor.close()


async def test_a_piece_the_voice_has_no_sound_for_is_silent_and_keeps_its_place(
    tmp_path: Path,
) -> None:
    path = tmp_path / "speech.wav"
    result = await _written_by_mute("One two. Æble MUTE. Three four.", path)
    assert [t.text for t in result.timings.pieces] == ["One two.", "Æble MUTE.", "Three four."]
    silent = result.timings.pieces[1]
    assert silent.start == silent.end == result.timings.pieces[0].end
    assert result.duration_s == pytest.approx(tone_seconds(["One two.", "Three four."]))
    with wave.open(str(path)) as audio:
        assert audio.getnframes() / audio.getframerate() == pytest.approx(result.duration_s)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
async def test_text_the_voice_has_no_sound_for_at_all_is_refused_and_leaves_no_file(
    tmp_path: Path, fmt: str
) -> None:
    # Every encoder finishes a file of no samples (LAME had refused: "Not currently
    # encoding", a 500), and the request is refused for what it is.
    path = tmp_path / f"speech.{fmt}"
    with pytest.raises(NoSpeech, match="tone:beep has no sound for any of this text"):
        await _written_by_mute("Æble MUTE. Øl MUTE.", path, fmt)
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize("sizes", [(0,), (0, 0, 0), (0, 3, 0), (2,)])
def test_an_output_is_finished_only_once_it_was_given_a_sample(sizes: tuple[int, ...]) -> None:
    """`last` (the file's finish: its trailer, fsync and rename) runs after the last piece only
    if some piece had a sample; a text with no sound leaves its output unfinished, to be
    abandoned, rather than finishing a file of nothing that would then have to be removed."""
    finished: list[bytes] = []

    def last(result: bytes) -> bytes:
        finished.append(result)
        return result + b"end"

    in_order: InOrder[bytes] = InOrder(lambda samples: samples.tobytes(), last)
    for index, size in enumerate(sizes):
        in_order.offer(index, np.ones(size, dtype=np.int16), index == len(sizes) - 1)
    results = [in_order.result(index) for index in range(len(sizes))]
    assert len(finished) == (1 if any(sizes) else 0)
    assert results[-1].endswith(b"end") == any(sizes)


class CountingEngine:
    """The tone engine, counting the pieces it was asked to speak."""

    name = "tone"
    join_below = 0

    def __init__(self) -> None:
        self._engine = ToneEngine()
        self._lock = threading.Lock()
        self.calls = 0

    def voices(self) -> list[Voice]:
        return self._engine.voices()

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        with self._lock:
            self.calls += 1
        return self._engine.synthesize(voice, text, speed)

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None

    def close(self) -> None:
        self._engine.close()


async def test_closing_a_stream_early_cancels_the_pieces_queued_ahead() -> None:
    engine = CountingEngine()
    executor = SentenceExecutor(2, "test-stream")
    synthesizer = Synthesizer(Catalogue([engine], "tone:slow"), executor, 400)
    text = " ".join(f"Sentence number {n} is here." for n in range(40))
    plan = synthesizer.planner.plan_of(text, "tone:slow", "mp3", 1.0)
    # Another client holds one of the two threads: the stream queues two pieces per thread
    # ahead (four) but only one runs at a time, so some are still queued when it is closed.
    entered, opened = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        opened.wait(5)

    holding = executor.turn(Lane.interactive, "other").submit(hold, 0)
    try:
        assert entered.wait(5)
        stream = synthesizer.stream(plan, executor.turn(Lane.interactive, "listener"))
        assert await anext(stream)
        spoken = engine.calls
        await stream.aclose()
        # A later request of the same client goes after whatever of the stream's is left.
        await executor.turn(Lane.interactive, "listener").run(lambda: None)
        assert executor.waiting() == 0
        # Those spoken when the first bytes came, and at most the one the thread was starting
        # then; the pieces queued behind it never reach the engine.
        assert engine.calls <= spoken + 1
        assert engine.calls < 10  # of 40
    finally:
        opened.set()
        holding.result(5)
        executor.close()


async def test_samples_are_the_same_with_one_thread_or_two(
    make_synthesizer: MakeSynthesizer,
) -> None:
    text = " ".join(f"{' '.join(['word'] * (n % 5 + 1))} {n}." for n in range(16))
    one = await collect_samples(make_synthesizer(parallel=1), text)
    two = await collect_samples(make_synthesizer(parallel=2), text)

    assert len(one) == len(two) == 16
    for a, b in zip(one, two, strict=True):
        assert a.dtype == b.dtype == np.int16
        assert a.tobytes() == b.tobytes()
    # In order: piece n has (n % 5 + 2) words.
    assert [chunk.size for chunk in two] == [
        round(((n % 5 + 2) * WORD_S + PAUSE_S) * RATE) for n in range(16)
    ]


async def test_the_observer_hears_of_every_piece(make_synthesizer: MakeSynthesizer) -> None:
    heard: list[tuple[str, float, float]] = []
    synthesizer = make_synthesizer(observer=lambda *call: heard.append(call))

    chunks = await collect_samples(synthesizer, TEXT)

    assert len(chunks) == 4
    assert [engine for engine, _, _ in heard] == ["tone"] * 4
    assert all(seconds >= 0 for _, seconds, _ in heard)
    assert [audio for _, _, audio in heard] == pytest.approx(
        [3 * WORD_S + PAUSE_S, 2 * WORD_S + PAUSE_S, 4 * WORD_S + PAUSE_S, WORD_S + PAUSE_S]
    )


async def test_progress_rises_to_the_whole_text(synthesizer: Synthesizer) -> None:
    seen: list[float] = []

    async def progress(fraction: float) -> None:
        seen.append(fraction)

    plan = synthesizer.planner.plan_of(TEXT, "tone:beep", "wav", 1.0)
    turn = synthesizer.executor.turn(Lane.interactive, "test")
    async for _ in synthesizer.samples(plan, turn, progress):
        pass

    assert len(seen) == 4
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # espeak-ng starts a process per piece: a short sentence goes with the next.
        (
            "Order 12 is ready at the desk; thank you for waiting, friend.",
            ["Order 12 is ready at the desk; thank you for waiting, friend."],
        ),
        (
            "Hi. Yes. " + "A sentence long enough to stand on its own in every way it can. " * 2,
            [
                "Hi. Yes. A sentence long enough to stand on its own in every way it can.",
                "A sentence long enough to stand on its own in every way it can.",
            ],
        ),
        # Chinese counts a third of the characters, and joins without a space.
        (
            "你好。今天天气很好。我们去公园散步吧，好不好？",
            ["你好。今天天气很好。我们去公园散步吧，好不好？"],
        ),
    ],
)
def test_engines_with_a_start_up_get_short_sentences_together(
    text: str, expected: list[str]
) -> None:
    engine = CountingEngine()
    engine.join_below = 60
    synthesizer = Synthesizer(Catalogue([engine], "tone:beep"), SentenceExecutor(1), 400)
    plan = synthesizer.planner.plan_of(text, "tone:beep", "mp3", 1.0)
    assert list(synthesizer.piece_words(plan)) == expected
    assert squeezed("".join(synthesizer.piece_words(plan, quick_start=True))) == squeezed(text)


def test_the_event_loop_never_waits_for_a_piece_being_encoded() -> None:
    """A thread encoding a piece (or flushing the file to disk after the last one) holds the
    order's lock; the loop takes an earlier piece's result and closes the order without it,
    and what is abandoned is abandoned only once that encoding is over."""
    encoding = threading.Event()
    release = threading.Event()
    events: list[str] = []

    def consume(samples: Samples) -> bytes:
        if samples.size == 2:
            encoding.set()
            release.wait(10)
            events.append("encoded")
        return samples.tobytes()

    in_order: InOrder[bytes] = InOrder(consume, None)
    in_order.offer(0, np.zeros(1, dtype=np.int16), False)
    second = threading.Thread(target=in_order.offer, args=(1, np.zeros(2, dtype=np.int16), False))
    second.start()
    assert encoding.wait(10)
    assert in_order.result(0) == b"\0\0"
    in_order.close()
    events.append("closed")
    abandoning = threading.Thread(
        target=in_order.after_consumers, args=(lambda: events.append("abandoned"),)
    )
    abandoning.start()
    release.set()
    second.join(10)
    abandoning.join(10)
    assert events == ["closed", "encoded", "abandoned"]
    # Closed: later pieces are not encoded.
    in_order.offer(2, np.zeros(3, dtype=np.int16), False)
    assert events == ["closed", "encoded", "abandoned"]


def test_a_requests_lexicon_is_built_once_for_the_same_entries(synthesizer: Synthesizer) -> None:
    """A request's entries are merged with the configured lexicons into one automaton; the
    same entries again (another request, a worker planning the job) reuse it rather than
    building it again, and what they say is applied."""
    from sayfile.text.spans import Span

    entries = ({"language": "en", "term": "tts", "replacement": "text to speech"},)
    again = ({"term": "tts", "replacement": "text to speech", "language": "en"},)
    first = synthesizer.planner.pronounced([Span("I like TTS.")], "en", entries)
    assert [span.text for span in first.spans] == ["I like text to speech."]
    assert first.aliases == [(7, 10, "text to speech")]
    assert synthesizer.planner._lexicon_with(entries) is synthesizer.planner._lexicon_with(again)
    assert synthesizer.planner._lexicon_with(()) is synthesizer.lexicon


async def test_the_catalogue_given_to_the_wiring_is_the_one_that_speaks(tmp_path: Path) -> None:
    """The planner, the pipeline and the synthesizer share one catalogue, which nobody can
    swap afterwards (a swapped one was seen by the planner but not by the pipeline)."""
    engine = CountingEngine()
    settings = Settings(engines=["tone"], default_voice="tone:beep", data_dir=tmp_path)
    synthesizer = build_synthesizer(settings, catalogue=Catalogue([engine], "tone:beep"))
    try:
        samples = await collect_samples(synthesizer, TEXT)
        assert engine.calls == 4  # the text's four sentences, through the given engine
        assert sum(len(chunk) for chunk in samples) == pytest.approx(TEXT_S * RATE, abs=8)
        with pytest.raises(AttributeError):
            synthesizer.catalogue = Catalogue([ToneEngine()], "tone:beep")  # type: ignore[misc]
        assert synthesizer.catalogue is synthesizer.planner.catalogue
    finally:
        synthesizer.executor.close()
        synthesizer.catalogue.close()


def test_a_plans_words_and_pauses_are_what_its_spans_say_and_carried_by_replace(
    synthesizer: Synthesizer,
) -> None:
    """A plan's words and seconds of pauses are derived once, where it is made (a book-size
    document's spans took milliseconds to join on the event loop for each caller): they
    are what its spans say, after the lexicon, and a plan made again from it (another
    format, another voice's rate) carries them unchanged."""
    import dataclasses

    from sayfile.audio.formats import audio_format
    from sayfile.models import SpeechRequest
    from sayfile.speech.plan import validate

    settings = Settings(engines=["tone"], default_voice="tone:beep")
    ssml = (
        "<speak><s>I like TTS.</s><break time='1.5s'/><s>Said twice.</s>"
        "<p><s>A new paragraph.</s></p></speak>"
    )
    entries = ({"language": "zxx", "term": "tts", "replacement": "text to speech"},)
    request = SpeechRequest(text=ssml, voice="tone:beep", lexicon=entries)
    plan = validate(request, synthesizer, settings, None)
    assert plan.words == " ".join(span.text for span in plan.script if span.text)
    assert "text to speech" in plan.words and "TTS" in plan.written_words
    assert plan.silence_s == sum(span.pause_before_s for span in plan.script) >= 1.5
    again = dataclasses.replace(plan, format=audio_format("mp3")).at_rate_of(plan.voice)
    assert (again.words, again.silence_s) == (plan.words, plan.silence_s)
    plain = validate(SpeechRequest(text="Just  words."), synthesizer, settings, None)
    assert (plain.words, plain.silence_s, plain.spans) == ("Just words.", 0.0, ())
