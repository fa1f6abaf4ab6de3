"""How well Whisper base (language forced to Japanese) hears Kokoro's Japanese voices read the
held-out sentences in tests/data/japanese-sentences.tsv: character error rates per voice, over
the kana of what is said (reading CER) and over the written characters (written CER).

    PYTHONPATH=src .venv/bin/python bench/japanese.py [--voices jf_alpha,jm_kumo] [--show]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from listening import Listener, character_error_rate, reading_error_rate  # noqa: E402
from sayfile.engines.kokoro import KokoroEngine  # noqa: E402

VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


def sentences() -> list[tuple[str, str]]:
    """(text, reading) pairs of the held-out set."""
    lines = (ROOT / "tests" / "data" / "japanese-sentences.tsv").read_text("utf-8").splitlines()
    return [
        (text, reading)
        for text, reading in (line.split("\t") for line in lines if line and line[0] != "#")
    ]


def wav(samples: bytes, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(samples)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voices", default=",".join(VOICES))
    parser.add_argument("--show", action="store_true", help="print what was heard")
    args = parser.parse_args()
    engine = KokoroEngine(threads=2)
    listener = Listener()
    by_name = {voice.locator: voice for voice in engine.voices()}
    print("| voice | reading CER | written CER |")
    print("| --- | ---: | ---: |")
    for name in args.voices.split(","):
        voice = by_name[name]
        readings, written = [], []
        for text, reading in sentences():
            samples = engine.synthesize(voice, text, 1.0)
            heard = listener.hear(wav(samples.tobytes(), voice.sample_rate), "ja")
            readings.append(reading_error_rate(reading, heard))
            written.append(character_error_rate(text, heard))
            if args.show:
                print(f"  {text} -> {heard} ({readings[-1]:.2f})", file=sys.stderr)
        print(
            f"| kokoro:{name} | {statistics.mean(readings):.3f} | {statistics.mean(written):.3f} |"
        )
    engine.close()


if __name__ == "__main__":
    main()
