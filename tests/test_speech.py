"""Real engines end to end: every format with both engines, speed, long text, and sentences
synthesized in parallel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import Speech, decode
from sayfile.audio.formats import FORMATS, Samples
from sayfile.engines import Engine, build_engines
from sayfile.engines.espeak import EspeakEngine
from sayfile.errors import EngineError
from sayfile.models import Voice
from sayfile.settings import Settings
from sayfile.speech.plan import SpeechPlan
from sayfile.speech.scheduler import Lane
from sayfile.voices.catalogue import Catalogue

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow

ENGLISH = "Hello there. This is sayfile speaking, one sentence after another!"
CHINESE = "你好，世界。这是一个测试！"
CASES = [
    ("piper:en_US-joe-medium", ENGLISH),
    ("espeak:en-us", ENGLISH),
    ("espeak:cmn", CHINESE),
]


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize(("voice", "text"), CASES)
def test_every_format_with_every_engine_decodes_to_the_synthesized_length(
    speech: Speech, tmp_path: Path, voice: str, text: str, fmt: str
) -> None:
    plan = speech.plan(text, voice=voice, format=fmt)
    target = tmp_path / f"out.{FORMATS[fmt].extension}"
    result = speech.write(plan, target)
    data = target.read_bytes()
    assert result.bytes == len(data) > 0
    assert not list(tmp_path.glob("*.unfinished"))
    decoded = decode(data, fmt)
    assert result.duration_s > 1.0
    assert decoded.duration_s == pytest.approx(result.duration_s, abs=0.1)


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_streamed_pieces_make_one_valid_file(speech: Speech, fmt: str) -> None:
    plan = speech.plan(ENGLISH * 3, voice="espeak:en-us", format=fmt)
    pieces = list(speech.stream(plan))
    assert len(pieces) > 1
    samples = sum(c.size for c in speech.samples(plan))
    decoded = decode(b"".join(pieces), fmt)
    assert decoded.duration_s == pytest.approx(samples / plan.voice.sample_rate, abs=0.1)


@pytest.mark.parametrize("voice", ["piper:en_US-joe-medium", "espeak:en-us"])
def test_speed_changes_the_duration_for_every_engine(speech: Speech, voice: str) -> None:
    def seconds(speed: float) -> float:
        plan = speech.plan(ENGLISH, voice=voice, speed=speed)
        return sum(c.size for c in speech.samples(plan)) / plan.voice.sample_rate

    normal = seconds(1.0)
    assert seconds(0.25) == pytest.approx(normal * 4, rel=0.3)
    assert seconds(0.5) == pytest.approx(normal * 2, rel=0.3)
    assert seconds(2.0) == pytest.approx(normal / 2, rel=0.3)
    assert seconds(4.0) == pytest.approx(normal / 4, rel=0.3)


@pytest.mark.usefixtures("ffmpeg")
def test_long_text_is_spoken_whole(speech: Speech, tmp_path: Path) -> None:
    """20,000+ characters: the audio grows with the text and every sentence is reported."""
    paragraph = (
        "The quick brown fox jumps over the lazy dog near the river bank. "
        "Then it rests for a while, and watches the water go by. "
    )
    short = paragraph * 20
    long = paragraph * 170
    assert len(long) >= 20_000
    durations = []
    for text in (short, long):
        reports: list[float] = []
        plan = speech.plan(text, voice="espeak:en-us", format="flac")
        target = tmp_path / "long.flac"
        result = speech.write(plan, target, reports.append)
        assert reports == sorted(reports) and reports[-1] == 1.0
        # One report per piece: a sentence, or short ones together (espeak-ng's start-up).
        assert len(reports) == len(list(speech.synthesizer.piece_words(plan)))
        decoded = decode(target.read_bytes(), "flac")
        assert decoded.duration_s == pytest.approx(result.duration_s, abs=0.2)
        durations.append(result.duration_s)
    assert durations[1] / durations[0] == pytest.approx(170 / 20, rel=0.03)


# Sentences of very different lengths, so in parallel the short ones finish before the long
# ones that must come out first.
UNEVEN = (
    "This first sentence is a good deal longer than the ones that follow it, so that it is "
    "still being spoken when the next few are already done. Yes. No. Maybe so. "
    "Then another long one comes along, with commas, clauses, and a few more words to say. "
    "Fine. Good night."
)


class WatchedEspeak:
    """Real espeak-ng that counts the sentences it starts, notes how many run at once, and
    fails on any sentence containing "Kaboom" (as espeak-ng would on a broken voice)."""

    name = "espeak"
    join_below = 0  # each sentence alone, to be counted

    def __init__(self) -> None:
        self._real = EspeakEngine()
        self._lock = threading.Lock()
        self.started = 0
        self.running = 0
        self.most = 0

    def voices(self) -> list[Voice]:
        return self._real.voices()

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        with self._lock:
            self.started += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if "Kaboom" in text:
                raise EngineError(f"espeak-ng failed for voice {voice.id}: {text!r}")
            return self._real.synthesize(voice, text, speed)
        finally:
            with self._lock:
                self.running -= 1

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def make_speech() -> Iterator[Callable[..., Speech]]:
    """Services with their own engines and `parallel_sentences`, closed after the test."""
    made: list[Speech] = []

    def make(parallel: int, engine: WatchedEspeak | None = None) -> Speech:
        settings = Settings(parallel_sentences=parallel)
        engines: list[Engine] = [engine] if engine is not None else build_engines(settings)
        service = Speech(settings, Catalogue(engines, "espeak:en-us"))
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


def _sentence_threads() -> int:
    return sum(thread.name.startswith("sentence") for thread in threading.enumerate())


@pytest.mark.usefixtures("ffmpeg")
def test_parallel_sentences_give_the_same_audio_in_the_same_order(
    make_speech: Callable[..., Speech], tmp_path: Path
) -> None:
    """espeak-ng is deterministic, so 1, 2 and 3 at once give identical samples."""
    outputs = []
    for parallel in (1, 2, 3):
        service = make_speech(parallel)
        plan = service.plan(" ".join([UNEVEN] * 3), voice="espeak:en-us", format="flac")
        outputs.append(list(service.samples(plan)))
        result = service.write(plan, tmp_path / f"{parallel}.flac")
        decoded = decode((tmp_path / f"{parallel}.flac").read_bytes(), "flac")
        assert decoded.duration_s == pytest.approx(result.duration_s, abs=0.05)
    one, *others = outputs
    assert len(one) == len(list(service.synthesizer.piece_words(plan)))
    for other in others:
        assert len(other) == len(one)
        assert all(np.array_equal(a, b) for a, b in zip(one, other, strict=True))
    assert (tmp_path / "1.flac").read_bytes() == (tmp_path / "2.flac").read_bytes()


def test_piper_in_parallel_speaks_every_sentence_in_order(
    make_speech: Callable[..., Speech],
) -> None:
    """Piper samples noise, so no two runs are identical: each sentence's length is compared."""
    lengths = []
    for parallel in (1, 2):
        service = make_speech(parallel)
        plan = service.plan(UNEVEN, voice="piper:en_US-joe-medium")
        lengths.append([chunk.size for chunk in service.samples(plan)])
    assert len(lengths[0]) == len(lengths[1]) == UNEVEN.count(".")
    for one, two in zip(*lengths, strict=True):
        assert two == pytest.approx(one, rel=0.35)


