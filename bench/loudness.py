"""What listeners get from even loudness (issue 14): each voice's integrated loudness and true
peak in each format, as ffmpeg's EBU R128 meter (the `ebur128` filter, not sayfile's own
pyloudnorm) measures the decoded file, over a few ordinary texts.

The gain is one per voice, measured on its sample sentence, so texts land around the target
rather than on it; the spread column says how far apart they land. A format whose decoder
gives back a different level than its encoder got (LAME's -0.45 dB) shows here as a column
off the others.

    .venv/bin/python bench/loudness.py [--voices espeak:en-us,...] [--formats mp3,opus,aac,wav]
        [--loudness -16]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from harness import Pipeline
from sayfile.settings import Settings

TEXTS = {
    "en": [
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
        "It was late in the evening when the train finally reached the small town. Nobody was "
        "waiting on the platform, so she picked up her bag and walked towards the lights.",
        "The city council met on Tuesday to discuss the new budget, which includes funding for "
        "schools, roads and public transport.",
        "Where are you going? I thought we agreed to meet at seven. Never mind, let's go now.",
    ],
    "zh": [
        "今天天气很好，我们去公园散步吧。明天可能会下雨。",
        "火车在傍晚终于到了小镇。站台上没有人等她，她提起包，朝着灯光走去。",
        "市议会星期二开会讨论新的预算，其中包括学校、道路和公共交通的资金。",
        "你要去哪儿？我们不是说好七点见面吗？算了，现在就走吧。",
    ],
}
VOICES = "espeak:en-us,piper:en_US-joe-medium,kokoro:af_heart,kokoro:bf_emma,kokoro:zm_yunjian"


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of `path`, as ffmpeg measures them."""
    result = subprocess.run(
        [
            *("ffmpeg", "-nostats", "-i", str(path)),
            *("-filter_complex", "ebur128=peak=true", "-f", "null", "-"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:") :]
    loudness = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if loudness is None or peak is None:
        raise RuntimeError(f"ffmpeg's ebur128 summary was not understood:\n{summary}")
    return float(loudness.group(1)), float(peak.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default=VOICES)
    parser.add_argument("--formats", default="mp3,opus,aac,wav")
    parser.add_argument("--loudness", type=float, default=-16.0)
    args = parser.parse_args()
    pipeline = Pipeline(Settings())
    formats = args.formats.split(",")
    print(f"Target {args.loudness:g} LUFS, true peaks <= -1.5 dBTP; ffmpeg's ebur128 on the file")
    print("| voice | format | LUFS per text | mean | spread | highest true peak dBTP |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for voice in args.voices.split(","):
                texts = TEXTS["zh" if ":z" in voice else "en"]
                for fmt in formats:
                    levels, peaks = [], []
                    for number, text in enumerate(texts):
                        target = Path(tmp) / f"{number}.{fmt}"
                        plan = pipeline.plan(text, voice=voice, format=fmt, loudness=args.loudness)
                        pipeline.write(plan, target)
                        level, peak = ebur128(target)
                        levels.append(level)
                        peaks.append(peak)
                    each = " ".join(f"{level:.1f}" for level in levels)
                    mean = statistics.fmean(levels)
                    spread = max(levels) - min(levels)
                    row = f"| {voice} | {fmt} | {each} | {mean:.2f} | {spread:.1f} |"
                    print(f"{row} {max(peaks):.1f} |", flush=True)
    finally:
        pipeline.close()


if __name__ == "__main__":
    main()
