"""Traditional Chinese (as Taiwan and Hong Kong write it) read by the Mandarin voices as well as
Simplified: its polyphones read as their Simplified form's are (misaki's dictionaries are
Simplified), while the words of the timings stay as written; heard through Whisper base."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Speech
from listening import Listener, simplified, word_error_rate
from sayfile.engines.kokoro import KokoroEngine
from sayfile.engines.kokoro_mandarin import LATIN_RUN
from sayfile.engines.kokoro_words import mandarin_words
from sayfile.engines.traditional import simplified_for_reading
from sayfile.text.normalisation import Normalisation

DATA = Path(__file__).parent / "data"

# Everyday Traditional sentences (news, shops, messages; written for these tests), each with a
# word whose reading a Traditional character changed, and that word's reading in pinyin.
# Read as written, 12 of the first 38 were wrong (bench/traditional.py).
READINGS = [
    ("我們今天去銀行還錢。", "銀行", "yin2 hang2"),
    ("我們今天去銀行還錢。", "還錢", "huan2 qian2"),
    ("動物園裡的長頸鹿很高。", "長頸鹿", "chang2 jing3 lu4"),
    ("這孩子長得真快，已經長大了。", "長大", "zhang3 da4"),
    ("你還是先回家吧。", "還是", "hai2 shi4"),
    ("颱風來襲，請民眾注意安全。", "颱風", "tai2 feng1"),
    ("這家店的東西又好又便宜。", "便宜", "pian2 yi5"),
    ("我覺得這部電影很好看。", "覺得", "jue2 de5"),
    ("他昨晚睡覺睡得很晚。", "睡覺", "shui4 jiao4"),
    ("請重新輸入您的密碼。", "重新", "chong2 xin1"),
    ("這件事情非常重要。", "重要", "zhong4 yao4"),
    ("我們一起去聽音樂會吧。", "音樂", "yin1 yue4"),
    ("祝你生日快樂！", "快樂", "kuai4 le4"),
    ("房間已經打掃得很乾淨了。", "乾淨", "gan1 jing4"),
    ("乾隆皇帝在位六十年。", "乾隆", "qian2 long2"),
    ("他一邊走路一邊看著手機。", "看著", "kan4 zhe5"),
    ("別著急，慢慢來。", "著急", "zhao2 ji2"),
    ("孩子已經睡著了。", "睡著", "shui4 zhao2"),
    ("隨著天氣變冷，感冒的人變多了。", "隨著", "sui2 zhe5"),
    ("這本著作在臺灣很有名。", "著作", "zhu4 zuo4"),
    ("新制度的效果非常顯著。", "顯著", "xian3 zhu4"),
    ("她的頭髮又長又黑。", "頭髮", "tou2 fa5"),
    ("市政府將調查這起事故。", "調查", "diao4 cha2"),
    ("經理下週要去高雄出差。", "出差", "chu1 chai1"),
    ("請把問題處理好再下班。", "處理", "chu3 li3"),
    ("他數學考了一百分。", "數學", "shu4 xue2"),
    ("因為下雨，比賽延期了。", "因為", "yin1 wei4"),
    ("這部電影的主角是誰？", "主角", "zhu3 jue2"),
    ("這種水果在夏天最好吃。", "這種", "zhe4 zhong3"),
    ("政府發行了新的紀念幣。", "發行", "fa1 xing2"),
    ("這個月的營業額比上個月多。", "營業額", "ying2 ye4 e2"),
    ("我們公司的效率很高。", "效率", "xiao4 lv4"),
    ("這間餐廳的牛肉麵很好吃。", "牛肉麵", "niu2 rou4 mian4"),
    ("您的包裹已經送達便利商店。", "便利", "bian4 li4"),
    ("捷運站離這裡不遠。", "捷運", "jie2 yun4"),
    ("請問這件衣服多少錢？", "衣服", "yi1 fu5"),
    ("他們正在討論明年的預算。", "預算", "yu4 suan4"),
    ("這條路有多長？", "多長", "duo1 chang2"),
    ("他們是當地的土著居民。", "土著", "tu3 zhu4"),
    ("他做事一向很執著。", "執著", "zhi2 zhuo2"),
    ("飛機已經平安著陸。", "著陸", "zhuo2 lu4"),
]


def reading_of(pinyin: str) -> str:
    """The Mandarin voices' phonemes of `pinyin` (numbered tones), as misaki writes them."""
    from misaki.zh import ZHG2P

    return "".join(ZHG2P.py2ipa(syllable) for syllable in pinyin.split()).replace(chr(815), "")


