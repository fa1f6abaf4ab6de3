"""How many of the Traditional polyphones in tests/test_traditional.py's table the Mandarin
voices read right as written and through the Simplified reading (engines/traditional.py), and
what the conversion costs per sentence beside misaki's own reading of it.

PYTHONPATH=src .venv/bin/python bench/traditional.py [--show]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sayfile.engines.traditional import simplified_for_reading
from sayfile.text.normalisation import Normalisation
from test_traditional import READINGS, read, reading_of

_ROUNDS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print each reading that changed")
    shown = parser.parse_args().show
    from misaki.zh import ZHG2P

    words = Normalisation()
    g2p = ZHG2P(version=None)
    reading = simplified_for_reading
    right = {"as written": 0, "simplified": 0}
    for text, word, pinyin in READINGS:
        expected = reading_of(pinyin)
        for name, converter in (("as written", None), ("simplified", reading)):
            phonemes = read(g2p, words, text, converter)[1].phonemes
            good = expected in phonemes.replace(" ", "")
            right[name] += good
            if shown and name == "as written" and not good:
                print(f"{word} {pinyin}: read {phonemes}")
    print(f"polyphones read right, of {len(READINGS)}: {right}")

    sentences = [words.said(text, "zh") for text, _, _ in READINGS]
    started = time.perf_counter()
    for _ in range(_ROUNDS):
        for sentence in sentences:
            reading(sentence)
    converting = (time.perf_counter() - started) / (_ROUNDS * len(sentences))
    started = time.perf_counter()
    for sentence in sentences:
        g2p(reading(sentence))
    misaki = (time.perf_counter() - started) / len(sentences)
    print(f"conversion: {converting * 1000:.4f} ms a sentence", end="; ")
    print(f"misaki's reading of it {misaki * 1000:.2f} ms")


if __name__ == "__main__":
    main()
