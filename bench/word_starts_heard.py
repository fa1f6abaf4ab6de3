"""Word starts against Whisper base's word timestamps on held-out paragraphs (issue 25's
target: within 80 ms median, 200 ms p95 of a forced alignment, English and Mandarin, at
speed 1.0 and 1.5).

Everyday paragraphs written for this bench (none of the suite's or of word_onsets.py's),
three per language, each said by sayfile's whole pipeline to a WAV file and timed by Whisper
base two ways (tests/listening.py): its forced alignment of the text said (`aligned_starts`:
the text's own tokens through the cross-attention path of `word_timestamps`) and its own
transcription with `word_timestamps=True` (`word_starts`). A unit is a Latin word or a Han
character; the units both sides time (the first of each of their words) are matched in order
as tests/test_word_timings_heard.py matches them (and where the sound rises after a pause is
found as it finds it), and the start differences are given per paragraph and pooled, a table
per judge: median and p95 of |Whisper's − ours| (and the p95 of the starts that do not follow
a pause mark), the signed median and the share of starts where Whisper is earlier, and how
many of the starts over 200 ms follow a pause mark.

    PYTHONPATH=src .venv/bin/python bench/word_starts_heard.py [--speeds 1.0 1.5] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from listening import Listener, simplified
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.speech.scheduler import Lane
from sayfile.wiring import build_synthesizer
from test_word_timings_heard import _onsets_after_pauses

ENGLISH = [
    "Every Saturday morning my neighbour walks her two dogs to the bakery on the corner, "
    "where the owner keeps a jar of biscuits behind the counter. The smaller dog always sits "
    "first, very politely, while the larger one pretends not to care. Then they both go home "
    "through the park, happy and a little sticky.",
    "The train was twenty minutes late, so we waited on the platform with our coffee and "
    "watched the rain. A man beside us was reading his newspaper upside down, which nobody "
    "mentioned. When the train finally arrived, it was so crowded that we stood all the way "
    "to the city.",
    "Before you paint a room, move the furniture away from the walls and cover the floor "
    "with old sheets. Wash the walls with warm water, let them dry overnight, and fill any "
    "small holes. Two thin coats of paint look better than one thick coat, and they dry "
    "faster too.",
]
MANDARIN = [
    "每天早上，我先喝一杯温水，然后去楼下的小公园跑步。公园里总有很多老人在打太极拳，也有人带着孩子"
    "散步。跑完步以后，我会在路边的小店买两个包子和一杯豆浆，一边走一边吃，回家的时候太阳刚刚升起来。",
    "上个周末，我们一家人去郊外的山上野餐。妈妈做了很多好吃的菜，爸爸负责开车。山上的空气很新鲜，"
    "到处都是开着的小花。我们在一棵大树下铺好桌布，吃饭，聊天，还玩了一会儿扑克牌。下午下了一场小雨，"
    "我们就早早地回家了。",
    "我家附近新开了一家图书馆，环境安静，座位也很舒服。周末的时候，我常常带着电脑去那里工作。图书馆"
    "的二楼有很多儿童读物，很多家长会陪孩子一起看书。如果你喜欢看书，一定要去看看，借书证是免费办理"
    "的。",
]
VOICES = {"en": "kokoro:af_heart", "zh": "kokoro:zf_xiaobei"}
# Whisper base's word starts two ways, each a table.
JUDGES = {
    "aligned": "Against Whisper base's forced alignment of the text said (`aligned_starts`):",
    "heard": "Against Whisper base's own transcription's `word_timestamps` (`word_starts`):",
}
_HAN = re.compile("[\u4e00-\u9fff]")
_PAUSE_BEFORE = re.compile(r"[,.;:!?，。；：！？、]\s*$")

Unit = tuple[str, float, bool]  # (unit, start or nan, whether a pause mark comes before it)
Start = tuple[float, bool, str, float]
"""A start both time: Whisper's − ours, whether a pause mark comes before it, the unit, and
ours − where the sound rises out of the pause (nan if not after a quiet stretch)."""


def units(words: list[tuple[str, float, bool]], mandarin: bool) -> list[Unit]:
    """Each Latin word (lower case) or Han character of `words` (text, start, whether a pause
    mark comes before it), the first of each word with its start."""
    found: list[Unit] = []
    for word, start, paused in words:
        parts = _HAN.findall(simplified(word)) if mandarin else re.findall(r"[a-z']+", word.lower())
        for n, part in enumerate(parts):
            found.append((part, start if n == 0 else float("nan"), paused and n == 0))
    return found


def differences(
    ours: list[Unit], heard: list[Unit], onsets: dict[float, float] | None = None
) -> list[Start]:
    """Each unit both time and both start a word at, matched in order; `onsets`: where the
    sound begins for our starts after a quiet stretch."""
    matcher = difflib.SequenceMatcher(
        None, [u for u, _, _ in ours], [u for u, _, _ in heard], False
    )
    found = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            unit, mine, paused = ours[block.a + k]
            theirs = heard[block.b + k][1]
            if not (np.isnan(mine) or np.isnan(theirs)):
                sound = (onsets or {}).get(mine, float("nan"))
                found.append((theirs - mine, paused, unit, mine - sound))
    return found


def row(label: str, speed: float, found: list[Start]) -> str:
    sizes = [abs(d) for d, _, _, _ in found]
    signed = [d for d, _, _, _ in found]
    large = [(d, paused) for d, paused, _, _ in found if abs(d) > 0.2]
    running = [abs(d) for d, paused, _, _ in found if not paused]
    # After a pause mark, against the sound's rise: ours − it, Whisper's − it.
    rises = [(gap, d + gap) for d, paused, _, gap in found if paused and not np.isnan(gap)]
    against = (
        f"{statistics.median(g for g, _ in rises):+.3f} / "
        f"{statistics.median(w for _, w in rises):+.3f} ({len(rises)})"
        if rises
        else "-"
    )
    return (
        f"| {label} | {speed} | {len(found)} | {statistics.median(sizes):.3f} | "
        f"{float(np.percentile(sizes, 95)):.3f} | {float(np.percentile(running, 95)):.3f} | "
        f"{statistics.median(signed):+.3f} | "
        f"{sum(d < 0 for d in signed) / len(signed):.0%} | "
        f"{len(large)} ({sum(paused for _, paused in large)} after a pause mark) | {against} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speeds", type=float, nargs="+", default=[1.0, 1.5])
    parser.add_argument("--show", action="store_true", help="each start over 200 ms apart")
    args = parser.parse_args()
    for language, texts in (("en", ENGLISH), ("zh", MANDARIN)):
        for text in texts:
            size = len(_HAN.findall(text)) if language == "zh" else len(text.split())
            assert size >= (80 if language == "zh" else 40), (size, text)
    settings = Settings()
    synthesizer = build_synthesizer(settings)
    listener = Listener()
    tables: dict[str, list[str]] = {judge: [] for judge in JUDGES}
    try:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "paragraph.wav"
            for speed in args.speeds:
                for language, texts in (("en", ENGLISH), ("zh", MANDARIN)):
                    pooled: dict[str, list[Start]] = {judge: [] for judge in JUDGES}
                    for number, text in enumerate(texts, 1):
                        found = _compared(synthesizer, settings, listener, target, text, speed)
                        for judge, starts in found.items():
                            pooled[judge] += starts
                            tables[judge].append(row(f"{language} {number}", speed, starts))
                            for d, paused, unit, _ in starts if args.show else ():
                                if abs(d) > 0.2:
                                    print(
                                        f"    {judge}, {unit}: {d:+.3f}{' (pause before)' * paused}"
                                    )
                    for judge, starts in pooled.items():
                        tables[judge].append(row(f"**{language}, pooled**", speed, starts))
    finally:
        synthesizer.executor.close()
    for judge, rows in tables.items():
        print(f"\n{JUDGES[judge]}\n")
        print(
            "| paragraph | speed | starts | median (s) | p95 (s) | p95 of starts not after a "
            "pause mark (s) | signed median (Whisper − ours) | Whisper earlier | over 200 ms | "
            "after a pause mark: ours − sound / Whisper − sound, median s (n) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(rows))


def _compared(
    synthesizer: Any, settings: Settings, listener: Listener, target: Path, text: str, speed: float
) -> dict[str, list[Start]]:
    """`text` said at `speed` into `target`: its starts compared with each judge's."""
    language = "zh" if _HAN.search(text) else "en"
    request = SpeechRequest(text, voice=VOICES[language], format="wav", speed=speed)
    plan = validate(request, synthesizer, settings, None)
    turn = synthesizer.executor.turn(Lane.interactive)
    timings = asyncio.run(synthesizer.write(plan, target, turn)).timings
    assert timings.words is not None, timings.words_note
    mandarin = language == "zh"
    ours = units(
        [
            (w.text, w.start, bool(w.chars and _PAUSE_BEFORE.search(text[: w.chars[0]])))
            for w in timings.words
        ],
        mandarin,
    )
    audio = target.read_bytes()
    judged = {
        "aligned": listener.aligned_starts(audio, language, text),
        "heard": listener.word_starts(audio, language),
    }
    # Where the sound rises after 150 ms of quiet, as the heard test finds it.
    onsets = dict(_onsets_after_pauses(target, [w.start for w in timings.words]))
    return {
        judge: differences(ours, units([(w, at, False) for w, at in starts], mandarin), onsets)
        for judge, starts in judged.items()
    }


if __name__ == "__main__":
    main()
