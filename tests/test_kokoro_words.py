"""Kokoro's phonemes back to the words of the text, and the runner's times for each phoneme
(trimmed, cut into batches), with hand-made durations: a session that says each token for as
many 600-sample units as it is told."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import Speech
from listening import signal_to_noise
from sayfile.engines.kokoro_run import MAX_PHONEMES, KokoroRun
from sayfile.engines.kokoro_words import (
    PhonemeWords,
    mandarin_words,
    spaced_words,
    word_samples,
)


class DurationSession:
    """Kokoro's timed model in miniature: token t is heard for `units[t]` units of 600
    samples (1 where not given), loud, and the pads at both ends are silent for 5 units."""

    def __init__(self, units: dict[int, int] | None = None) -> None:
        self.units = units or {}
        self.calls: list[list[int]] = []

    def run(self, _: Any, inputs: dict[str, Any]) -> list[Any]:
        tokens = [int(t) for t in inputs["tokens"][0]]
        self.calls.append(tokens)
        inner = [self.units.get(t, 1) for t in tokens[1:-1]]
        durations = np.array([[5, *inner, 5]], dtype=np.int64)
        audio = [np.zeros(5 * 600, np.float32)]
        audio += [np.full(u * 600, 0.5, np.float32) for u in inner]
        audio.append(np.zeros(5 * 600, np.float32))
        return [np.concatenate(audio), durations]


VOCAB = {symbol: number for number, symbol in enumerate(" abcdefghijklmnopqrstuvwxyz.,", 1)}
STYLES = np.zeros((510, 1, 256), np.float32)


def test_each_phoneme_is_timed_where_the_model_says_it_after_the_silence_is_trimmed() -> None:
    session = DurationSession({VOCAB["a"]: 4})
    # Without the real model's lead (this session has none; test_word_onsets.py has it).
    timed = KokoroRun(session, VOCAB, lead=0)("ab c", STYLES, 1.0)
    # The pads' silence is trimmed to within a frame, so speech begins near the start.
    first = int(timed.spans[0, 0])
    assert 0 <= first < 2048
    widths = [int(end - start) for start, end in timed.spans]
    assert widths == [2400, 600, 600, 600]
    assert timed.spans[-1, 1] <= len(timed.audio)
    assert np.all(timed.audio[timed.spans[0, 0] : timed.spans[-1, 1]] == 0.5)


def test_symbols_the_model_does_not_know_are_empty_and_dropped_from_its_tokens() -> None:
    session = DurationSession()
    timed = KokoroRun(session, VOCAB)("a§b", STYLES, 1.0)
    assert session.calls == [[0, VOCAB["a"], VOCAB["b"], 0]]
    assert timed.spans[1, 0] == timed.spans[1, 1] == timed.spans[2, 0]


def test_a_long_text_is_cut_at_a_sentence_mark_and_the_times_run_on_across_the_cut() -> None:
    first = "ab " * 150 + "ab."
    second = "cd " * 100 + "cd"
    phonemes = f"{first} {second}"
    assert len(phonemes) > MAX_PHONEMES
    session = DurationSession()
    timed = KokoroRun(session, VOCAB)(phonemes, STYLES, 1.0)
    assert len(session.calls) == 2
    assert len(session.calls[0]) == len(first) + 2  # cut after the full stop, pads added
    starts = [int(start) for start, end in timed.spans if end > start]
    assert starts == sorted(starts)
    # The second batch starts after the first one's audio and its quarter-second pause.
    gap = timed.spans[len(first) + 1, 0] - timed.spans[len(first) - 1, 1]
    assert gap >= 0.25 * 24_000


def test_english_phoneme_words_go_to_the_words_of_the_text_even_when_espeak_joins_some() -> None:
    text = "Hello world, this is a test of the word timings."
    phonemes = "həlˈoʊ wˈɜːld, ðɪs ɪz ɐ tˈɛst ʌvðə wˈɜːd tˈaɪmɪŋz."
    said = spaced_words(text, phonemes)
    words = [text[start:end] for start, end in said.words]
    assert words == [
        "Hello", "world", "this", "is", "a", "test", "of the", "word", "timings",
    ]  # fmt: skip
    assert said.owners[phonemes.index(",")] == -1
    assert said.owners[phonemes.index("ʌ")] == words.index("of the")


def test_french_words_espeak_ng_runs_together_are_one_word_spanning_them() -> None:
    text = "Bonjour tout le monde, c'est une belle journée."
    said = spaced_words(text, "bɔ̃ʒˈuʁ tulmˈɔ̃d, sɛt yn bˈɛl ʒuʁnˈe.")
    words = [text[start:end] for start, end in said.words]
    assert words == ["Bonjour", "tout le monde", "c'est", "une", "belle", "journée"]


def test_a_word_read_as_several_keeps_one_time_from_the_first_to_the_last() -> None:
    text = "In 1999 we met."
    phonemes = "ɪn nˈaɪntiːn nˈaɪntinˈaɪn wiː mˈɛt."
    said = spaced_words(text, phonemes)
    assert [text[s:e] for s, e in said.words] == ["In", "1999", "we", "met"]
    spans = [(10 * i, 10 * i + 10) for i in range(len(phonemes))]
    timed = word_samples(said, spans)
    year = timed[1]
    # It begins with the space before it: the model's way into the word.
    assert year[2] == 10 * phonemes.index(" nˈaɪntiːn")
    assert year[3] == 10 * (phonemes.index(" wiː"))


def test_word_times_follow_a_stretch_exactly() -> None:
    said = PhonemeWords("ab cd", (0, 0, -1, 1, 1), ((0, 2), (3, 5)))
    spans = [(0, 100), (100, 200), (200, 200), (200, 300), (300, 400)]
    assert word_samples(said, spans) == [(0, 2, 0, 200), (3, 5, 200, 400)]
    assert word_samples(said, spans, scale=1.5) == [(0, 2, 0, 300), (3, 5, 300, 600)]


def test_white_space_is_folded_as_the_model_gets_it_and_the_owners_stay_in_step() -> None:
    said = PhonemeWords("  ab \n cd  ", (-1, -1, 0, 0, -1, -1, -1, 1, 1, -1, -1), ((0, 1), (2, 3)))
    spaced = said.spaced()
    assert spaced.phonemes == "ab cd"
    assert spaced.owners == (0, 0, -1, 1, 1)


@pytest.fixture(scope="module")
def g2p() -> Any:
    import logging

    import jieba
    from misaki.zh import ZHG2P

    jieba.setLogLevel(logging.WARNING)
    return ZHG2P(version=None)


@pytest.mark.slow  # espeak-ng's library is looked for with ldconfig
def test_mandarin_is_cut_into_jieba_words_and_its_phonemes_are_misakis(g2p: Any) -> None:
    from kokoro_onnx.tokenizer import Tokenizer

    from sayfile.engines.kokoro_mandarin import (
        LATIN_RUN,
        aspirated,
        english_in_chinese,
        mandarin_phonemes,
    )

    tokenizer = Tokenizer()
    text = "今天天气很好，我们去公园散步吧。我用PPT讲了Python课。"
    said = mandarin_words(
        g2p, lambda run: aspirated(english_in_chinese(tokenizer, run)), LATIN_RUN, text
    ).spaced()
    assert said.phonemes.split() == mandarin_phonemes(g2p, tokenizer, text).split()
    words = [text[start:end] for start, end in said.words]
    assert "".join(words) == "".join(c for c in text if c.isalnum())
    assert words[:3] == ["今天天气", "很", "好"]
    assert "PPT" in words and "Python" in words


@pytest.mark.slow
def test_the_timed_model_says_the_same_audio_and_its_durations_add_up_to_it(
    speech: Speech,
) -> None:
    import onnxruntime

    from sayfile.engines.base import WordTimed
    from sayfile.engines.kokoro import assemble_model, default_folder
    from sayfile.engines.kokoro_timed_model import (
        SAMPLES_PER_UNIT,
        TIMED_MODEL,
        WHOLE,
        timed_model,
    )

    plain_path = assemble_model(default_folder())
    plain = onnxruntime.InferenceSession(str(plain_path), providers=["CPUExecutionProvider"])
    # The installed one: `python -m sayfile.engines.kokoro` made it and checked its hash.
    model = timed_model(plain_path)
    assert model.name == TIMED_MODEL[0]
    styles = np.load(default_folder() / "voices.npz")["af_heart"]
    tokens = np.array([[0, *range(16, 48), 0]], dtype=np.int64)
    timed = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    for speed in (0.6, 1.7):
        inputs = {
            "tokens": tokens,
            "style": styles[31],
            "speed": np.array([speed], dtype=np.float32),
        }
        (before,) = plain.run(None, inputs)
        # The whole window: every frame made (a stream's first piece is given less).
        window = np.array(WHOLE, dtype=np.int64)
        after, durations, made = timed.run(None, {**inputs, "window": window})
        # Bit for bit: the durations as an output change nothing, and the convolutions
        # made matrix products (kokoro_convolutions.py) sum the same integers.
        assert np.array_equal(before, after)
        assert durations.shape == tokens.shape
        assert int(durations.sum()) * SAMPLES_PER_UNIT == after.size
        assert made.tolist() == [0, int(durations.sum())]

    # The engine's own runner makes what kokoro-onnx's `create` made with the plain model: the
    # same length (the same durations and trimming), the samples near as above.
    from kokoro_onnx import Kokoro

    voice = speech.catalogue.resolve("kokoro:af_heart")
    engine = speech.catalogue.engine(voice)  # the suite's engine, loaded once for the run
    assert isinstance(engine, WordTimed)
    text = "The birch canoe slid on the smooth planks."
    samples, words = engine.synthesize_timed(voice, text, 1.0)
    reference = Kokoro.from_session(plain, str(default_folder() / "voices.npz"))
    audio, _ = reference.create(text, voice="af_heart", speed=1.0, lang="en-us")
    expected = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    assert samples.size == expected.size
    assert signal_to_noise(expected, samples) > 8, signal_to_noise(expected, samples)
    assert words is not None
    # Every word once, in order; espeak-ng runs some together ("on the"), timed as one.
    said = " ".join(text[s:e] for s, e, _, _ in words)
    assert said == " ".join(w.strip(",.") for w in text.split())
    starts = [start for _, _, start, _ in words]
    assert starts == sorted(starts) and starts[-1] < samples.size