def read(g2p: Any, words: Normalisation, text: str, reading: Callable[[str], str] | None) -> Any:
    """`text` as the Mandarin voices read it (said, then given to misaki, Simplified first
    when `reading` is given), with each word's place in the said text."""
    said = words.said(text, "zh")
    return said, mandarin_words(g2p, str, LATIN_RUN, reading(said) if reading else said)


@pytest.fixture(scope="module")
def g2p() -> Any:
    from misaki.zh import ZHG2P

    Normalisation().said("你好", "zh")  # jieba's words and pypinyin's phrases, as the voices'
    return ZHG2P(version=None)


@pytest.mark.parametrize(("text", "word", "pinyin"), READINGS)
def test_traditional_sentences_are_read_as_their_simplified_form_and_keep_their_words(
    g2p: Any, text: str, word: str, pinyin: str
) -> None:
    said, phonemes = read(g2p, Normalisation(), text, simplified_for_reading)
    assert reading_of(pinyin) in phonemes.phonemes.replace(" ", ""), (word, phonemes.phonemes)
    # The words (those of the timings) are the text's own, in Traditional characters.
    written = [said[start:end] for start, end in phonemes.words]
    assert "".join(written) == "".join(c for c in said if c.isalnum())
    assert any(word in w or w in word for w in written)


def test_a_classic_in_big5_keeps_its_length_and_every_character_s_place() -> None:
    """西遊記 as a Big5 file has it: the reading is as long as the text, character for
    character (so that words found in it are the text's), and Simplified."""
    text = (DATA / "wu-chengen-xiyouji.big5.txt").read_bytes().decode("big5")
    reading = simplified_for_reading(text)
    assert len(reading) == len(text)
    assert reading.startswith("西游记") and "灵根育孕源流出" in reading
    assert [c for c in text if not c.isalpha()] == [c for c in reading if not c.isalpha()]
    assert simplified_for_reading("我们今天去银行还钱。") == "我们今天去银行还钱。"


@pytest.mark.slow  # the model's tokenizer finds espeak-ng's library through ldconfig
@pytest.mark.parametrize(
    ("written", "right", "wrong"),
    [
        ("我們今天去銀行還錢", "i↗nxa↗ŋ", "ɕi↗ŋ"),  # yín háng, not yín xíng
        ("這個長頸鹿", "ꭧʰa↗ŋ", "ꭧa↓ŋ"),  # cháng, not zhǎng
        ("他一邊走路一邊看著手機", "kʰa↘nꭧɤ", "ꭧu↘"),  # kàn zhe, not kàn zhù
    ],
)
def test_the_mandarin_voice_is_given_the_reading_of_the_simplified_form(
    kokoro: KokoroEngine, written: str, right: str, wrong: str
) -> None:
    voice = {voice.id: voice for voice in kokoro.voices()}["kokoro:zm_yunjian"]
    phonemes = kokoro.phonemes(voice, Normalisation().said(written, "zh"))
    assert right in phonemes and wrong not in phonemes, phonemes


# Traditional sentences heard: a polyphone each that was read wrong as written, and Taiwan's
# dollars (kept to four: the suite's Whisper tests run one after another).
HEARD = [
    "我們今天去銀行還錢。",
    "動物園裡的長頸鹿很高。",
    "他一邊走路一邊看著手機。",
    "這支手機售價NT$12,900。",
]


