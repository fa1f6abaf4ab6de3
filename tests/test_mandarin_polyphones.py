"""Mandarin polyphones (多音字) in everyday sentences, read as people say them by the Mandarin
voices' reading path (misaki's ZHG2P through jieba and pypinyin, engines/mandarin_polyphones.py),
and heard so by a speech recognizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Speech
from listening import Listener, simplified
from sayfile.engines.kokoro_mandarin import LATIN_RUN
from sayfile.engines.kokoro_words import mandarin_words
from sayfile.engines.mandarin_polyphones import mandarin_reader, readings
from sayfile.text.normalisation import Normalisation
from sayfile.text.sentences import sentences

# Everyday sentences (news, shop, school, chat), each polyphone followed by how it is said
# (pinyin, tone number, 5 for the neutral tone). The unmarked characters are left to the
# reader. Each row was checked against a dictionary's reading in its context; sentences whose
# reading only their meaning decides (头发长了, 背着, 他打的) are not here.
SENTENCES = (
    "这件衣服很长[chang2]。",
    "这条路太长[chang2]了[le5]。",
    "他长[zhang3]得很像他爸爸。",
    "我们的校长[zhang3]今天来开会。",
    "孩子们都长[zhang3]大了[le5]。",
    "长[chang2]城是中国最有名的景点。",
    "会议开得太长[chang2]，大家都很累[lei4]。",
    "他是公司的部长[zhang3]。",
    "今年的经济增长[zhang3]很快。",
    "银行[hang2]门口有一行[hang2]字。",
    "我们明天一起去银行[hang2]办卡。",
    "这样做不行[xing2]。",
    "他在这一行[hang2]干[gan4]了十年。",
    "我们步行[xing2]去学校吧。",
    "旅行[xing2]的时候要带好护照。",
    "请把第三行[hang2]删掉。",
    "行[xing2]李放在门口就好。",
    "你真行[xing2]！",
    "我还[hai2]没吃饭呢。",
    "明天记得还[huan2]书。",
    "他昨天还[huan2]了我一百块钱。",
    "还[hai2]有别的问题吗？",
    "借的钱要按时还[huan2]。",
    "你得[dei3]好好学习。",
    "我得[dei3]走了[le5]。",
    "他跑得[de5]很快。",
    "我觉[jue2]得[de5]这个主意不错。",
    "他得[de2]了第一[yi1]名。",
    "他第一[yi1]个到。",
    "一[yi1]月一[yi1]号是新年。",
    "这次考试他得[de2]了满分。",
    "我们得[dei3]赶快出发。",
    "获得[de2]冠军很不容易。",
    "这种[zhong3]种[zhong3]子要种[zhong4]在地里。",
    "春天农民都在种[zhong4]地。",
    "我不喜欢这种[zhong3]颜色。",
    "院子里种[zhong4]了很多花。",
    "超市里有各种[zhong3]各样的水果。",
    "数[shu3]一数[shu3]。",
    "你数[shu3]一数[shu3]有多少人。",
    "请你数[shu3]一下钱。",
    "数[shu4]学是我最喜欢的课。",
    "今天来的人数[shu4]太多了。",
    "把空[kong1]调[tiao2]调[tiao2]到二十六度。",
    "他被调[diao4]到北京工作。",
    "这首歌的调[diao4]子很好听。",
    "我们需要调[diao4]查一下原因。",
    "请把声音调[tiao2]小一点。",
    "天冷了，把温度调[tiao2]高一点。",
    "他说下个月一定还[huan2]钱，请把音量调[tiao2]到最小。",
    "我们重[chong2]新开始吧。",
    "这个箱子很重[zhong4]。",
    "这件事很重[zhong4]要。",
    "请再重[chong2]复一遍。",
    "他们在重[chong2]庆上大学。",
    "我的背[bei1]包丢了。",
    "别着[zhao2]急，慢慢来。",
    "房子着[zhao2]火了[le5]。",
    "孩子已经睡着[zhao2]了[le5]。",
    "他笑着[zhe5]说没关系。",
    "我看着[zhe5]窗外发呆。",
    "我找不着[zhao2]钥匙了。",
    "我吃了[le5]饭就走。",
    "这件事我已经了[liao3]解了[le5]。",
    "这么热的天我真受不了[liao3]。",
    "他高兴地[de5]跑回家。",
    "地[di4]上有很多水。",
    "我们慢慢地[de5]走。",
    "这块地[di4]很大。",
    "这是我的[de5]书。",
    "你这么做的目的[di4]是什么？",
    "我的[di2]确[que4]不知道。",
    "我们为[wei4]什么要学习？",
    "他被选为[wei2]班长[zhang3]。",
    "我认为[wei2]这样不对。",
    "为[wei4]了健康，他每天跑步。",
    "这是专门为[wei4]你准备的。",
    "她在大学教[jiao1]英语。",
    "教[jiao4]室里很安静。",
    "请你教[jiao1]我做饭。",
    "教[jiao4]育是国家的大事。",
    "学校下周放假[jia4]。",
    "这个消息是假[jia3]的。",
    "我请了三天假[jia4]。",
    "暑假[jia4]你打算去哪儿？",
    "我的成绩很差[cha4]。",
    "他下个月去上海出差[chai1]。",
    "两个人的年龄差[cha1]不大。",
    "我们差[cha4]不多到了。",
    "这两个方案没有什么差[cha1]别。",
    "这家店的东西很便[pian2]宜。",
    "坐地铁很方便[bian4]。",
    "你随便[bian4]坐。",
    "便[pian2]宜的东西不一定好。",
    "衣服已经晒干[gan1]了。",
    "你在干[gan4]什么？",
    "他干[gan4]活很认真。",
    "请用干[gan1]净的杯子。",
    "我和[he2]你一起去。",
    "今天天气很暖和[huo5]。",
    "祝你生日快乐[le4]。",
    "我喜欢听音乐[yue4]。",
    "他是乐[yue4]队的鼓手。",
    "我曾[ceng2]经去过北京。",
    "曾[zeng1]老师教[jiao1]我们数学。",
    "他把钱藏[cang2]在床下。",
    "西藏[zang4]的风景很美。",
    "大门朝[chao2]南开。",
    "年轻人要有朝[zhao1]气。",
    "明朝[chao2]的历史很长[chang2]。",
    "这个消息传[chuan2]得很快。",
    "他写了一本自传[zhuan4]。",
    "请把文件传[chuan2]给我。",
    "这个问题怎么处[chu3]理？",
    "你去办事处[chu4]问问。",
    "我们相处[chu3]得很好。",
    "到处[chu4]都是人。",
    "我当[dang1]时不在家。",
    "他把我当[dang4]成好朋友。",
    "我们上当[dang4]了。",
    "他长[zhang3]大想当[dang1]老师。",
    "请给我倒[dao4]一杯水。",
    "他不小心摔倒[dao3]了。",
    "那家公司倒[dao3]闭了。",
    "现在是三点十分[fen1]。",
    "请把蛋糕分[fen1]成四块。",
    "你这样说太过分[fen4]了。",
    "今天比昨天更[geng4]冷。",
    "请及时更[geng1]新你的软件。",
    "他从小就很好[hao4]学。",
    "我的爱好[hao4]是画画。",
    "今天天气很好[hao3]。",
    "孩子好[hao4]奇地[de5]看着[zhe5]我。",
    "今天是几号[hao4]？",
    "我明天有空[kong4]。",
    "天空[kong1]很蓝。",
    "请在这里填空[kong4]。",
    "把空[kong1]调[tiao2]打开吧。",
    "今天来的人很少[shao3]。",
    "他还是个少[shao4]年。",
    "不少[shao3]人都来了。",
    "我要去睡觉[jiao4]了。",
    "我觉[jue2]得很冷。",
    "他中午睡了个午觉[jiao4]。",
    "今天工作很累[lei4]。",
    "经验是慢慢积累[lei3]的。",
    "请量[liang2]一下体温。",
    "今天的工作量[liang4]很大。",
    "这道题很难[nan2]。",
    "很多人在地震中遇难[nan4]。",
    "他高兴得像个孩子似[shi4]的[de5]。",
    "北京是中国的首都[du1]。",
    "我们都[dou1]去吧。",
    "他演的角[jue2]色很有意思。",
    "这张桌子有四个角[jiao3]。",
    "我喜欢薄[bo4]荷的味道。",
    "这本书很薄[bao2]。",
    "快乐[le4]的音乐[yue4]让人放松。",
    "我还[hai2]了[liao3]解一些情况。",
    "我觉[jue2]得[de5]这个菜好好吃。",
    "他得[de2]到了老师的表扬。",
    "这种[zhong3]花很香。",
    "我想请教[jiao4]你一个问题。",
    "这里种[zhong3]类很多。",
    "这个问题值得[de5]注意。",
    "他很长[chang2]时间没来了。",
    "这是他打的[de5]电话。",
    "他每天都在教[jiao1]我们唱歌。",
)


def _no_english(run: str) -> str:
    raise AssertionError(f"no Latin letters in these sentences: {run}")


def misread(sentence: str) -> list[tuple[str, str, str]]:
    """Each marked character of `sentence` (text as said: normalisation leaves it as it is,
    and teaches its own phrases) whose phonemes, as the Mandarin voices are given them, are
    not its reading: (character, reading, phonemes of its word)."""
    from misaki.zh import ZHG2P
    from pypinyin import Style, lazy_pinyin

    text, marked = readings(sentence)
    assert Normalisation().said(text, "zh") == text
    said = mandarin_words(mandarin_reader(), _no_english, LATIN_RUN, text)
    wrong = []
    for index, (start, end) in enumerate(said.words):
        word = text[start:end]
        if not any(start <= at < end for at in marked):
            continue
        syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        syllables = [marked.get(start + at, s) for at, s in enumerate(syllables)]
        expected = "".join(ZHG2P.py2ipa(s) for s in syllables).replace("\u032f", "")
        got = "".join(
            s for s, owner in zip(said.phonemes, said.owners, strict=True) if owner == index
        )
        if got != expected:
            wrong += [(text[at], marked[at], got) for at in marked if start <= at < end]
    return wrong


def test_everyday_polyphones_are_read_as_people_say_them() -> None:
    wrong = {sentence: misread(sentence) for sentence in SENTENCES}
    assert not {sentence: found for sentence, found in wrong.items() if found}


def test_the_table_of_readings_marks_one_reading_per_character() -> None:
    text, marked = readings("银行[hang2]门口有一行[hang2]字")
    assert text == "银行门口有一行字"
    assert marked == {1: "hang2", 6: "hang2"}
    assert len(SENTENCES) == len(set(SENTENCES)) >= 120


@pytest.mark.parametrize(
    ("text", "right"),
    [
        ("请按时还款。", "xwa↗nkʰwa↓n"),  # huán, not hái
        ("把空调调到二十六度。", "kʰʊ→ŋtʰjau↗tʰjau↗tau↘"),  # tiáo, not diào
        ("这条河有多长？", "two→ꭧʰa↗ŋ"),  # cháng, not zhǎng
    ],
)
def test_the_mandarin_voices_read_the_whole_table_even_before_any_text_is_normalised(
    text: str, right: str
) -> None:
    # Normalisation's phrases (还款, 调到, 多长) were taught only when Mandarin's normaliser was
    # made, so a reader made first read them hái, diào, zhǎng.
    assert right in mandarin_reader()(text)[0]


def test_a_long_chinese_sentence_cut_for_its_length_keeps_the_tables_words_whole() -> None:
    # The sentence cutter's jieba knew only normalisation's phrases, so it cut 一行|字 and the
    # voice read the line (háng) as xíng.
    text = "我们今天在银行门口看到墙上有一行字写得很清楚大家都看见了"
    assert list(sentences(text, max_chars=text.index("一行字") + 2)) == [
        "我们今天在银行门口看到墙上有",
        "一行字写得很清楚大家都看见了",
    ]


# Sentences whose polyphone was read wrong before, each with what Whisper base writes of the
# polyphone's words when it hears them right (before: 异形子, 第三型, 15移术, 你的, 叫我, 横掌).
# 你得 (děi): Whisper base writes 得 from the audio made on a CPU with VNNI, 背 (bèi: the same
# final, the same falling end) from the audio made on one without, whose int8 sums differ;
# never 的 (de), the reading before.
HEARD = (
    ("银行门口有一行字。", ("一行",)),
    ("数一数。", ("数一数",)),
    ("你得好好学习。", ("你得", "你背")),
    ("请你教我做饭。", ("教我",)),
)


@pytest.mark.slow
@pytest.mark.usefixtures("ffmpeg")
def test_polyphones_put_right_are_heard_so(
    speech: Speech, listener: Listener, tmp_path: Path
) -> None:
    assert speech.catalogue.resolve(language="zh").id == "kokoro:zm_yunjian"
    sentences = [sentence for sentence, _ in HEARD]
    clips = speech.apart(sentences, "", tmp_path / "spoken.wav", language="zh")
    heard = [simplified(listener.hear(clip, "zh")) for clip in clips]
    missed = [
        (words, said)
        for (_, words), said in zip(HEARD, heard, strict=True)
        if not any(word in said for word in words)
    ]
    assert not missed, heard
