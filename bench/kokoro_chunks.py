"""Kokoro's vocoder a few seconds at a time against the whole piece at once (issue 27; tried
and not kept, docs/benchmarks.md "Tried and not kept: Kokoro's vocoder a few seconds at a
time"): CPU per audio second on one thread, in one process; how far each chunk's level is
from the same frames' level vocoded whole; what Whisper base hears of long sentences made
both ways.

    PYTHONPATH=src:bench .venv/bin/python bench/kokoro_chunks.py [--repeats 5] [--chunks 80 120 160]
        [--no-hearing]

The installed timed model is cut in memory into its two halves where its window slices the
vocoder's three inputs (kokoro_timed_model.py): the text side (tokens, style and speed to
durations, pitch, energy and aligned text features) and the vocoder (those and the style to
audio). The text side runs once per piece; the vocoder runs on chunks of about N frames (25
ms each), each cut at the frame of least predicted energy within a quarter chunk of its
place, each vocoded with MARGIN frames of its neighbours on both sides, joined by a crossfade
of CROSSFADE samples each side of the cut. "whole" vocodes every piece at once, which is the
installed model's audio bit for bit. The pieces timed are the English sentence's first 8, 16
and 32 words and all 55 (kokoro_profile.py's long sentences), the long Mandarin one, and the
first sentence of tests/test_word_ends_heard.py's Mandarin paragraph.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from kokoro_profile import SENTENCES, feeds
from listening import Listener, character_error_rate, simplified, wav_bytes, word_error_rate
from sayfile.engines.kokoro import KokoroEngine, default_folder
from sayfile.engines.kokoro_sessions import session_options
from sayfile.engines.kokoro_timed_model import (
    DURATIONS_OUTPUT,
    FRAME_INPUTS,
    SAMPLES_PER_UNIT,
    TIMED_MODEL,
    WHOLE,
    WINDOW_INPUT,
    WINDOW_OUTPUT,
)

# Frames of context each chunk is vocoded with on each side; samples of crossfade each side of
# a cut.
MARGIN = 4
CROSSFADE = 120
# The vocoder's inputs: the window's slices of the three frame tensors.
KEPT = {f"/w/kept{name}": place for name, place in FRAME_INPUTS.items()}

# Long sentences heard both ways (each over 9 s of speech, so cut at least twice at 120).
HEARD = {
    "en": [
        (
            "kokoro:af_heart",
            "It was the best of times, it was the worst of times, it was the age of wisdom, "
            "it was the age of foolishness, it was the epoch of belief, it was the epoch of "
            "incredulity.",
        ),
        (
            "kokoro:af_heart",
            "The committee met on Tuesday afternoon to discuss the budget for next year, and "
            "after a long debate they agreed to spend more on schools, roads and hospitals.",
        ),
        ("kokoro:af_heart", SENTENCES["en"][1]),
        (
            "kokoro:am_michael",
            "My grandmother kept a small garden behind her house, where she grew tomatoes, "
            "beans and sunflowers, and every summer we helped her pick them in the morning.",
        ),
    ],
    "zh": [
        (
            "kokoro:zm_yunjian",
            "今天早上我和妈妈一起去市场买菜，我们买了很多新鲜的水果和蔬菜，"
            "回家以后妈妈做了一顿非常好吃的午饭，我们全家人都很高兴。",
        ),
        (
            "kokoro:zf_xiaobei",
            "这个周末我们打算去北京旅游，先去参观故宫和天安门广场，然后去长城看看，"
            "晚上再去吃有名的北京烤鸭。",
        ),
        ("kokoro:zm_yunjian", SENTENCES["zh"][1]),
        (
            "kokoro:zf_xiaoxiao",
            "我的弟弟今年八岁，他很喜欢踢足球，每天放学以后都和同学们在学校的操场上玩到天黑才回家。",
        ),
    ],
}


def split_model(model: Path) -> tuple[bytes, bytes]:
    """The timed model `model` as its text side and its vocoder, each a serialised model."""
    import onnx
    from onnx import TensorProto, helper
    from onnx.utils import Extractor

    whole = onnx.load(str(model))
    graph = whole.graph
    for name in KEPT:
        graph.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    extractor = Extractor(whole)
    inputs = [tensor.name for tensor in graph.input]
    text = extractor.extract_model(inputs, [*KEPT, DURATIONS_OUTPUT, WINDOW_OUTPUT])
    vocoder = extractor.extract_model([*KEPT, "style"], [graph.output[0].name])
    return text.SerializeToString(), vocoder.SerializeToString()


class SplitSession:
    """The two halves run as the whole model's session runs: audio, durations, window; the
    vocoder on chunks of about `chunk` frames. `edges` holds the last run's cuts."""

    def __init__(self, text: Any, vocoder: Any, chunk: int) -> None:
        self.text, self.vocoder, self.chunk = text, vocoder, chunk
        self.edges: list[int] = []

    def run(self, _: Any, feed: dict[str, Any]) -> list[Any]:
        *frames, durations, window = self.text.run(None, feed)
        count = frames[0].shape[2]
        energy = frames[2].reshape(-1)
        self.edges = cuts(energy[0::2][:count] + energy[1::2][:count], count, self.chunk)
        audio = np.zeros(count * SAMPLES_PER_UNIT, dtype=np.float32)
        fade = np.linspace(0.0, 1.0, 2 * CROSSFADE, dtype=np.float32)
        for start, end in itertools.pairwise(self.edges):
            before, after = min(MARGIN, start), min(MARGIN, count - end)
            part = {
                name: np.ascontiguousarray(_frames(t, start - before, end + after, place))
                for t, (name, place) in zip(frames, KEPT.items(), strict=True)
            }
            part["style"] = feed["style"]
            made = np.asarray(self.vocoder.run(None, part)[0], dtype=np.float32).ravel()
            lead = CROSSFADE if start else 0
            tail = CROSSFADE if end < count else 0
            first = before * SAMPLES_PER_UNIT - lead
            kept = made[first : first + (end - start) * SAMPLES_PER_UNIT + lead + tail].copy()
            if lead:
                kept[: 2 * CROSSFADE] *= fade
            if tail:
                kept[-2 * CROSSFADE :] *= fade[::-1]
            at = start * SAMPLES_PER_UNIT - lead
            audio[at : at + len(kept)] += kept
        return [audio, durations, window]


