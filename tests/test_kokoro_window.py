"""A stream's first Kokoro piece with only a window of its frames made (issue 27): the cutter
gives the first piece the rest of its sentence and no other piece any; the runner sends that
rest after the piece and asks the model for the piece's frames only, its words timed inside
them; the real model's whole window is its unedited audio, bit for bit, and a windowed first
piece is heard as its words (slow)."""

from __future__ import annotations

import asyncio
import statistics
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from listening import (
    Listener,
    character_error_rate,
    simplified,
    wav_bytes,
    word_error_rate,
)
from sayfile.audio.formats import Samples
from sayfile.engines.base import WordSpan
from sayfile.engines.bounded import BoundedEngine
from sayfile.engines.kokoro_run import (
    FIRST_FADE,
    FIRST_FOLLOWS,
    FIRST_LEAD_FRAMES,
    FIRST_TAIL_FRAMES,
    KokoroRun,
)
from sayfile.engines.kokoro_timed_model import WHOLE
from sayfile.engines.tone import ToneEngine
from sayfile.models import Voice
from sayfile.settings import Settings
from sayfile.speech.scheduler import Lane
from sayfile.voices.catalogue import Catalogue
from sayfile.wiring import build_synthesizer

VOCAB = {symbol: number for number, symbol in enumerate(" abcdefghijklmnopqrstuvwxyz.,", 1)}
STYLES = np.zeros((510, 1, 256), np.float32)
PAD = 14  # the leading pad's frames, as the real model gives about (0.35 s)


