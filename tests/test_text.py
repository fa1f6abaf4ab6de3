from __future__ import annotations

import re

import pytest

from sayfile.text import normalize, sentences


def _letters(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_normalize_folds_space_and_control_characters() -> None:
    raw = "  Hello\tthere.\r\n\r\nSecond\x00line\x1b[31m here\u200b. \ufeff"
    assert normalize(raw) == "Hello there. Second line [31m here."


def test_normalize_composes_unicode() -> None:
    assert normalize("Cafe\u0301") == "Café"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Pi is 3.14 today. Yes", ["Pi is 3.14 today.", "Yes"]),
        ("你好，世界。这是一个测试！好吗？", ["你好，世界。", "这是一个测试！", "好吗？"]),
        ("他说……然后走了；对吧", ["他说……", "然后走了；", "对吧"]),
        ("“Quoted.” Next one", ["“Quoted.”", "Next one"]),
        ("Mixed 中文。And English.", ["Mixed 中文。", "And English."]),
    ],
)
def test_sentences_split_on_latin_and_cjk_punctuation(text: str, expected: list[str]) -> None:
    assert list(sentences(text)) == expected


def test_long_runs_without_punctuation_are_split_and_nothing_is_lost() -> None:
    words = " ".join(f"word{i}" for i in range(2000))
    cjk = "这是没有标点的一段很长的中文" * 100
    for text in (words, cjk, "x" * 5000, "a, " * 900):
        pieces = list(sentences(text, max_chars=120))
        assert all(0 < len(p) <= 120 for p in pieces)
        assert _letters("".join(pieces)) == _letters(text)


def test_split_prefers_commas_then_spaces() -> None:
    text = "alpha beta gamma, " * 10 + "end"
    first = next(sentences(text, max_chars=60))
    assert first.endswith(",")
