"""Text clean-up and sentence splitting: what they do, and that they take linear time on
the longest texts accepted, however those texts are made."""

from __future__ import annotations

import itertools
import math
import re
import signal
import sys
import time
import unicodedata
from collections.abc import Callable
from types import FrameType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sayfile.text.sentences import normalize, sentences

# The longest text a job accepts (Settings.max_chars_job) and the largest request body
# (Settings.max_body_bytes), which is normalised before its length is checked.
LONGEST = 200_000
LARGEST_BODY = 4 * 1024 * 1024


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
        ("यह पहला वाक्य है। दूसरा है॥ तीसरा", ["यह पहला वाक्य है।", "दूसरा है॥", "तीसरा"]),
        # The full-width full stop of text from the web, but not between digits.
        ("他走了．我来了．你呢？", ["他走了．", "我来了．", "你呢？"]),
        ("圆周率是３．１４，版本1．2．好的", ["圆周率是３．１４，版本1．2．", "好的"]),
        ("ﾃｽﾄです｡次の文", ["ﾃｽﾄです｡", "次の文"]),
        ("یہ پہلا ہے۔ کیا یہ دوسرا ہے؟ ہاں", ["یہ پہلا ہے۔", "کیا یہ دوسرا ہے؟", "ہاں"]),
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


def test_a_word_that_fits_in_a_piece_is_never_cut() -> None:
    """With its space in the first quarter of the limit, the word after it was cut where
    the limit fell: "...kapitänsmü" and "tze" said as two words."""
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze"
    text = f"So {word} sailed down the river without stopping once."
    assert list(sentences(text, max_chars=50)) == [
        "So",
        word,
        "sailed down the river without stopping once.",
    ]
    # A word longer than the limit is still cut: no engine is given more.
    assert list(sentences(f"So {word}.", max_chars=20)) == [
        "So",
        word[:20],
        word[20:40],
        "änsmütze.",
    ]


def test_chinese_without_punctuation_is_cut_between_words() -> None:
    """A run with nothing to cut at is cut between words, never inside one (cut by count,
    50 characters a piece, this text would split 故宫博物院 and 升旗仪式)."""
    words = ("北京", "参观", "故宫博物院", "然后", "天安门广场", "升旗仪式", "大家", "高兴")
    text = "我们今天去北京参观了故宫博物院然后又去了天安门广场看升旗仪式大家都很高兴" * 12
    pieces = list(sentences(text, max_chars=50))
    assert all(0 < len(p) <= 50 for p in pieces)
    assert "".join(pieces) == text
    cuts = list(itertools.accumulate(len(p) for p in pieces))[:-1]
    inside = [
        (cut, word)
        for word in words
        for found in re.finditer(word, text)
        for cut in cuts
        if found.start() < cut < found.end()
    ]
    assert not inside, inside


def test_a_title_stays_with_its_name() -> None:
    text = "Dr. Patel came. He saw St. Louis and the U.S. Army. Then Mr. Lee left. It ended."
    assert list(sentences(text)) == [
        "Dr. Patel came.",
        "He saw St. Louis and the U.S. Army.",
        "Then Mr. Lee left.",
        "It ended.",
    ]


def test_a_sentence_goes_on_after_e_g_and_vs() -> None:
    text = "Compress images (e.g. WebP) first. Cats vs. dogs, i.e. pets. We sold pears, etc. Then?"
    assert list(sentences(text)) == [
        "Compress images (e.g. WebP) first.",
        "Cats vs. dogs, i.e. pets.",
        "We sold pears, etc.",
        "Then?",
    ]


def test_an_abbreviation_stays_with_its_number() -> None:
    text = (
        "See Fig. 3 on p. 23. It is No. 5 of ca. 1900. I said no. Then I left. "
        "The Sept. 11 attacks came. On Jan. 1, 2025 we met. It was Dec. Then it snowed. "
        "The bakery, Est. 1887, is closed. It is the best est. Then we ate."
    )
    assert list(sentences(text)) == [
        "See Fig. 3 on p. 23.",
        "It is No. 5 of ca. 1900.",
        "I said no.",
        "Then I left.",
        "The Sept. 11 attacks came.",
        "On Jan. 1, 2025 we met.",
        "It was Dec.",
        "Then it snowed.",
        "The bakery, Est. 1887, is closed.",
        "It is the best est.",
        "Then we ate.",
    ]


def test_split_prefers_commas_then_spaces() -> None:
    text = "alpha beta gamma, " * 10 + "end"
    first = next(sentences(text, max_chars=60))
    assert first.endswith(",")


# The splitter and the clean-up as first written, simple and slow (the splitter's one regular
# expression takes time quadratic in a run of marks): the specification that the fast ones
# must match exactly, on texts short enough for them.
_REFERENCE_END = re.compile(
    r"[.!?;…]+[\"'”’)\]]*(?=\s|$)"
    r"|(?:[。！？；…।॥؟۔｡]|(?<![0-9０-９])．|．(?![0-9０-９]))+[”’」』）]*"
)


def _reference_sentences(text: str, max_chars: int) -> list[str]:
    pieces = []
    start = 0
    for end in [m.end() for m in _REFERENCE_END.finditer(text)] + [len(text)]:
        piece, start = text[start:end].strip(), end
        while len(piece) > max_chars:
            cut = max_chars
            for soft_break in (r"[,，、:：]\s*", r"\s+"):
                ends = [m.end() for m in re.finditer(soft_break, piece[: max_chars + 1])]
                if ends and ends[-1] > max_chars // 4:
                    cut = min(ends[-1], max_chars)
                    break
            else:
                # A word the limit falls in begins the next piece, however early its space.
                if ends and re.fullmatch(r"[ab1１]{2}", piece[max_chars - 1 : max_chars + 1]):
                    cut = ends[-1]
            pieces.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if piece:
            pieces.append(piece)
    return pieces


