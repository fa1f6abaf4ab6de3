"""Kokoro's Japanese phonemes back to the words of the text (engines/japanese_words.py): Open
JTalk's words at their place in the text, numbers it reads out as one word, marks never a
word, and each word timed from hand-made durations of its phonemes (no model loaded)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sayfile.engines.japanese import OpenJTalkReader
from sayfile.engines.japanese_words import ReadWord, japanese_words
from sayfile.engines.kokoro_run import KokoroRun
from sayfile.engines.kokoro_words import PhonemeWords, word_samples

SENTENCES = Path(__file__).parent / "data" / "japanese-sentences.tsv"
_HAN = re.compile("[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def reader() -> OpenJTalkReader:
    return OpenJTalkReader()


def _words(text: str, said: PhonemeWords) -> list[tuple[str, str]]:
    """Each word's text and the phonemes given to it."""
    return [
        (
            text[start:end],
            "".join(s for s, o in zip(said.phonemes, said.owners, strict=True) if o == n),
        )
        for n, (start, end) in enumerate(said.words)
    ]


def test_open_jtalks_words_keep_their_particles_and_auxiliaries_and_marks_are_no_word(
    reader: OpenJTalkReader,
) -> None:
    text = "今日は1,500円でAIの本を3冊買いました。「すごい」ですね！"
    said = reader.words(text)
    assert said.phonemes == reader(text)  # the phonemes the voice is given, unchanged
    assert _words(text, said) == [
        ("今日", "kʲoː"), ("は", "βa"),
        ("1,500", "seɴɡoçakɯ"),  # read out as 千五百: one word spanning what it replaced
        ("円", "eɴ"), ("で", "de"), ("AI", "eːai"), ("の", "no"), ("本", "hoɴ"),
        ("を", "o"), ("3", "saɴ"), ("冊", "saʦɨ"), ("買い", "kai"), ("まし", "maɕi"),
        ("た", "ta"), ("すごい", "sɨɡoi"), ("です", "desɨ"), ("ね", "ne"),
    ]  # fmt: skip
    for mark in "。「」！,":
        assert all(said.owners[n] == -1 for n, s in enumerate(said.phonemes) if s == mark)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026/4/1に会います", ["2026/4/1", "に", "会い", "ます"]),  # a date is one word
        ("3〜5日です", ["3〜5日", "です"]),  # said 三から五日
        ("気温は-5℃", ["気温", "は", "-5℃"]),  # said マイナス五度
        ("03-1234-5678", ["03", "1234", "5678"]),  # digits one by one: one word a run
        ("約10.5%増", ["約", "10.5", "%", "増"]),  # 十 点 五: one number
        ("ｶﾞｷﾞの㍻", ["ｶﾞｷﾞ", "の", "㍻"]),  # half-width kana and a ligature, as written
        ("第3章　Kokoro-82M", ["第", "3", "章", "Kokoro", "82", "M"]),
    ],
)
def test_text_the_reader_rewrites_is_placed_where_it_was_written(
    reader: OpenJTalkReader, text: str, words: list[str]
) -> None:
    said = reader.words(text)
    assert [text[start:end] for start, end in said.words] == words
    assert {o for o in said.owners if o >= 0} == set(range(len(words)))


def test_every_han_character_of_the_held_out_sentences_is_in_exactly_one_word(
    reader: OpenJTalkReader,
) -> None:
    lines = SENTENCES.read_text("utf-8").splitlines()
    for text in [line.split("\t")[0] for line in lines if line and not line.startswith("#")]:
        said = reader.words(text)
        covered = [0] * len(text)
        for start, end in said.words:
            for at in range(start, end):
                covered[at] += 1
        assert all(covered[m.start()] == 1 for m in _HAN.finditer(text)), text
        starts = [start for start, _ in said.words]
        assert starts == sorted(set(starts)), text
        assert all(phonemes for _, phonemes in _words(text, said)), text