def syllables(words: Normalisation, text: str) -> str:
    """`text` as said, in pinyin without tones, syllable by syllable, read from its Simplified
    form: what Whisper writes (either script, any homophone) and what was written compare by
    the sounds heard (长颈鹿 heard as 长景路 is heard right)."""
    from pypinyin import lazy_pinyin

    han = "".join(c for c in simplified(words.said(text, "zh")) if "\u4e00" <= c <= "\u9fff")
    return " ".join(lazy_pinyin(han))


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_traditional_sentences_are_heard_as_written_and_timed_in_their_own_characters(
    voices: Speech, listener: Listener, tmp_path: Path
) -> None:
    words = Normalisation()
    clips = voices.apart(HEARD, "", tmp_path / "spoken.wav", language="zh")
    rates = []
    for sentence, clip in zip(HEARD, clips, strict=True):
        heard = listener.hear(clip, "zh")
        expected = syllables(words, sentence)
        rates.append((word_error_rate(expected, syllables(words, heard)), heard))
    assert statistics.mean(rate for rate, _ in rates) <= 0.05, rates
    text = "".join(HEARD[:2])
    result = voices.write(voices.plan(text, format="wav", language="zh"), tmp_path / "two.wav")
    timed = result.timings.words or ()
    assert all(text[w.chars[0] : w.chars[1]] == w.text for w in timed if w.chars)
    assert "銀行" in [w.text for w in timed] and "長頸鹿" in [w.text for w in timed]


@pytest.mark.parametrize(
    ("written", "said"),
    [
        # Dollars before the amount: the letters were said, then 美元.
        ("售價NT$12,900。", "售價新台币一万二千九百元。"),
        ("門票NT$350元", "門票新台币三百五十元"),
        ("港幣HK$88", "港幣八十八元"),
        ("HK$1,200", "港币一千二百元"),
        ("US$5", "五美元"),
        ("NT$3萬", "新台币三万元"),
        # Counted things in Traditional characters: wetext said 二個, 二點, 二点五零萬.
        ("我們2個人", "我們两个人"),
        ("2張票", "两张票"),
        ("下午2點", "下午两点"),
        ("2.50萬元", "二点五万元"),
        ("跑了2公尺", "跑了两公尺"),
        ("2坪", "两坪"),
        # The Republic's dates on forms and receipts (read as two fractions before).
        ("有效期限：115/12/06", "有效期限：一百一十五年十二月六日"),
        ("民國115年12月6日", "民國一百一十五年十二月六日"),  # as it was
        # Taiwan's mobile numbers, grouped; unbroken one was an amount (零九亿...).
        ("請撥0912-345-678", "請撥零九一二，三四五，六七八"),
        ("電話：+886 2 2345 6789", "電話：加八八六，二，二三四五，六七八九"),
        # A time taken and ten thousands written w, in Traditional characters.
        ("跑了5公里用時25:30", "跑了五公里用時二十五分三十秒"),
        ("粉絲3.5w", "粉絲三点五万"),
        ("0912345678", "零九一二，三四五，六七八"),
        # Quotes and marks misaki drops (no pause) as the ones it reads.
        ("他說：『好。』", "他說：「好。」"),
        ("等一下﹗好嗎﹖", "等一下！好嗎？"),
        # The mainland's text as it was.
        ("我有2个苹果，1/2的人", "我有两个苹果，二分之一的人"),
        ("2026/12/06", "二零二六年十二月六日"),
    ],
)
def test_what_taiwan_and_hong_kong_write_is_said_as_people_there_say_it(
    written: str, said: str
) -> None:
    assert Normalisation().said(written, "zh") == said


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_a_price_in_taiwan_or_hong_kong_dollars_after_a_space_is_timed_as_written(
    speech: Speech, tmp_path: Path
) -> None:
    # The space before NT$ was taken into the price: the timings' word was " NT$1,500 元",
    # starting a character early, and the read-along marked the space with it.
    text = "這張票 NT$1,500 元，那張 HK$88。"
    plan = speech.plan(text, format="wav", language="zh-TW")
    timed = speech.write(plan, tmp_path / "price.wav").timings.words or ()
    assert [w.text for w in timed if "$" in w.text] == ["NT$1,500 元", "HK$88"]
    assert all(text[w.chars[0] : w.chars[1]] == w.text for w in timed if w.chars)
