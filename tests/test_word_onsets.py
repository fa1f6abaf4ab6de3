"""The model's lead, with hand-made durations: each phoneme is placed LEAD_SAMPLES before
its durations' sum, never before its batch's audio begins; a word begins with the space before
it in running speech and with its first phoneme after a pause mark (Kokoro's audio is silent
in that space); every word once, in order, starts never going back."""

from __future__ import annotations

import numpy as np

from sayfile.engines.kokoro_run import LEAD_SAMPLES, KokoroRun
from sayfile.engines.kokoro_words import PhonemeWords, spaced_words, word_samples
from test_kokoro_words import STYLES, VOCAB, DurationSession


def test_each_phoneme_is_placed_the_models_lead_before_its_durations_sum() -> None:
    phonemes = "abc de, fgh ij"
    session = DurationSession({VOCAB["a"]: 3, VOCAB[" "]: 2, VOCAB[","]: 8})
    summed = KokoroRun(session, VOCAB, lead=0)(phonemes, STYLES, 1.0)
    led = KokoroRun(session, VOCAB)(phonemes, STYLES, 1.0)
    assert LEAD_SAMPLES == 960  # 40 ms at 24 kHz
    assert np.array_equal(led.audio, summed.audio)  # the audio is not touched
    assert np.array_equal(led.spans, np.maximum(summed.spans - LEAD_SAMPLES, 0))
    assert int(led.spans[0, 0]) == 0  # the piece's start, not before it


def test_the_lead_never_takes_a_phoneme_into_the_batch_before_it() -> None:
    first = "ab " * 150 + "ab."
    phonemes = f"{first} {'cd ' * 100}cd"
    session = DurationSession()
    summed = KokoroRun(session, VOCAB, lead=0)(phonemes, STYLES, 1.0)
    led = KokoroRun(session, VOCAB)(phonemes, STYLES, 1.0)
    second = len(first) + 1  # the second batch's first phoneme
    last = len(first) - 1  # the first batch's last
    # The lead stops where the second batch's audio begins, after the first one's pause.
    assert 0 <= summed.spans[second, 0] - led.spans[second, 0] <= LEAD_SAMPLES
    assert led.spans[second, 0] >= summed.spans[last, 1] + 0.25 * 24_000
    assert np.array_equal(led.spans[second + 10], summed.spans[second + 10] - LEAD_SAMPLES)
    starts = [int(start) for start, end in led.spans if end > start]
    assert starts == sorted(starts)


def test_after_a_pause_a_word_begins_with_its_first_phoneme_else_with_the_space() -> None:
    text = "It was, in truth, a test of times."
    phonemes = "ɪt wʌz, ɪn tɹˈuːθ, ɐ tˈɛst ʌv tˈaɪmz."
    said = spaced_words(text, phonemes)
    session = DurationSession({VOCAB[" "]: 2, VOCAB[","]: 10, VOCAB["."]: 10})
    vocab = {**VOCAB, **{s: VOCAB["a"] for s in phonemes if s not in VOCAB}}
    timed = KokoroRun(session, vocab)(phonemes, STYLES, 1.0)
    spans = timed.spans.tolist()
    words = word_samples(said, spans)
    assert [text[s:e] for s, e, _, _ in words] == [w.strip(",.") for w in text.split()]
    starts = {text[s:e]: start for s, e, start, _ in words}
    # "in" and "a" follow commas: from their first phoneme (less the lead, as every phoneme).
    assert starts["in"] == spans[phonemes.index(" ɪn") + 1][0]
    assert starts["a"] == spans[phonemes.index(" ɐ") + 1][0]
    # "was", "truth", "test", "of", "times" follow a word: from the space before them.
    for word, said_as in (
        ("was", " wʌz"),
        ("truth", " tɹ"),
        ("test", " tˈɛ"),
        ("of", " ʌv"),
        ("times", " tˈa"),
    ):
        assert starts[word] == spans[phonemes.index(said_as)][0]
    assert starts["It"] == 0
    found = [start for _, _, start, _ in words]
    assert found == sorted(found) and words[-1][3] <= len(timed.audio)


def test_a_word_after_a_closing_quote_and_a_full_stop_is_after_a_pause() -> None:
    said = PhonemeWords('ab." cd ef', (0, 0, -1, -1, -1, 1, 1, -1, 2, 2), ((0, 2), (5, 7), (8, 10)))
    spans = [(100 * i, 100 * i + 100) for i in range(10)]
    words = word_samples(said, spans)
    assert [start for _, _, start, _ in words] == [0, 500, 700]