class WindowSession:
    """Kokoro's windowed timed model in miniature: token t is said for 2 frames of 600
    samples (a comma for 12), loud and rising, the pads silent for PAD frames; the frames of
    the `window` input are made, as kokoro_timed_model.py computes them."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], tuple[int, ...]]] = []

    def run(self, _: Any, inputs: dict[str, Any]) -> list[Any]:
        tokens = [int(t) for t in inputs["tokens"][0]]
        window = tuple(int(w) for w in inputs["window"])
        self.calls.append((tokens, window))
        inner = [12 if t == VOCAB[","] else 2 for t in tokens[1:-1]]
        durations = np.array([PAD, *inner, PAD], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(durations)])
        audio = np.concatenate(
            [np.zeros(PAD * 600)]
            + [np.linspace(0.1, 0.5, d * 600) for d in inner]
            + [np.zeros(PAD * 600)]
        ).astype(np.float32)
        first, before, end, after = window
        begin = max(int(starts[first]) - before, 0)
        stop = max(min(int(starts[end]) + after, int(starts[-1])), begin)
        frames = np.array([begin, stop], dtype=np.int64)
        return [audio[begin * 600 : stop * 600], durations[None, :], frames]


def test_a_whole_piece_is_made_whole_and_a_first_one_only_around_its_sound() -> None:
    session = WindowSession()
    run = KokoroRun(session, VOCAB, lead=0)
    whole = run("ab cd,", STYLES, 1.0)
    first = run("ab cd,", STYLES, 1.0, first=True)

    assert session.calls[0][1] == WHOLE
    # From FIRST_LEAD_FRAMES before the first token to FIRST_TAIL_FRAMES after "d" ends
    # (into the comma, which ends the piece: its pause, not its sound).
    window = (1, FIRST_LEAD_FRAMES, 6, FIRST_TAIL_FRAMES)
    assert session.calls[1] == (session.calls[0][0], window)
    # Each phoneme is as long as before, inside the audio; the sound is the same samples.
    assert np.array_equal(np.diff(first.spans[:-1]), np.diff(whole.spans[:-1]))
    start = int(first.spans[0, 0])
    assert np.array_equal(
        first.audio[start : start + 4 * 1200], whole.audio[whole.spans[0, 0] :][: 4 * 1200]
    )
    # Cut inside the comma's frames, so faded out rather than clicked off.
    assert first.spans[-1, 1] >= len(first.audio) and first.audio[-1] == 0.0
    assert np.all(np.diff(first.audio[-FIRST_FADE:]) <= 0)


def test_a_first_piece_is_said_before_the_rest_of_its_sentence_which_is_not_made() -> None:
    session = WindowSession()
    run = KokoroRun(session, VOCAB, lead=0)
    headed = run("ab cd,", STYLES, 1.0, first=True, follows="ef gh.")

    tokens, window = session.calls[0]
    piece = [VOCAB[s] for s in "ab cd,"]
    assert tokens == [0, *piece, VOCAB[" "], *[VOCAB[s] for s in "ef gh."], 0]
    # The window ends where the piece's last token (its comma's pause) ends.
    assert window == (1, FIRST_LEAD_FRAMES, len(piece) + 1, 0)
    # Made: the lead (trimmed), four letters, the space and the comma; nothing after it.
    assert len(headed.audio) - headed.spans[0, 0] == (2 * 4 + 2 + 12) * 600
    assert headed.spans.shape == (len("ab cd,"), 2)
    assert headed.spans[-1, 1] == len(headed.audio)
    # Of a long rest, only its first words are run.
    run("ab cd,", STYLES, 1.0, first=True, follows=" ".join(["efg"] * 40))
    tokens, _ = session.calls[-1]
    ahead = tokens[len(piece) + 2 : -1]
    assert 0 < len(ahead) <= FIRST_FOLLOWS and ahead[-3:] == [VOCAB[s] for s in "efg"]
    # A piece that is not a stream's first ignores what follows.
    run("ab cd,", STYLES, 1.0, follows="ef gh.")
    assert session.calls[-1] == ([0, *piece, 0], WHOLE)


class FollowedTone(ToneEngine):
    """The tone engine noting what each call is given to say after its words."""

    def __init__(self) -> None:
        self.follows: list[tuple[str, bool, str]] = []
        self._lock = threading.Lock()

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        with self._lock:
            self.follows.append((text, first, follows))
        return super().synthesize_timed(voice, text, speed, first, follows)


def test_only_a_streams_first_piece_is_given_the_rest_of_its_sentence(tmp_path: Path) -> None:
    engine = FollowedTone()
    settings = Settings(engines=["tone"], default_voice="tone:beep", data_dir=tmp_path)
    catalogue = Catalogue([BoundedEngine(lambda: engine, 30.0)], "tone:beep")
    synthesizer = build_synthesizer(settings, catalogue=catalogue)
    text = "The first words come quickly, and the rest follow. Two three four. Five six."
    try:
        plan = synthesizer.planner.plan_of(text, "tone:beep", "wav", 1.0)

        async def heard(stream: bool) -> None:
            turn = synthesizer.executor.turn(Lane.interactive, "listener")
            made = synthesizer.stream(plan, turn) if stream else synthesizer.samples(plan, turn)
            async for _ in made:
                pass

        asyncio.run(heard(True))
        assert sorted(engine.follows) == sorted(
            [
                ("The first words come quickly,", True, "and the rest follow."),
                ("and the rest follow.", True, ""),
                ("Two three four.", True, ""),  # the first three are first pieces
                ("Five six.", False, ""),
            ]
        )
        engine.follows.clear()
        asyncio.run(heard(False))  # not a stream: no first piece, nothing follows
        assert {follows for _, _, follows in engine.follows} == {""}
    finally:
        synthesizer.executor.close()
        catalogue.close()


# The real model (slow): installed by `make run`.


def _kokoro() -> Any:
    from sayfile.engines.kokoro import KokoroEngine

    kokoro = KokoroEngine(threads=1)
    if "kokoro:af_heart" not in {voice.id for voice in kokoro.voices()}:
        pytest.skip("Kokoro's voices are not installed (`make run`)")
    return kokoro


@pytest.mark.slow
def test_the_whole_window_is_the_unedited_models_audio_bit_for_bit() -> None:
    import onnxruntime

    from sayfile.engines.kokoro import assemble_model
    from sayfile.engines.kokoro_blend import blended_style
    from sayfile.engines.kokoro_sessions import session_options

    kokoro = _kokoro()
    try:
        model = kokoro._loaded()
        voice = {voice.id: voice for voice in kokoro.voices()}["kokoro:zf_xiaobei"]
        phonemes = kokoro.phonemes(voice, "今天天气很好，我们下午去公园散步吧。")
        tokens = [model.tokenizer.vocab[s] for s in phonemes if s in model.tokenizer.vocab]
        feed = {
            "tokens": np.array([[0, *tokens, 0]], np.int64),
            "style": blended_style(model, voice.locator)[len(tokens) - 1],
            "speed": np.array([1.0], np.float32),
        }
        plain = onnxruntime.InferenceSession(
            str(assemble_model(kokoro._folder)), session_options(1)
        )
        (unedited,) = plain.run(None, feed)
        whole = {**feed, "window": np.array(WHOLE, np.int64)}
        # The engine's model: the window's edit and the convolutions as products, both exact
        # (the style norms of kokoro_norms.py are not in it): every frame, bit for bit.
        audio, durations, frames = model.timed._session.run(None, whole)
        assert np.array_equal(audio, unedited)
        assert frames.tolist() == [0, int(durations.sum())]
    finally:
        kokoro.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("voice_id", "piece", "follows", "language"),
    [
        ("kokoro:af_heart", "It was a bright cold day in", "April, and the clocks struck.", "en"),
        ("kokoro:zf_xiaobei", "今天天气很好，", "我们下午去公园散步吧。", "zh"),
    ],
)
def test_a_windowed_first_piece_is_heard_as_its_words_at_their_times(
    listener: Listener, voice_id: str, piece: str, follows: str, language: str
) -> None:
    kokoro = _kokoro()
    try:
        voice = {voice.id: voice for voice in kokoro.voices()}[voice_id]
        samples, words = kokoro.synthesize_timed(voice, piece, 1.0, True, follows)
    finally:
        kokoro.close()
    audio = wav_bytes(samples)
    heard = listener.hear(audio, language)
    if language == "zh":
        assert character_error_rate(piece, simplified(heard)) <= 0.15, heard
    else:
        assert word_error_rate(piece, heard) == 0.0, heard
    # Nothing of the words that follow is heard, and the end fades out (no click).
    last = samples[-240:].astype(float) / 32768
    assert 20 * np.log10(np.sqrt(np.mean(last**2)) + 1e-9) < -45
    # Each word where Whisper hears it begin (the first-piece and word tests' measure).
    assert words is not None and words[-1][3] <= samples.size
    ours = [(piece[a:b], start / 24_000) for a, b, start, _ in words]
    theirs = listener.word_starts(audio, language)
    if language == "en":
        pairs, at = [], 0
        for text, start in ours:  # each of our words' first word, where Whisper has it next
            found = [n for n, (w, _) in enumerate(theirs[at:], at) if _plain(w) == _plain(text)]
            if found:
                pairs.append((start, theirs[found[0]][1]))
                at = found[0] + 1
        assert len(pairs) >= 5, (ours, theirs)
        assert statistics.median(abs(a - b) for a, b in pairs) <= 0.08, (ours, theirs)
    else:  # words that begin at the same character of the piece
        begins, at = {}, 0
        for text, start in theirs:
            begins[at] = start
            at += len(simplified(text).strip("，。 "))
        pairs = [(start / 24_000, begins[a]) for a, _, start, _ in words if a in begins]
        assert len(pairs) >= 2, (ours, theirs)
        assert statistics.median(abs(a - b) for a, b in pairs) <= 0.1, (ours, theirs)


def _plain(words: str) -> str:
    """The first word of `words`, lower case, without marks."""
    return "".join(c for c in words.split()[0].lower() if c.isalpha()) if words.split() else ""


def test_making_the_timed_model_removes_the_ones_earlier_versions_made(tmp_path: Path) -> None:
    from sayfile.engines.kokoro_timed_model import TIMED_MODEL, remove_older_models

    current = tmp_path / TIMED_MODEL[0]
    current.write_bytes(b"now")
    older = [
        tmp_path / "kokoro-v1.0.int8.timed.onnx",
        tmp_path / "kokoro-v1.0.int8.timed-capped.onnx",
        tmp_path / "kokoro-v1.0.int8.timed-window.onnx",
        tmp_path / "kokoro-v1.0.int8.timed-window-matmul.onnx",
    ]
    kept = [tmp_path / "kokoro-v1.0.int8.onnx", tmp_path / "voices.npz"]
    for path in [*older, *kept]:
        path.write_bytes(b"x")
    assert sorted(remove_older_models(current)) == sorted(older)
    assert current.read_bytes() == b"now"
    assert all(path.is_file() for path in kept) and not any(p.exists() for p in older)
