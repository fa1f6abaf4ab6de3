"""File names from the first words of a text, made in linear time on the longest texts."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable

import pytest

from sayfile.jobs.download_names import content_disposition, stem_for

# The longest text a job accepts (Settings.max_chars_job).
LONGEST = 200_000


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("Hello there, world! How are you today?", "hello-there-world-how-are-you"),
        ("你好世界。这是一个测试", "你好世界-这是一个测试"),
        ("Ünïcode façade", "ünïcode-façade"),
        ("!!! ...", "speech"),
    ],
)
def test_stems_come_from_the_first_words(text: str, stem: str) -> None:
    assert stem_for(text) == stem


def test_content_disposition_has_an_ascii_fallback_and_the_real_name() -> None:
    assert content_disposition("café-ok", "mp3") == (
        "attachment; filename=\"cafe-ok.mp3\"; filename*=UTF-8''caf%C3%A9-ok.mp3"
    )


def _fastest(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


@pytest.mark.parametrize(
    "text",
    [
        "ab " * (LONGEST // 3),
        "a" * LONGEST,
        "你" * LONGEST,
        "_" * LONGEST,
        "!" * (LONGEST - 1) + "a",
        "e\u0301" * (LONGEST // 2),
    ],
    ids=["many words", "one long word", "CJK", "underscores", "punctuation", "accents"],
)
@pytest.mark.slow  # a time limit: the slow layer
def test_stem_takes_linear_time_on_the_longest_text(text: str) -> None:
    # One pass that any stem needs: composing the text.
    baseline = _fastest(lambda: unicodedata.normalize("NFC", text))
    took = _fastest(lambda: stem_for(text))
    assert took <= 5 * baseline + 0.05, f"{took:.3f} s; composing takes {baseline:.3f} s"
