"""How often short text in a legacy code page is read in the encoding it was written in
(`sayfile.text.encodings.decode_text`), and what reading it costs: random pieces of the repo's
real excerpts (GB18030, Big5, Shift-JIS, two Windows-1252), 4 to 600 characters, and everyday
phrases of each code page.

    PYTHONPATH=src .venv/bin/python bench/short_text_encodings.py [--pieces 30] [--seed 5]

Run it with PYTHONPATH at another checkout's src to compare (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from sayfile.text.encodings import decode_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
# (file, the codec it is in, the codec its pieces are written in)
EXCERPTS = (
    ("lu-xun-nahan.gb18030.txt", "gb18030", "gbk"),
    ("wu-chengen-xiyouji.big5.txt", "big5hkscs", "big5"),
    ("natsume-soseki-wagahai.shift_jis.txt", "cp932", "cp932"),
    ("hugo-miserables.windows-1252.txt", "cp1252", "cp1252"),
    ("kafka-verwandlung.windows-1252.txt", "cp1252", "cp1252"),
)
LENGTHS = (4, 8, 16, 32, 64, 128, 256, 400, 600)
# Everyday phrases, as a form post or a note would carry them.
PHRASES = {
    "gbk": "你好 谢谢！ 晚安 打开空调 今天天气很好。 你好，世界。 我爱你 明天见 请关灯 "
    "现在几点了？",
    "big5": "謝謝！ 晚安 打開冷氣 今天天氣很好。 我愛你 明天見 請關燈 現在幾點了？",
    "cp932": "こんにちは ありがとう おやすみなさい 電気を消して 東京 日本語 さようなら",
    "euc-kr": "안녕하세요 감사합니다 사랑해요 서울 한국어",
    "cp1252": "café Größe Straße déjà-vu",
}
# Korean phrases with a space between words, told apart from Chinese by it.
SPACED_KOREAN = ("오늘 날씨가 좋네요.", "불 꺼 줘", "잘 자요", "음악 틀어 줘")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pieces", type=int, default=30, help="pieces of each length")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print("| excerpt | " + " | ".join(f"{n} chars" for n in LENGTHS) + " |")
    print("| --- | " + " | ".join("---:" for _ in LENGTHS) + " |")
    right_all = total_all = 0
    for name, codec, written in EXCERPTS:
        text = " ".join((DATA / name).read_bytes().decode(codec).split())
        cells = []
        for length in LENGTHS:
            right = total = 0
            for _ in range(args.pieces):
                start = rng.randrange(0, max(1, len(text) - length))
                piece = text[start : start + length]
                data = piece.encode(written)
                if data.isascii():
                    continue
                total += 1
                right += _read_as(data) == piece
            cells.append(f"{right}/{total}")
            right_all, total_all = right_all + right, total_all + total
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nall pieces: {right_all} of {total_all} read right\n")
    print("| phrases | read right | CPU ms a phrase (median) |")
    print("| --- | ---: | ---: |")
    groups = {**{k: v.split() for k, v in PHRASES.items()}, "euc-kr, spaced": SPACED_KOREAN}
    for label, phrases in groups.items():
        codec = label.split(",")[0]
        times, right = [], 0
        for phrase in phrases:
            started = time.process_time()
            right += _read_as(phrase.encode(codec)) == phrase
            times.append((time.process_time() - started) * 1000)
        print(f"| {label} | {right}/{len(phrases)} | {sorted(times)[len(times) // 2]:.2f} |")


def _read_as(data: bytes) -> str | None:
    try:
        return decode_text(data).text
    except Exception:
        return None


if __name__ == "__main__":
    main()
