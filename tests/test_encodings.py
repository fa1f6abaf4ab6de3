"""Text in the encodings people have it in: the one decoder (sayfile/encodings.py), and the
real excerpts in tests/data read the same way by the command line and over HTTP."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, sayfile_cli, wait_done
from sayfile.books.reading import open_book
from sayfile.errors import UnreadableText
from sayfile.text.encodings import decode_text
from sayfile.text.sentences import sentences

DATA = Path(__file__).parent / "data"

# (text, how it is encoded, the encoding the job reports)
TABLE = [
    ("Un café, s’il vous plaît.", "utf-8", "utf-8"),
    ("\ufeff你好，世界。这是一本书。", "utf-8", "utf-8"),
    ("\ufeff第一章 风暴。风越来越大了。", "utf-16-le", "utf-16le"),
    ("\ufeff第一章 风暴。风越来越大了。", "utf-16-be", "utf-16be"),
    ("\ufeffHello, wide world.", "utf-32-le", "utf-32le"),
    (
        "今天晚上，很好的月光。我不见他，已是三十多年；今天见了，精神分外爽快。",
        "gb18030",
        "gb18030",
    ),
    ("今天晚上，很好的月光。我不见他，已是三十多年；今天见了，精神分外爽快。", "gbk", "gb18030"),
    ("今天晚上，很好的月光。我不见他，已是三十多年；今天见了，精神分外爽快。", "gb2312", "gb18030"),
    ("今天晚上，很好的月光。我不見他，已是三十多年；今天見了，精神分外爽快。", "big5", "big5"),
    (
        "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗い所で泣いていた。",
        "shift_jis",
        "shift_jis",
    ),
    ("동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세.", "euc-kr", "euc-kr"),
    (
        "Il était une fois, dans un château très élevé, une princesse qui rêvait d’être reine. "
        "« Ça suffit ! » dit-elle. Où est-il allé ? Là-bas, près de la forêt.",
        "cp1252",
        "windows-1252",
    ),
    # German with „quotes“, which the detector alone takes for Mac Turkish.
    (
        "Größe, Übermut und Äpfel; Straße – „Anführungszeichen“ sind schön.",
        "cp1252",
        "windows-1252",
    ),
    (
        "Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива "
        "по-своему. Всё смешалось в доме Облонских.",
        "cp1251",
        "windows-1251",
    ),
    (
        "Litwo! Ojczyzno moja! ty jesteś jak zdrowie. Ile cię trzeba cenić, ten tylko się dowie, "
        "kto cię stracił. Dziś piękność twą w całej ozdobie widzę i opisuję.",
        "cp1250",
        "windows-1250",
    ),
    (
        "Άνδρα μοι έννεπε, Μούσα, πολύτροπον, ος μάλα πολλά πλάγχθη, επεί Τροίης ιερόν "
        "πτολίεθρον έπερσε.",
        "cp1253",
        "windows-1253",
    ),
]


@pytest.mark.parametrize(("text", "codec", "label"), TABLE, ids=[row[2] for row in TABLE])
def test_each_encoding_reads_back_its_text(text: str, codec: str, label: str) -> None:
    decoded = decode_text(text.encode(codec))
    assert decoded.text == text.removeprefix("\ufeff")
    assert decoded.encoding == label


# Short text, where the detector alone had too little to go on (你好 in GBK was read as Big5,
# 打开空调 as EUC-KR, 你好，世界。 and café as UTF-16): (text, how it is encoded).
SHORT = [
    *((text, "gbk") for text in ["你好", "谢谢！", "晚安", "打开空调", "今天天气很好。"]),
    *((text, "gbk") for text in ["你好，世界。", "我爱你", "现在几点了？", "中华人民共和国"]),
    *((text, "gbk") for text in ["播放音乐", "我们下午三点开会。", "北京欢迎你", "对不起"]),
    ("謝謝！", "big5"),
    ("打開冷氣", "big5"),
    ("現在幾點了？", "big5"),
    ("日本語", "shift_jis"),
    ("音楽を再生して", "shift_jis"),
    ("오늘 날씨가 좋네요.", "euc-kr"),
    ("잘 자요", "euc-kr"),
    ("café", "cp1252"),
    ("Ça va ?", "cp1252"),
    ("Straße", "cp1252"),
    ("il n’est pas là", "cp1252"),
    ("te. „Was ist mit", "cp1252"),
    ("Привет, мир", "cp1251"),
    ("Ελλάδα", "cp1253"),
]


@pytest.mark.parametrize(("text", "codec"), SHORT, ids=[f"{c}:{t}" for t, c in SHORT])
def test_short_text_is_read_in_the_code_page_it_is_in(text: str, codec: str) -> None:
    assert decode_text(text.encode(codec)).text == text


def test_valid_utf8_always_wins_and_a_declared_charset_comes_first() -> None:
    # "Ã©tÃ©" is what a cp1252 reader makes of UTF-8 "été"; the UTF-8 reading wins.
    assert decode_text("été à Noël".encode()).text == "été à Noël"
    assert decode_text("Ã©tÃ©".encode("cp1252")).encoding == "utf-8"
    # A declared charset is believed when the bytes are valid in it...
    assert decode_text("café".encode("latin-1"), "ISO-8859-1").encoding == "windows-1252"
    assert decode_text("你好".encode("gbk"), "GBK").text == "你好"
    # ...and a wrong one (or one nobody knows) gives way to what the bytes are.
    chinese = TABLE[5][0]
    assert decode_text(chinese.encode("gb18030"), "utf-8").text == chinese
    assert decode_text(chinese.encode("gb18030"), "x-no-such").text == chinese


def test_bytes_no_encoding_explains_are_refused_with_their_offset() -> None:
    noise = random.Random(21).randbytes(3000)
    data = b"Chapter 1\n\n" + noise
    with pytest.raises(UnreadableText) as refused:
        decode_text(data, what="'noise.txt'", field="file")
    first_bad = len(b"Chapter 1\n\n") + _first_invalid_utf8(noise)
    assert refused.value.offset == first_bad
    assert f"offset {first_bad} ({data[first_bad : first_bad + 4].hex(' ')})" in str(refused.value)
    assert refused.value.field == "file"
    with pytest.raises(UnreadableText, match="NUL characters"):
        decode_text("Hello".encode("utf-16-le"))


def _first_invalid_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    raise AssertionError("valid UTF-8")


# The real excerpts: (file, encoding, chapter titles, words that must come out)
EXCERPTS = [
    (
        "lu-xun-nahan.gb18030.txt",
        "gb18030",
        ["lu-xun-nahan.gb18030", "第一章 狂人日记", "第二章 孔乙己"],
        "孔乙己是站着喝酒而穿长衫的唯一的人",
    ),
    (
        "wu-chengen-xiyouji.big5.txt",
        "big5",
        [
            "wu-chengen-xiyouji.big5",
            "第一回 靈根育孕源流出 心性修持大道生",
            "第二回 悟徹菩提真妙理 斷魔歸本合元神",
        ],
        "混沌未分天地亂",
    ),
    (
        "natsume-soseki-wagahai.shift_jis.txt",
        "shift_jis",
        ["natsume-soseki-wagahai.shift jis"],
        "吾輩は猫である。名前はまだ無い。",
    ),
    (
        "hugo-miserables.windows-1252.txt",
        "windows-1252",
        ["hugo-miserables.windows-1252"],
        "« Il avait le cœur bon », disait-on.",
    ),
    (
        "hongloumeng-web.gbk.txt",
        "gb18030",
        ["第二回 贾夫人仙逝扬州城 冷子兴演说荣国府"],
        "封家人个个都惊慌，不知何兆．",
    ),
    (
        "kafka-verwandlung.windows-1252.txt",
        "windows-1252",
        ["kafka-verwandlung.windows-1252"],
        "„Was ist mit mir geschehen?“, dachte er.",
    ),
]
_IDS = [row[1] + ":" + row[0].split(".")[0] for row in EXCERPTS]


@pytest.mark.parametrize(("name", "encoding", "titles", "words"), EXCERPTS, ids=_IDS)
def test_real_excerpts_are_read_into_their_chapters(
    name: str, encoding: str, titles: list[str], words: str
) -> None:
    book = open_book(DATA / name, name)
    assert book.encoding == encoding
    assert [chapter.title for chapter in book.chapters] == titles
    assert words in " ".join(chapter.text for chapter in book.chapters)


def test_a_web_copy_of_a_novel_is_cut_at_its_full_width_full_stops() -> None:
    """Chinese text from the web ends sentences in ． as often as in 。: each is a sentence
    said on its own, not a run of a whole paragraph (the longest piece had been 236
    characters, a minute of speech said in one breath, and the dearest to make), and a
    paragraph ending in ． gets no second full stop."""
    book = open_book(DATA / "hongloumeng-web.gbk.txt", "hongloumeng-web.gbk.txt")
    pieces = list(sentences(" ".join(chapter.text for chapter in book.chapters)))
    assert len(pieces) >= 20 and max(map(len, pieces)) <= 60, [len(p) for p in pieces]
    assert "封家人个个都惊慌，不知何兆．" in pieces
    assert not any(piece.endswith("．。") for piece in pieces)


@pytest.mark.parametrize(("name", "encoding", "titles", "words"), EXCERPTS, ids=_IDS)
def test_uploads_say_their_encoding_and_speak_their_text(
    make_client: Callable[..., TestClient], name: str, encoding: str, titles: list[str], words: str
) -> None:
    client = make_client(**TONES)
    data = (DATA / name).read_bytes()
    r = client.post("/jobs", files={"file": (name, data, "text/plain")})
    assert r.status_code == 202, r.text
    assert [chapter["title"] for chapter in r.json()["chapters"]] == titles
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done" and job["encoding"] == encoding
    said = " ".join(piece["text"] for piece in client.get(job["timings_url"]).json()["pieces"])
    assert words.replace(" ", "") in said.replace(" ", "")


def test_form_and_json_bodies_are_read_in_the_charset_they_declare_or_the_one_they_are(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    chinese = "今天晚上，很好的月光。我不见他，已是三十多年。"
    french = "Il était une fois un château très élevé, où vivait une princesse."
    bodies: list[tuple[bytes, str, str]] = [
        # A form whose page was GBK, percent-encoded, declared.
        (
            b"text=" + "".join(f"%{b:02X}" for b in chinese.encode("gbk")).encode(),
            "application/x-www-form-urlencoded; charset=gbk",
            chinese,
        ),
        # Raw Windows-1252 bytes with no charset (curl -d from an old file).
        (b"text=" + french.encode("cp1252"), "application/x-www-form-urlencoded", french),
        # A short GBK greeting, percent-encoded with no charset (curl from a Chinese Windows
        # console): it had been read as UTF-16.
        (
            b"text=" + "".join(f"%{b:02X}" for b in "你好，世界。".encode("gbk")).encode(),
            "application/x-www-form-urlencoded",
            "你好，世界。",
        ),
        (
            ('{"text": "' + chinese + '"}').encode("gb18030"),
            "application/json; charset=gb18030",
            chinese,
        ),
    ]
    for body, content_type, text in bodies:
        r = client.post("/jobs", content=body, headers={"content-type": content_type})
        assert r.status_code == 202, r.text
        job = wait_done(client, r.json()["status_url"])
        said = " ".join(p["text"] for p in client.get(job["timings_url"]).json()["pieces"])
        assert said.replace(" ", "") == text.replace(" ", ""), content_type
    r = client.post(
        "/jobs",
        content=b"text=" + random.Random(1).randbytes(200),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422 and "offset" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "opening"),
    [
        ("lu-xun-nahan.gb18030.txt", "某君昆仲，今隐其名"),
        ("wu-chengen-xiyouji.big5.txt", "混沌未分天地亂"),
    ],
)
@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_reads_files_and_standard_input_in_their_encoding(
    tmp_path: Path, name: str, opening: str
) -> None:
    source = DATA / name
    encoding = name.split(".")[1]
    target = tmp_path / "out.wav"
    result = sayfile_cli(
        "say", "-f", str(source), "-o", str(target), "--srt", engines="tone", voice="tone:beep"
    )
    assert result.returncode == 0, result.stderr
    assert f"read {name!r} as {encoding}" in result.stderr
    assert opening in target.with_suffix(".srt").read_text(encoding="utf-8").replace("\n", "")
    piped = subprocess.run(
        [sys.executable, "-m", "sayfile", "say", "-", "-o", str(tmp_path / "piped.wav"), "--srt"],
        input=source.read_bytes(),
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "SAYFILE_ENGINES": "tone",
            "SAYFILE_DEFAULT_VOICE": "tone:beep",
        },
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert f"read Standard input as {encoding}" in piped.stderr.decode()
    srt = (tmp_path / "piped.srt").read_text(encoding="utf-8")
    assert opening in srt.replace("\n", "")
