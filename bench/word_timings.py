"""What word timings cost Kokoro (issue 25): synthesis with the timed model and sayfile's
runner (durations on) against the joined model through kokoro-onnx's `create` (durations off,
as before), the same sentences in one process, interleaved; CPU seconds (the machine is
shared), medians of `--repeats`; and the same comparison for the session alone.

    PYTHONPATH=src .venv/bin/python bench/word_timings.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sayfile.engines.kokoro import KokoroEngine, assemble_model, default_folder
from sayfile.engines.kokoro_timed_model import WHOLE, timed_model
from sayfile.models import Voice

SENTENCES = {
    "kokoro:af_heart": "It is a truth universally acknowledged, that a single man in "
    "possession of a good fortune, must be in want of a wife.",
    "kokoro:zf_xiaobei": "我冒了严寒，回到相隔二千余里，别了二十余年的故乡去。",
    "kokoro:jf_alpha": "ある日の事でございます。御釈迦様は極楽の蓮池のふちを、独りでぶらぶら御歩き"
    "になっていらっしゃいました。",
}


def _cpu(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime
    from kokoro_onnx import Kokoro

    engine = KokoroEngine(threads=1)
    voices = {voice.id: voice for voice in engine.voices()}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    plain_path = assemble_model(default_folder())
    plain = onnxruntime.InferenceSession(
        str(plain_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    timed = onnxruntime.InferenceSession(
        str(timed_model(plain_path)), sess_options=options, providers=["CPUExecutionProvider"]
    )
    before = Kokoro.from_session(plain, str(default_folder() / "voices.npz"))
    print("| sentence | durations off (s) | durations on (s) | on / off | session off | "
          "session on | on / off |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for voice_id, text in SENTENCES.items():
        off, on, session_off, session_on = _measure(
            engine, voices[voice_id], text, before, plain, timed, args.repeats
        )
        print(
            f"| {voice_id} | {off:.3f} | {on:.3f} | {on / off:.3f} | {session_off:.3f} | "
            f"{session_on:.3f} | {session_on / session_off:.3f} |"
        )


def _measure(
    engine: KokoroEngine,
    voice: Voice,
    text: str,
    before: Any,
    plain: Any,
    timed: Any,
    repeats: int,
) -> tuple[float, float, float, float]:
    """Median CPU seconds of one sentence: durations off (kokoro-onnx's `create` on the
    joined model, given the phonemes), on (sayfile's engine, phonemes and words included),
    and the two sessions alone on the same tokens."""
    phonemes = engine.phonemes(voice, text)
    style = before.get_voice_style(voice.locator)
    tokens = np.array([[0, *before.tokenizer.tokenize(phonemes), 0]], dtype=np.int64)
    inputs = {
        "tokens": tokens,
        "style": style[tokens.shape[1] - 3],
        "speed": np.array([1.0], dtype=np.float32),
    }
    whole = np.array(WHOLE, dtype=np.int64)  # the timed model's every frame
    engine.synthesize_timed(voice, text, 1.0)  # loads the readers and the session
    times: list[list[float]] = [[], [], [], []]
    for _ in range(repeats):
        times[0].append(
            _cpu(lambda: before.create(phonemes, voice=style, speed=1.0, is_phonemes=True))
        )
        times[1].append(_cpu(lambda: engine.synthesize_timed(voice, text, 1.0)))
        times[2].append(_cpu(lambda: plain.run(None, inputs)))
        times[3].append(_cpu(lambda: timed.run(None, {**inputs, "window": whole})))
    off, on, session_off, session_on = (statistics.median(t) for t in times)
    return off, on, session_off, session_on


if __name__ == "__main__":
    main()
