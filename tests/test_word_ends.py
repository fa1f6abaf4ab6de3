"""A word before a pause ends where its sound does (engines/word_ends.py), on made samples: a
tone for each word's sound, silence (or a faint hiss) for the pauses."""

from __future__ import annotations

import numpy as np

from sayfile.engines.word_ends import RELEASE_S, WINDOW_S, sounded_ends

RATE = 24_000


def _said(*parts: tuple[float, float]) -> np.ndarray:
    """One second (and more if asked) of samples: a loud tone over each (start, end) in
    seconds, a hiss 50 dB below it everywhere else."""
    length = max(1.0, max(end for _, end in parts) + 0.2)
    rng = np.random.default_rng(5)
    audio = rng.normal(0, 10000 * 10 ** (-50 / 20), round(length * RATE))
    t = np.arange(audio.size) / RATE
    for start, end in parts:
        inside = (t >= start) & (t < end)
        audio[inside] += 10000 * np.sin(2 * np.pi * 220 * t[inside])
    return np.clip(audio, -32768, 32767).astype(np.int16)


def _at(seconds: float) -> int:
    return round(seconds * RATE)


def test_a_word_before_a_pause_ends_at_its_sound_and_running_words_keep_their_ends() -> None:
    # "one two, three": "one" runs into "two" through a 60 ms closure; "two" is timed to
    # 0.45 s but its sound stops at 0.35 s; "three" is the piece's last word.
    samples = _said((0.0, 0.14), (0.2, 0.35), (0.5, 0.8))
    words = [
        (0, 3, 0, _at(0.2)),
        (4, 7, _at(0.2), _at(0.45)),
        (9, 14, _at(0.5), _at(1.0)),
    ]
    ended = sounded_ends(words, samples, RATE)
    assert [word[:3] for word in ended] == [word[:3] for word in words]  # starts stay
    assert ended[0] == words[0]  # its closure is inside running speech
    for word, silent in ((ended[1], 0.35), (ended[2], 0.8)):
        late = word[3] / RATE - silent
        assert 0 <= late <= WINDOW_S + RELEASE_S + 0.005, late
        # Sound before the end, the hiss alone after it.
        assert np.abs(samples[word[3] - _at(0.03) : word[3]]).max() > 5000
        assert np.abs(samples[word[3] : word[3] + _at(0.1)]).max() < 200


def test_an_end_already_at_the_sound_or_with_sound_up_to_it_does_not_move() -> None:
    # The pause after "two" is not silent (the voice runs on into "three"): nothing to cut.
    samples = _said((0.0, 0.8))
    words = [(0, 3, 0, _at(0.3)), (5, 10, _at(0.35), _at(0.8))]
    assert sounded_ends(words, samples, RATE) == words


def test_a_word_with_no_sound_keeps_its_span_and_no_end_goes_before_its_start() -> None:
    samples = _said((0.0, 0.2))
    words = [(0, 3, 0, _at(0.3)), (5, 8, _at(0.5), _at(0.7)), (9, 12, _at(0.8), _at(0.8))]
    ended = sounded_ends(words, samples, RATE)
    assert ended[1:] == words[1:]
    assert all(start <= end for _, _, start, end in ended)
    assert ended[0][3] < _at(0.3)


def test_a_quiet_tail_is_sound_and_the_faint_floor_is_not() -> None:
    # A word whose last 60 ms are 25 dB down (a vowel dying away) ends after them.
    samples = _said((0.0, 0.2)).astype(np.float64)
    t = np.arange(samples.size) / RATE
    tail = (t >= 0.2) & (t < 0.26)
    samples[tail] += 10000 * 10 ** (-25 / 20) * np.sin(2 * np.pi * 220 * t[tail])
    ended = sounded_ends([(0, 4, 0, _at(0.6))], samples.astype(np.int16), RATE)
    assert 0.26 <= ended[0][3] / RATE <= 0.26 + WINDOW_S + RELEASE_S + 0.005


def test_nothing_to_judge_gives_the_words_back() -> None:
    assert sounded_ends([], _said((0.0, 0.1)), RATE) == []
    words = [(0, 1, 0, 10)]
    assert sounded_ends(words, np.zeros(0, np.int16), RATE) == words