_KANA = {"か": "ka", "き": "kʲi", "ゃ": "ja", "ん": "ɴ", "な": "na", "ね": "ne", "、": ","}


def _kana_reading(before: str | None, kana: str, after: str | None) -> str:
    """A romaniser in miniature: き before ゃ is read with it (as misaki's is)."""
    if kana == "き" and after == "ゃ":
        return ""
    if kana == "ゃ" and before == "き":
        return "kʲa"
    return _KANA[kana]


def test_a_kana_read_with_its_neighbour_in_a_joined_word_goes_to_the_word_it_is_in() -> None:
    # Open JTalk's き and ゃん, which the romaniser knows as one word (きゃん).
    read = [
        ReadWord("き", "き", "き", False),
        ReadWord("ゃん", "ゃん", "ゃん", False),
        ReadWord("、", "、", "、", True),
        ReadWord("かね", "かね", "かね", False),
    ]
    said = japanese_words("きゃん、かね", read, "kʲaɴ, kane", _kana_reading, frozenset({"きゃん"}))
    # き's sound is said with ゃ, so it is ゃん's; き, with none of its own, is in the word
    # after it.
    assert said.words == ((0, 3), (4, 6))
    assert said.owners == (0, 0, 0, 0, -1, -1, 1, 1, 1, 1)
    # After a word too: き goes with the word its sound is in, not the one before it.
    after = japanese_words(
        "かねきゃん", [read[3], read[0], read[1]], "kane kʲaɴ", _kana_reading, frozenset({"きゃん"})
    )
    assert after.words == ((0, 2), (2, 5))


def test_phonemes_that_differ_from_the_words_are_shared_out_and_every_word_is_kept() -> None:
    read = [ReadWord("かね", "かね", "かね", False), ReadWord("な", "な", "な", False)]
    said = japanese_words("かねな", read, "kane na", _kana_reading, frozenset())
    assert said.owners == (0, 0, 0, 0, -1, 1, 1)
    other = japanese_words("かねな", read, "kanʲe na", _kana_reading, frozenset())
    assert other.words == ((0, 2), (2, 3))  # not the same symbols: shared out in order
    assert other.owners == (0, 0, 0, 0, 0, -1, 1, 1)


class _Durations:
    """Kokoro's timed model in miniature: each token heard for 2 units of 600 samples, loud;
    the pads silent for 5 units."""

    def run(self, _: Any, inputs: dict[str, Any]) -> list[Any]:
        inner = len(inputs["tokens"][0]) - 2
        durations = np.array([[5, *[2] * inner, 5]], dtype=np.int64)
        silence = np.zeros(3000, np.float32)
        audio = np.concatenate([silence, np.full(1200 * inner, 0.5, np.float32), silence])
        return [audio, durations]


def test_each_word_is_timed_from_its_phonemes_durations_in_order(
    reader: OpenJTalkReader,
) -> None:
    text = "東京で、1,500円の本を買います。"
    said = reader.words(text).spaced()
    vocab = {symbol: n for n, symbol in enumerate(sorted(set(said.phonemes)), 1)}
    timed = KokoroRun(_Durations(), vocab)(said.phonemes, np.zeros((510, 1, 256), np.float32), 1.0)
    words = word_samples(said, timed.spans.tolist())
    assert [text[s:e] for s, e, _, _ in words] == [
        "東京", "で", "1,500", "円", "の", "本", "を", "買い", "ます",
    ]  # fmt: skip
    starts = [start for _, _, start, _ in words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # 1,500 comes after a pause mark (、), so it is heard from its first phoneme (not the
    # space before it) to the end of its last one: 10 symbols.
    number = words[2]
    first = said.phonemes.index(" seɴ") + 1
    assert number[2] == timed.spans[first, 0]
    assert number[3] - number[2] == len("seɴ ɡoçakɯ") * 1200
    assert words[-1][3] <= len(timed.audio)
