"""Captions from timings: cut where a reader can follow them, timed by the audio, and written
as SRT and WebVTT exactly as players read them."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sayfile.audio.timings import Timing, Timings, cues, srt, vtt

ENGLISH = (
    "The quick brown fox jumps over the lazy dog, and then it runs away into the forest where "
    "nobody can find it; the dog, meanwhile, goes back to sleep under the warm afternoon sun."
)
# 120 characters, commas and an enumeration comma but no full stop until the end.
CHINESE = (
    "在这个快速发展的时代，人工智能技术正在深刻地改变着我们的生活方式和工作方式，从智能手机上的"
    "语音助手到自动驾驶汽车，从医疗诊断到金融分析，各行各业都在积极探索如何利用这些新技术来提高"
    "效率、降低成本并创造新的价值，而这一切才刚刚开始，未来可期。"
)


def _timings(*pieces: tuple[float, float, str], words: list[Timing] | None = None) -> Timings:
    parts = tuple(Timing(start, end, text) for start, end, text in pieces)
    return Timings(parts, None if words is None else tuple(words), parts[-1].end + 0.3)


def _check_order(captions: list[Timing], timings: Timings) -> None:
    assert captions
    assert all(c.text.strip() and c.start < c.end for c in captions)
    assert all(a.end <= b.start for a, b in itertools.pairwise(captions))
    assert captions[0].start == timings.pieces[0].start
    assert captions[-1].end == timings.pieces[-1].end


def test_short_pieces_are_a_cue_each_at_their_own_times() -> None:
    timings = _timings((0.2, 1.5, "Hello there."), (1.8, 3.0, "你好，世界。"))
    assert cues(timings) == [Timing(0.2, 1.5, "Hello there."), Timing(1.8, 3.0, "你好，世界。")]


def test_a_mark_said_with_no_sound_is_no_cue() -> None:
    # The full stop after a word a lexicon says is a piece of its own, of no time: it had been
    # a cue from 1.5 to 1.5 s of ".".
    timings = _timings((0.2, 1.5, "I like Nguyen"), (1.5, 1.5, "."), (1.8, 3.0, "He is nice."))
    assert cues(timings) == [Timing(0.2, 1.5, "I like Nguyen"), Timing(1.8, 3.0, "He is nice.")]


def test_a_long_english_sentence_is_cut_at_clauses_and_spaces() -> None:
    timings = _timings((1.0, 12.0, ENGLISH), (12.5, 13.5, "Done."))
    captions = cues(timings)
    _check_order(captions, timings)
    assert len(captions) >= 5
    assert all(len(c.text) <= 42 for c in captions)
    # Words stay whole and in order; every cut comes after a clause mark or at a space.
    assert " ".join(c.text for c in captions[:-1]) == ENGLISH
    assert "it runs away" not in [c.text for c in captions]
    assert any(c.text.endswith(";") for c in captions)


def test_a_long_chinese_sentence_is_cut_after_its_commas() -> None:
    assert len(CHINESE) == 120
    timings = _timings((0.0, 30.0, CHINESE))
    captions = cues(timings)
    _check_order(captions, timings)
    assert "".join(c.text for c in captions) == CHINESE
    assert all(len(c.text) <= 16 for c in captions)
    # Each short clause is one cue; a clause too long for one is cut in about equal halves.
    assert captions[0].text == "在这个快速发展的时代，"
    assert "从医疗诊断到金融分析，" in [c.text for c in captions]
    ends = [c.text.endswith(("，", "、", "。")) for c in captions]
    assert ends[-1]
    assert all(a or b for a, b in itertools.pairwise(ends))
    # No cue starts with a mark that closes the one before.
    assert not any(c.text[0] in "，、。" for c in captions)


def test_time_is_shared_by_how_long_text_takes_to_say() -> None:
    # Two CJK characters take as long to say as five Latin ones.
    captions = cues(_timings((0.0, 11.0, "你好 hello")), max_chars=5)
    assert [c.text for c in captions] == ["你好", "hello"]
    assert captions[0].end == pytest.approx(5.5)
    captions = cues(_timings((0.0, 11.0, "abcde fghij")), max_chars=5)
    assert captions[0].end == pytest.approx(5.5)


def test_word_timings_set_the_cut_times() -> None:
    words = [Timing(0.4 * i, 0.4 * i + 0.3, w) for i, w in enumerate(ENGLISH.split())]
    timings = _timings((0.0, words[-1].end, ENGLISH), words=words)
    captions = cues(timings)
    _check_order(captions, timings)
    # Each cue starts when its first word does.
    said = 0
    for caption in captions:
        assert caption.start == words[said].start
        said += len(caption.text.split())


def test_words_in_other_spellings_fall_back_to_shares_by_length() -> None:
    words = [Timing(0.0, 1.0, "twelve"), Timing(1.0, 2.0, "o'clock")]
    captions = cues(_timings((0.0, 10.0, "aaaa 12 bbbb"), words=words), max_chars=4)
    assert [c.text for c in captions] == ["aaaa", "12", "bbbb"]
    assert all(a.end < b.end for a, b in itertools.pairwise(captions))


def test_a_slow_piece_is_cut_to_max_seconds_but_words_stay_whole() -> None:
    timings = _timings((0.0, 20.0, "Hello there my friend, how are you"), (20.0, 40.0, "Hmmmm"))
    captions = cues(timings, max_seconds=7.0)
    _check_order(captions, timings)
    assert [c.text for c in captions] == ["Hello there", "my friend,", "how are you", "Hmmmm"]
    assert all(c.end - c.start <= 7.0 for c in captions[:-1])


def test_a_word_longer_than_a_cue_is_a_cue_of_its_own() -> None:
    # It had been cut where the limit fell: "extra", "ordin", "ary".
    timings = _timings((0.0, 6.0, "An extraordinary, wonderful day"))
    captions = cues(timings, max_chars=5)
    _check_order(captions, timings)
    assert [c.text for c in captions] == ["An", "extraordinary,", "wonderful", "day"]


def test_overlapping_stored_pieces_come_out_in_order() -> None:
    timings = _timings((0.0, 2.0, "One."), (1.5, 3.0, "Two."))
    assert cues(timings) == [Timing(0.0, 2.0, "One."), Timing(2.0, 3.0, "Two.")]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        cues(_timings((0.0, 1.0, "a")), max_chars=0)
    with pytest.raises(ValueError, match="max_seconds"):
        cues(_timings((0.0, 1.0, "a")), max_seconds=0)


_TEXT = st.text(alphabet="abc xyz,;:.，、；：。你好世界「」？", min_size=1, max_size=150)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.tuples(_TEXT, st.floats(0.0, 2.0), st.floats(0.01, 30.0)), min_size=1, max_size=5
    ),
    max_chars=st.one_of(st.none(), st.integers(1, 50)),
    with_words=st.booleans(),
)
def test_cues_keep_order_text_and_limits(
    pieces: list[tuple[str, float, float]], max_chars: int | None, with_words: bool
) -> None:
    parts, words, clock = [], [], 0.0
    for text, gap, length in pieces:
        piece = Timing(clock + gap, clock + gap + length, text)
        parts.append(piece)
        # Words as an engine might time them: evenly through the piece.
        tokens = text.split()
        step = length / max(1, len(tokens))
        words += [
            Timing(piece.start + i * step, piece.start + (i + 1) * step, w)
            for i, w in enumerate(tokens)
        ]
        clock = piece.end
    timings = Timings(tuple(parts), tuple(words) if with_words else None, clock)
    captions = cues(timings, max_chars=max_chars)
    said = [p for p in parts if p.text.strip()]
    if not said:
        assert captions == []
        return
    assert all(c.text == c.text.strip() and c.text for c in captions)
    assert all(c.start <= c.end for c in captions)
    assert all(a.end <= b.start for a, b in itertools.pairwise(captions))
    assert captions[-1].end == said[-1].end
    width = max_chars or 42
    # Only a word longer than the limit makes a longer cue: it is never cut.
    assert all(len(c.text) <= width or " " not in c.text for c in captions)
    assert re.sub(r"\s", "", "".join(c.text for c in captions)) == re.sub(
        r"\s", "", "".join(p.text for p in parts)
    )


def test_timings_round_trip_through_json_to_the_millisecond() -> None:
    timings = Timings(
        (Timing(0.12345, 1.5, "Hi."),),
        (Timing(0.12345, 0.5, "Hi"),),
        1.98765,
        words_note=None,
    )
    record = json.loads(json.dumps(timings.to_json()))
    assert record == {
        "duration": 1.988,
        "pieces": [{"start": 0.123, "end": 1.5, "text": "Hi."}],
        "words": [{"start": 0.123, "end": 0.5, "text": "Hi"}],
        "words_note": None,
        "marks": [],
    }
    assert Timings.from_json(record) == Timings(
        (Timing(0.123, 1.5, "Hi."),), (Timing(0.123, 0.5, "Hi"),), 1.988
    )
    no_words = Timings((Timing(0.0, 1.0, "x"),), None, 1.0, "this voice gives no word timings")
    assert Timings.from_json(json.loads(json.dumps(no_words.to_json()))) == no_words


@pytest.mark.parametrize("record", [{}, {"pieces": [{"start": "x"}]}, {"pieces": 3, "words": []}])
def test_a_record_that_is_not_timings_is_refused(record: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="not a timings record"):
        Timings.from_json(record)


EXAMPLE = [Timing(0.0, 1.5, "Hello there."), Timing(1.5, 3723.0456, "Still here?")]


def test_srt_is_exact() -> None:
    assert srt(EXAMPLE) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
        "2\n00:00:01,500 --> 01:02:03,046\nStill here?\n\n"
    )


def test_vtt_is_exact() -> None:
    assert vtt(EXAMPLE) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nHello there.\n\n"
        "00:00:01.500 --> 01:02:03.046\nStill here?\n\n"
    )
    assert vtt([]) == "WEBVTT\n\n"


def test_cue_text_cannot_break_the_format() -> None:
    said = [Timing(0.0, 1.0, "a --> b ---> c <i>d</i> & {\\an8}e\n\nf")]
    assert vtt(said).splitlines()[3] == (
        "a --&gt; b ---&gt; c &lt;i&gt;d&lt;/i&gt; &amp; {\\an8}e f"
    )
    text = srt(said).splitlines()[2]
    assert text == "a -- > b --- > c < i>d< /i> & { \\an8}e f"
    for written in (srt(said), vtt(said)):
        assert written.count("-->") == 1
        assert "<i>" not in written
    assert srt([Timing(0.0, 1.0, " \n ")]) == ""
