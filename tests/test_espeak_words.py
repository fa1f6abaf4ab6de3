"""espeak-ng's word events (place in the text from 1, in characters; first sample) as the words
of the piece, each once and in order, brought to the text as written: hand-made events, no
espeak-ng run. The events are shaped as the library gives them (measured with espeak-ng 1.51:
a number read out is an event per word said, a clause may end with an empty event)."""

from __future__ import annotations

import numpy as np

from sayfile.engines.espeak_words import event_words, written_words
from sayfile.speech.word_times import piece_words


def _voiced(*spans: tuple[int, int], size: int) -> np.ndarray:
    """`size` samples, silent but for the (start, end) spans."""
    samples = np.zeros(size, dtype=np.int16)
    for start, end in spans:
        samples[start:end] = 3000
    return samples


def _texts(text: str, words: list[tuple[int, int, int, int]]) -> list[str]:
    return [text[start:end] for start, end, _, _ in words]


def test_each_word_is_timed_from_its_event_to_its_last_sound() -> None:
    text = "Hello wörld, this is it."
    # Characters, not bytes: "this" is the 14th character (the 15th byte, after the ö).
    events = [(1, 5, 0), (7, 5, 6000), (14, 4, 20000), (19, 2, 24000), (22, 2, 27000)]
    samples = _voiced(
        (100, 5000), (6000, 12000), (20000, 23000), (24000, 26000), (27000, 30000), size=32000
    )
    words = event_words(text, events, samples)
    assert _texts(text, words) == ["Hello", "wörld", "this", "is", "it"]
    # From its event to its last sound: the pause after the comma belongs to no word.
    assert [(start, end) for _, _, start, end in words] == [
        (0, 5000),
        (6000, 12000),
        (20000, 23000),
        (24000, 26000),
        (27000, 30000),
    ]


def test_a_number_read_as_several_words_is_one_word_and_empty_events_are_ignored() -> None:
    text = "I ate 42 of 3.5 kg."
    # "42" is said "forty two": events at the 4 and at the 2; "3.5" three events; an empty
    # event at the full stop and one pointing back into the text after it (as seen).
    events = [
        (1, 1, 0), (3, 3, 1000), (7, 2, 2000), (8, 2, 3000), (10, 2, 4000),
        (13, 3, 5000), (14, 2, 6000), (15, 2, 7000), (17, 2, 8000), (19, 0, 9000), (13, 0, 9500),
    ]  # fmt: skip
    samples = _voiced((0, 9000), size=10000)
    words = event_words(text, events, samples)
    assert _texts(text, words) == ["I", "ate", "42", "of", "3.5", "kg"]
    assert [start for _, _, start, _ in words] == [0, 1000, 2000, 4000, 5000, 8000]


def test_han_characters_are_words_each_and_latin_words_inside_chinese_too() -> None:
    text = "你好，世界。我们用Python。"
    assert [text[s:e] for s, e in written_words(text)] == [
        "你", "好", "世", "界", "我", "们", "用", "Python",
    ]  # fmt: skip
    events = [(1, 1, 0), (2, 1, 100), (4, 1, 300), (5, 1, 400), (7, 1, 600), (8, 1, 700)]
    events += [(9, 1, 800), (10, 6, 900)]
    words = event_words(text, events, _voiced((0, 1200), size=1200))
    assert _texts(text, words) == ["你", "好", "世", "界", "我", "们", "用", "Python"]
    assert [start for _, _, start, _ in words] == [0, 100, 300, 400, 600, 700, 800, 900]


def test_a_word_without_an_event_is_said_with_its_neighbour_every_word_once() -> None:
    text = "(a) Well -- then, fine"
    # No event for "a" (before the first timed word) nor for "then".
    events = [(5, 4, 1000), (19, 4, 5000)]
    words = event_words(text, events, _voiced((1000, 7000), size=8000))
    assert [(text[s:e], start) for s, e, start, _ in words] == [
        ("a) Well -- then", 1000),
        ("fine", 5000),
    ]
    covered = "".join(text[s:e] for s, e, _, _ in words)
    for word in ("a", "Well", "then", "fine"):
        assert covered.count(word) == 1


def test_words_follow_a_stretch_of_the_audio() -> None:
    text = "slow words"
    events = [(1, 4, 0), (6, 5, 10000)]
    words = event_words(text, events, _voiced((0, 8000), (10000, 16000), size=20000), scale=2.0)
    assert [(start, end) for _, _, start, end in words] == [(0, 16000), (20000, 32000)]


def test_espeak_words_reach_the_text_as_written_through_normalisation() -> None:
    written, said = "Dr Smith paid $5.", "Doctor Smith paid five dollars."
    events = [(1, 6, 0), (8, 5, 2205), (14, 4, 4410), (19, 4, 6615), (24, 7, 8820)]
    engine = event_words(said, events, _voiced((0, 11000), size=11025))
    words = piece_words(written, said, engine, 22050, lead_s=0.5)
    assert [written[s:e] for s, e, _, _ in words] == ["Dr", "Smith", "paid", "$5"]
    assert [round(start, 3) for _, _, start, _ in words] == [0.5, 0.6, 0.7, 0.8]
