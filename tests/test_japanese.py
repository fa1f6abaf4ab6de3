"""Japanese text to Kokoro phonemes (sayfile/engines/japanese.py): kanji, numbers with their
counters and Latin words are read as Japanese, in symbols the model has."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest

from sayfile.engines.japanese import OpenJTalkReader
from sayfile.text.language_detection import language_by_script

SENTENCES = Path(__file__).parent / "data" / "japanese-sentences.tsv"


@pytest.fixture(scope="module")
def reader() -> OpenJTalkReader:
    return OpenJTalkReader()


def held_out() -> list[str]:
    lines = SENTENCES.read_text("utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line and not line.startswith("#")]


def kokoro_symbols() -> set[str]:
    config = json.loads((resources.files("kokoro_onnx") / "config.json").read_text("utf-8"))
    return set(config["vocab"]) | {" "}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("東京", "toːkʲoː"),  # kanji: the reading, not "Chinese letter"
        ("今日は良い天気ですね。", "kʲoː βa joi teŋkʲi desɨ ne."),
        ("さくら", "sakɯɾa"),  # kana keeps its /a/ (espeak-ng wrote ä and it was dropped)
        ("3人", "saɴ ɲiɴ"),
        ("1人", "çitoɾʲi"),  # counters change the number's sound
        ("15時30分", "ʥɨːɡo ʥi saɲʥɨʔpɯɴ"),
        ("2026年", "ɲi seɴ ɲiʥɨːɾokɯ neɴ"),
        ("1,500円", "seɴ ɡoçakɯ eɴ"),  # one number, not 1 and 500
        ("4月1日", "ɕiɡaʦɨ ʦɨitaʨi"),
        ("2026/4/1", "ɲi seɴ ɲiʥɨːɾokɯ neɴ ɕiɡaʦɨ ʦɨitaʨi"),  # a date as it is said
        ("気温は-5℃です。", "kʲioɴ βa mainasɨ ɡo do desɨ."),  # not "気温は5です"
        ("3〜5日", "saɴ kaɾa iʦɨka"),
        # A phone number digit by digit, a pause at each dash (the digits used to crash).
        ("03-1234-5678", "ʣeɾo saɴ, iʨi ɲiː saɴ joɴ, ɡoː ɾokɯ nana haʨi"),
    ],
)
def test_kanji_and_numbers_are_read_as_japanese(
    reader: OpenJTalkReader, text: str, said: str
) -> None:
    assert reader(text) == said


def test_latin_words_in_japanese_are_read_in_kana(reader: OpenJTalkReader) -> None:
    said = reader("iPhoneでメールを送ります。")
    assert said.startswith("aiɸoɴ de meːɾɯ")
    assert not any("a" <= c <= "z" and c not in "abdefhijkmnoprstuvwz" for c in said)


@pytest.mark.slow  # Kokoro's real phoneme set
def test_every_phoneme_is_one_kokoro_has(reader: OpenJTalkReader) -> None:
    symbols = kokoro_symbols()
    texts = [
        *held_out(),
        "あいうえお、かきくけこ。",
        "「はい」と言った！",
        "PPTとUSBで会議？",
        "電話は090-1234-5678です。",
    ]
    for text in texts:
        said = reader(text)
        assert said and "ä" not in said
        assert set(said) <= symbols, (text, set(said) - symbols)


def test_threads_share_one_reader(reader: OpenJTalkReader) -> None:
    texts = held_out() * 4
    alone = [reader(text) for text in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(reader, texts)) == alone


def test_kana_makes_text_japanese_and_kanji_alone_does_not() -> None:
    assert language_by_script("今日は雨が降っています。") == "ja"
    # Kanji alone are Chinese unless the request says `ja` or names a Japanese voice.
    assert language_by_script("東京都") == "zh"