def cuts(energy: Any, count: int, chunk: int) -> list[int]:
    """Where a piece of `count` frames is cut, its ends included: nowhere inside for up to
    1.5 chunks; else about every `chunk` frames, at the frame of least `energy` within a
    quarter chunk of that place, the last chunk at least half a one."""
    found = [0]
    while count - found[-1] > chunk * 3 // 2:
        low = found[-1] + chunk - chunk // 4
        high = min(found[-1] + chunk + chunk // 4, count - chunk // 2)
        found.append(low + int(np.argmin(energy[low:high])))
    found.append(count)
    return found


def _frames(tensor: Any, start: int, end: int, place: tuple[int, int]) -> Any:
    """Frames `start` to `end` of a vocoder input whose frames are on axis `place[0]`,
    `place[1]` values a frame."""
    axis, per_frame = place
    index = [slice(None)] * tensor.ndim
    index[axis] = slice(start * per_frame, end * per_frame)
    return tensor[tuple(index)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunks", type=int, nargs="+", default=[80, 120, 160])
    parser.add_argument("--no-hearing", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    model = default_folder() / TIMED_MODEL[0]
    text, vocoder = (
        onnxruntime.InferenceSession(part, session_options(1), providers=["CPUExecutionProvider"])
        for part in split_model(model)
    )
    variants = {"whole": SplitSession(text, vocoder, 10**6)}
    for frames in args.chunks:
        variants[f"chunks of {frames}"] = SplitSession(text, vocoder, frames)
    voice_id, sentence = SENTENCES["en"]
    words = sentence.split()
    pieces = {f"en {n} words": (voice_id, " ".join(words[:n])) for n in (8, 16, 32)}
    pieces["en 55 words"] = SENTENCES["en"]
    pieces["zh"] = SENTENCES["zh"]
    # tests/test_word_ends_heard.py's Mandarin paragraph's first sentence (5.4 s).
    pieces["zh, 5 s"] = ("kokoro:zf_xiaobei", "下雨的时候，我们在家里看书，喝茶，聊天。")
    engine = KokoroEngine()
    inputs = feeds(engine, pieces)
    for feed in inputs.values():
        feed[WINDOW_INPUT] = np.array(WHOLE, dtype=np.int64)
    cost(variants, inputs, args.repeats)
    levels(variants, inputs)
    if not args.no_hearing:
        hearing(engine, variants)


def cost(variants: dict[str, Any], inputs: dict[str, dict[str, Any]], repeats: int) -> None:
    """CPU-s per audio s of each piece, each variant, interleaved; medians."""
    spent: dict[tuple[str, str], list[float]] = defaultdict(list)
    seconds: dict[str, float] = {}
    for feed in inputs.values():
        for run in variants.values():
            run.run(None, feed)
    for _ in range(repeats):
        for piece, feed in inputs.items():
            for name, run in variants.items():
                began = time.process_time()
                audio = run.run(None, feed)[0]
                spent[piece, name].append(time.process_time() - began)
                seconds[piece] = audio.size / 24_000
    print("| piece | audio s | " + " | ".join(variants) + " |")
    print("| --- | ---: |" + " ---: |" * len(variants))
    for piece in inputs:
        whole = statistics.median(spent[piece, "whole"])
        row = [
            f"{statistics.median(spent[piece, n]) / seconds[piece]:.3f}"
            + (f" ({statistics.median(spent[piece, n]) / whole:.2f})" if n != "whole" else "")
            for n in variants
        ]
        print(f"| {piece} | {seconds[piece]:.2f} | " + " | ".join(row) + " |")


def levels(variants: dict[str, Any], inputs: dict[str, dict[str, Any]]) -> None:
    """Each chunk's level against the same samples' level vocoded whole (dB, over the frames
    within 30 dB of the loudest), the most apart of each piece's chunks."""
    print()
    chunked = [n for n in variants if n != "whole"]
    print("| piece: a chunk's level against whole, dB (most apart) | " + " | ".join(chunked) + " |")
    print("| --- |" + " ---: |" * len(chunked))
    for piece, feed in inputs.items():
        whole = variants["whole"].run(None, feed)[0]
        row = []
        for name in chunked:
            run = variants[name]
            audio = run.run(None, feed)[0]
            apart = [0.0]
            for start, end in itertools.pairwise(run.edges):
                a, b = (
                    x[start * SAMPLES_PER_UNIT : end * SAMPLES_PER_UNIT] for x in (whole, audio)
                )
                loud = _loud(a)
                if loud.any():
                    apart.append(_db(b[loud]) - _db(a[loud]))
            row.append(f"{max(apart, key=abs):+.1f} ({len(run.edges) - 1} chunks)")
        print(f"| {piece} | " + " | ".join(row) + " |")


def _loud(samples: Any) -> Any:
    """A mask of the samples in 25 ms frames within 30 dB of the loudest frame."""
    frames = samples[: len(samples) // SAMPLES_PER_UNIT * SAMPLES_PER_UNIT]
    power = np.square(frames.reshape(-1, SAMPLES_PER_UNIT)).mean(axis=1) + 1e-12
    loud = 10 * np.log10(power / power.max()) > -30
    return np.concatenate(
        [np.repeat(loud, SAMPLES_PER_UNIT), np.zeros(len(samples) - len(frames), bool)]
    )


def _db(samples: Any) -> float:
    return float(10 * np.log10(np.mean(np.square(samples.astype(np.float64))) + 1e-12))


def hearing(engine: KokoroEngine, variants: dict[str, Any]) -> None:
    """Whisper base's error on each long sentence, made by each variant."""
    listener = Listener()
    errors: dict[tuple[str, str], list[float]] = defaultdict(list)
    for language, sentences in HEARD.items():
        made = feeds(engine, {f"{language}{n}": s for n, s in enumerate(sentences)})
        for feed, (_, text) in zip(made.values(), sentences, strict=True):
            feed[WINDOW_INPUT] = np.array(WHOLE, dtype=np.int64)
            for name, run in variants.items():
                audio = np.asarray(run.run(None, feed)[0], dtype=np.float32)
                pcm = np.clip(audio * 32767, -32768, 32767).astype(np.int16)
                heard = listener.hear(wav_bytes(pcm), language)
                if language == "zh":
                    errors[language, name].append(character_error_rate(text, simplified(heard)))
                else:
                    errors[language, name].append(word_error_rate(text, heard))
                print(f"  {language} {name}: {heard}", file=sys.stderr)
    print()
    print("| heard (Whisper base, 4 long sentences) | " + " | ".join(variants) + " |")
    print("| --- |" + " ---: |" * len(variants))
    for language in HEARD:
        measure = "CER" if language == "zh" else "WER"
        row = [f"{statistics.mean(errors[language, n]):.3f}" for n in variants]
        print(f"| {language} ({measure}, mean) | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