def _reference_normalize(text: str) -> str:
    cleaned = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Zl", "Zp") or char in "\ufffe\uffff":
            cleaned.append(" ")
        elif category != "Cf" or char in "\u200c\u200d":
            cleaned.append(char)
    return re.sub(r"\s+", " ", "".join(cleaned)).strip()


_PUNCTUATED = st.text(
    alphabet=".!?;…。！？；।؟｡．\"'”’)]」』）,，、:： \t\n\u3000ab你1１", max_size=40
)
# Any code point, surrogates included, with the characters normalize treats specially often.
_ANY_CHARACTER = st.one_of(
    st.integers(0, sys.maxunicode).map(chr),
    st.sampled_from(
        "\x00\x1b\t\n \xa0\x85\u2028\u2029\ud800\ue000\U000f0000\u00ad\u200b\u200c"
        "\u200d\u2060\ufeff\U000e0001e\u0301\u1100\u1161\uffff"
    ),
)


@settings(max_examples=500, database=None)
@given(text=_PUNCTUATED, max_chars=st.integers(1, 12))
def test_sentences_match_the_reference_splitter(text: str, max_chars: int) -> None:
    assert list(sentences(text, max_chars)) == _reference_sentences(text, max_chars)


@settings(max_examples=500, database=None)
@given(text=st.text(_ANY_CHARACTER, max_size=30))
def test_normalize_matches_the_reference_clean_up(text: str) -> None:
    assert normalize(text) == _reference_normalize(text)


class _Overrun(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Overrun


def _seconds(work: Callable[[], object], budget: float = math.inf, tries: int = 3) -> float:
    """The fastest of up to `tries` runs of `work`, stopping early once one fits in `budget`
    seconds. A run still going at the budget is interrupted, so that code gone quadratic fails
    the test at once instead of running for many minutes."""
    previous = signal.signal(signal.SIGALRM, _stop)
    best = math.inf
    try:
        for _ in range(tries):
            start = time.perf_counter()
            try:
                try:
                    if budget < math.inf:
                        signal.setitimer(signal.ITIMER_REAL, budget)
                    work()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Overrun:
                continue
            best = min(best, time.perf_counter() - start)
            if best <= budget < math.inf:
                break
    finally:
        signal.signal(signal.SIGALRM, previous)
    return best


def _sized(unit: str, length: int = LONGEST, tail: str = "a") -> str:
    """`unit` repeated, then `tail`: `length` characters in all."""
    body = unit * ((length - len(tail)) // len(unit) + 1)
    return body[: length - len(tail)] + tail


# Short sentences in both scripts, as in a dialogue. The splitter's work grows with the number
# of pieces as well as with the length, and this text has about as many as any text can.
_ORDINARY = _sized("Yes. No! 好。行！ Ok? 是？ “Go.” (Sure.) Why; then… 3.14, ", tail="")
_ADVERSARIAL = {
    **{f"{unicodedata.name(mark).lower()} run": _sized(mark) for mark in ".!?;…。！？；"},
    "run of mixed marks": _sized(".!?;"),
    "dots and ellipses": _sized(".…"),
    "marks and closers": _sized(".”"),
    "run of closers": "." + _sized("”", LONGEST - 1),
    "CJK marks and closers": _sized("。」"),
    "sentence ends": _sized(". "),
    "no spaces": "x" * LONGEST,
    "CJK without marks": "你" * LONGEST,
    "commas": _sized(","),
    "commas and spaces": _sized(", "),
    "spaces": "a" + _sized(" ", LONGEST - 1, tail="b"),
}


@pytest.mark.slow  # a time limit: the slow layer
@pytest.mark.parametrize("text", _ADVERSARIAL.values(), ids=_ADVERSARIAL.keys())
def test_sentences_take_linear_time_on_the_longest_text(text: str) -> None:
    assert len(text) == len(_ORDINARY) == LONGEST
    baseline = _seconds(lambda: list(sentences(_ORDINARY)))
    budget = 5 * baseline + 0.1
    took = _seconds(lambda: list(sentences(text)), budget)
    assert took <= budget, f"over {budget:.3f} s; an ordinary text this long takes {baseline:.3f} s"
    pieces = list(sentences(text))
    assert all(0 < len(p) <= 400 for p in pieces)
    assert _letters("".join(pieces)) == _letters(text)


@pytest.mark.parametrize(
    "body",
    [
        _sized("One sentence,\tthen  another.\r\n\r\nAnd a third! ", LARGEST_BODY),
        _sized("这是一个测试。\n你好，世界！\u3000好吗？ ", LARGEST_BODY),
    ],
    ids=["Latin", "CJK"],
)
@pytest.mark.slow  # a time limit: the slow layer
def test_normalize_takes_linear_time_on_the_largest_body(body: str) -> None:
    # What normalize cannot avoid: composing the text and folding its white space.
    baseline = _seconds(lambda: " ".join(unicodedata.normalize("NFC", body).split()))
    budget = 4 * baseline + 0.05
    took = _seconds(lambda: normalize(body), budget)
    assert took <= budget, f"over {budget:.3f} s; composing and folding take {baseline:.3f} s"


def test_a_paragraph_ending_in_a_danda_or_an_urdu_stop_gets_no_second_stop() -> None:
    from sayfile.text.markup import as_sentence

    assert as_sentence("यह पहला वाक्य है।") == "यह पहला वाक्य है।"
    assert as_sentence("کیا یہ دوسرا ہے؟") == "کیا یہ دوسرا ہے؟"
    assert as_sentence("यह पहला वाक्य है") == "यह पहला वाक्य है."