def test_parallel_one_synthesizes_one_sentence_at_a_time(
    make_speech: Callable[..., Speech],
) -> None:
    engine = WatchedEspeak()
    service = make_speech(1, engine)
    plan = service.plan(UNEVEN, voice="espeak:en-us")
    assert len(service.samples(plan)) == len(list(service.synthesizer.piece_words(plan)))
    assert engine.most == 1


def test_an_engine_error_surfaces_at_its_sentence(
    make_speech: Callable[..., Speech], tmp_path: Path
) -> None:
    service = make_speech(2, WatchedEspeak())
    plan = service.plan("One. Two. Three. Kaboom here. Five. Six.", voice="espeak:en-us")
    with pytest.raises(EngineError, match="Kaboom here"):
        service.write(plan, tmp_path / "out.mp3")
    assert list(tmp_path.iterdir()) == []  # no file, no unfinished file


def test_one_pool_bounds_the_sentences_of_every_request(
    make_speech: Callable[..., Speech],
) -> None:
    """Three requests at once on a pool of two: never more than two sentences at a time,
    and each request still gets its own audio in order."""
    engine = WatchedEspeak()
    service = make_speech(2, engine)
    plans = [service.plan(f"Request {n}. " + UNEVEN, voice="espeak:en-us") for n in range(3)]
    expected = [[c.size for c in make_speech(1, WatchedEspeak()).samples(plan)] for plan in plans]

    async def all_at_once() -> list[list[int]]:
        async def sizes(plan: SpeechPlan) -> list[int]:
            turn = service.synthesizer.executor.turn(Lane.interactive)
            return [c.size async for c in service.synthesizer.samples(plan, turn)]

        return list(await asyncio.gather(*(sizes(plan) for plan in plans)))

    got = asyncio.run(all_at_once())
    assert got == expected
    assert engine.most == 2


def test_closing_the_service_stops_its_threads(
    make_speech: Callable[..., Speech],
) -> None:
    before = _sentence_threads()
    service = make_speech(2)
    plan = service.plan(UNEVEN, voice="espeak:en-us")
    assert len(service.samples(plan)) == len(list(service.synthesizer.piece_words(plan)))
    assert _sentence_threads() > before
    service.close()
    assert _sentence_threads() == before
