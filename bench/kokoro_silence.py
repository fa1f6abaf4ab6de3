"""Kokoro's silence at the ends (issue 27): the timed model run by sayfile's runner with the
leading and trailing pads' silence capped before the vocoder makes it, against the same model
uncapped (which makes the audio the model always made), interleaved in one process, sentence
by sentence over a book-length English and Mandarin excerpt (public-domain text).

    PYTHONPATH=src .venv/bin/python bench/kokoro_silence.py [--repeats 2]

Every figure is CPU time on one intra-op thread (the machine is shared): CPU seconds per second
of the audio sayfile keeps (after trimming), each variant over its own audio, and the ratio of
the two. The onsets: the first 50 ms of each sentence's trimmed audio, its peak and the largest
step between two samples (a click is a large step), for each variant.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from sayfile.engines.kokoro import KokoroEngine, default_folder
from sayfile.engines.kokoro_blend import blended_style
from sayfile.engines.kokoro_run import LEAD_UNITS, TRAIL_UNITS, UNCAPPED, KokoroRun
from sayfile.text.normalisation import Normalisation
from sayfile.text.sentences import sentences

# Moby-Dick, chapter 1 (Herman Melville, 1851); 故乡 (Lu Xun, 1921): both public domain.
BOOKS = {
    "en": (
        "kokoro:af_heart",
        "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
        "money in my purse, and nothing particular to interest me on shore, I thought I would "
        "sail about a little and see the watery part of the world. It is a way I have of "
        "driving off the spleen and regulating the circulation. Whenever I find myself growing "
        "grim about the mouth; whenever it is a damp, drizzly November in my soul; whenever I "
        "find myself involuntarily pausing before coffin warehouses, and bringing up the rear "
        "of every funeral I meet, then, I account it high time to get to sea as soon as I can. "
        "This is my substitute for pistol and ball. With a philosophical flourish Cato throws "
        "himself upon his sword; I quietly take to the ship. There is nothing surprising in "
        "this. If they but knew it, almost all men in their degree, some time or other, "
        "cherish very nearly the same feelings towards the ocean with me.",
    ),
    "zh": (
        "kokoro:zf_xiaobei",
        "我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。时候既然是深冬；渐近故乡时，"
        "天气又阴晦了，冷风吹进船舱中，呜呜的响，从篷隙向外一望，苍黄的天底下，远近横着几个"
        "萧索的荒村，没有一些活气。我的心禁不住悲凉起来了。阿！这不是我二十年来时时记得的"
        "故乡？我所记得的故乡全不如此。我的故乡好得多了。但要我记起他的美丽，说出他的佳处来，"
        "却又没有影像，没有言辞了。仿佛也就如此。于是我自己解释说：故乡本也如此，虽然没有"
        "进步，也未必有如我所感的悲凉，这只是我自己心情的改变罢了，因为我这次回乡，本没有"
        "什么好心绪。",
    ),
}
VARIANTS = {"uncapped": (UNCAPPED, UNCAPPED), "capped": (LEAD_UNITS, TRAIL_UNITS)}
ONSET = 1200  # 50 ms at 24 kHz


class Counted:
    """`session`, counting the units of audio the vocoder made (the durations it gives)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.units = 0

    def run(self, names: Any, feeds: dict[str, Any]) -> Any:
        audio, durations = self.session.run(names, feeds)
        self.units += int(durations.sum())
        return audio, durations


def pieces(engine: KokoroEngine, voice_id: str, text: str) -> list[str]:
    """Each sentence's phonemes, as the engine makes them."""
    voice = next(v for v in engine.voices() if v.id == voice_id)
    normalisation = Normalisation()
    return [
        engine.phonemes(voice, normalisation.said(sentence, voice.language))
        for sentence in sentences(text)
    ]


def measure(repeats: int) -> None:
    engine = KokoroEngine(default_folder())
    model: Any = engine._loaded()
    counted = {name: Counted(model.sess) for name in VARIANTS}
    runners = {
        name: KokoroRun(counted[name], model.tokenizer.vocab, edges)
        for name, edges in VARIANTS.items()
    }
    for language, (voice_id, text) in BOOKS.items():
        style = blended_style(model, voice_id.split(":")[1])
        said = pieces(engine, voice_id, text)
        cpu: dict[str, list[float]] = {name: [] for name in runners}
        audio: dict[str, float] = {}
        onsets: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
        for session in counted.values():
            session.units = 0
        for repeat in range(repeats):
            totals = dict.fromkeys(runners, 0.0)
            seconds = dict.fromkeys(runners, 0.0)
            for number, phonemes in enumerate(said):
                order = list(runners) if (number + repeat) % 2 == 0 else list(runners)[::-1]
                for name in order:
                    start = time.process_time()
                    made = runners[name](phonemes, style, 1.0)
                    totals[name] += time.process_time() - start
                    seconds[name] += made.audio.size / 24_000
                    if repeat == 0:
                        head = made.audio[:ONSET].astype(np.float64)
                        peak = float(np.abs(head).max())
                        onsets[name].append((peak, float(np.abs(np.diff(head)).max())))
            for name in runners:
                cpu[name].append(totals[name] / seconds[name])
                audio[name] = seconds[name]
        print(f"{language} ({voice_id}, {len(said)} sentences, median of {repeats}):")
        for name in runners:
            peaks, steps = zip(*onsets[name], strict=True)
            print(
                f"  {name:9} CPU-s per audio s {statistics.median(cpu[name]):.3f}"
                f"  audio {audio[name]:.2f} s (made {counted[name].units / repeats / 40:.2f} s)"
                f"  first 50 ms: peak median {statistics.median(peaks):.3f}"
                f" max {max(peaks):.3f}, largest step max {max(steps):.3f}"
            )
        ratio = statistics.median(cpu["capped"]) / statistics.median(cpu["uncapped"])
        print(f"  capped / uncapped: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    measure(parser.parse_args().repeats)


if __name__ == "__main__":
    main()
