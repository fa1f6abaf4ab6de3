"""A stream's first Kokoro piece with only a window of its frames vocoded (issue 27), against
the piece as the model makes it whole, in one process, taking turns.

    PYTHONPATH=src:bench:tests .venv/bin/python bench/kokoro_window.py [--repeats 3] [--edges]

For each first piece (cut from its sentence as a stream cuts it) and each way of making it:
the model's wall seconds on one thread (median), the audio kept after trimming, what Whisper
hears in it (tests/listening.py) and its error against the piece's words, and the level of its
last 10 ms. The ways: "whole" (before), "lead and tail" (nothing follows: the window from
FIRST_LEAD_FRAMES before the first token to FIRST_TAIL_FRAMES after the piece's last sound
token), "head of sentence" (the rest of the sentence run after the piece, the window ending
where the piece's last token ends: engines/kokoro_run.py, `first_window`). `--edges`: the
audio of windows against the same samples of the whole run (level and log-spectral distance
in dB over 100 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from listening import Listener, character_error_rate, wav_bytes, word_error_rate
from sayfile.engines.kokoro import KokoroEngine
from sayfile.engines.kokoro_blend import blended_style
from sayfile.speech.pieces import FIRST_PIECE_CHARS, FIRST_PIECE_CJK_CHARS
from sayfile.text.sentences import sentences

SENTENCES = [
    ("kokoro:af_heart", "en", "It was a bright cold day in April, and the clocks were striking "
     "thirteen."),
    ("kokoro:af_heart", "en", "The hallway smelt of boiled cabbage and old rag mats."),
    ("kokoro:af_heart", "en", "At one end of it a coloured poster, too large for indoor "
     "display, had been tacked to the wall."),
    ("kokoro:zf_xiaobei", "zh", "今天天气很好，我们下午去公园散步吧。"),
    ("kokoro:zf_xiaobei", "zh", "公园里的花都开了，有红的，有黄的，还有白的。"),
    ("kokoro:zf_xiaobei", "zh", "孩子们在草地上跑来跑去，笑得特别开心。"),
]  # fmt: skip


def cut(text: str, language: str) -> tuple[str, str]:
    """The first piece and the rest of its sentence, as PieceCutter cuts a stream's first."""
    budget = FIRST_PIECE_CJK_CHARS if language == "zh" else FIRST_PIECE_CHARS
    head = next(sentences(text, budget), text)
    return head, text[len(head) :].strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--edges", action="store_true")
    args = parser.parse_args()
    engine = KokoroEngine(threads=1)
    voices = {voice.id: voice for voice in engine.voices()}
    model = engine._loaded()
    run: Any = model.timed
    listener = Listener()
    print("| piece | way | model wall s | audio s | heard | error | last 10 ms dBFS |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
    for voice_id, language, text in SENTENCES:
        voice = voices[voice_id]
        head, rest = cut(text, language)
        phonemes = engine.phonemes(voice, head)
        follows = engine.phonemes(voice, rest)
        style = blended_style(model, voice.locator)
        ways: dict[str, tuple[bool, str]] = {
            "whole": (False, ""),
            "lead and tail": (True, ""),
            "head of sentence": (True, follows),
        }
        walls: dict[str, list[float]] = {}
        made: dict[str, Any] = {}
        for _ in range(args.repeats):
            for name, (first, rest) in ways.items():
                began = time.perf_counter()
                made[name] = run(phonemes, style, 1.0, first, rest)
                walls.setdefault(name, []).append(time.perf_counter() - began)
        for name, timed in made.items():
            samples = (np.clip(timed.audio, -1, 1) * 32767).astype(np.int16)
            heard = listener.hear(wav_bytes(samples), language)
            rate = character_error_rate if language == "zh" else word_error_rate
            last = samples[-240:].astype(float) / 32768
            level = 20 * np.log10(np.sqrt(np.mean(last**2)) + 1e-9)
            print(
                f"| {head} | {name} | {statistics.median(walls[name]):.3f} | "
                f"{samples.size / 24_000:.2f} | {heard} | {rate(head, heard):.2f} | {level:.0f} |"
            )
    if args.edges:
        edges(engine, voices)


def edges(engine: KokoroEngine, voices: dict[str, Any]) -> None:
    """Windows of the first sentences against the same samples of their whole runs: level and
    log-spectral distance (dB, 20 ms frames) over 100 ms at the edge, and far from it."""
    model = engine._loaded()
    session, vocab = model.timed._session, model.tokenizer.vocab
    print()
    print(
        "| sentence | edge | margin (frames) | level dB | distance dB | far from it: distance dB |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for voice_id, _, text in (SENTENCES[0], SENTENCES[3]):
        voice = voices[voice_id]
        phonemes = engine.phonemes(voice, text)
        tokens = [vocab[symbol] for symbol in phonemes if symbol in vocab]
        style = blended_style(model, voice.locator)[len(tokens) - 1]

        def made(window: tuple[int, int, int, int]) -> tuple[Any, Any, Any]:
            feed = {
                "tokens": np.array([[0, *tokens, 0]], np.int64),  # noqa: B023
                "style": style,  # noqa: B023
                "speed": np.array([1.0], np.float32),
                "window": np.array(window, np.int64),
            }
            audio, durations, frames = session.run(None, feed)
            return audio.ravel(), np.concatenate([[0], np.cumsum(durations)]), frames

        whole, starts, _ = made((0, 0, -1, 0))
        known = [symbol for symbol in phonemes if symbol in vocab]
        comma = known.index(",") + 2  # the token after the comma (the pads count)
        between = [i for i, symbol in enumerate(known) if symbol == " "][1] + 1
        for margin in (0, 2, 4, 6, 8):
            audio, _, frames = made((1, margin, -1, 0))
            on = (int(starts[1]) - int(frames[0])) * 600
            same = whole[int(frames[0]) * 600 :]
            near, far = slice(on, on + 2400), slice(on + 4800, None)
            row = f"{level(audio[near], same[near]):.1f} | {distance(audio[near], same[near]):.1f}"
            far_cell = f"{distance(audio[far], same[far]):.1f}"
            print(f"| {text[:12]} | lead | {margin} | {row} | {far_cell} |")
        for name, token in (("after the comma", comma), ("between words", between)):
            for margin in (0, 2, 4, 8):
                audio, _, _ = made((0, 0, token, margin))
                end = int(starts[token]) * 600
                near, far = slice(end - 2400, end), slice(0, end - 4800)
                row = f"{level(audio[near], whole[near]):.1f} | "
                row += f"{distance(audio[near], whole[near]):.1f}"
                far_cell = f"{distance(audio[far], whole[far]):.1f}"
                print(f"| {text[:12]} | {name} | {margin} | {row} | {far_cell} |")


def level(audio: Any, reference: Any) -> float:
    """dB of `audio`'s RMS against `reference`'s."""
    power = float(np.mean(np.square(audio, dtype=np.float64))) + 1e-18
    return float(
        10 * np.log10(power / (float(np.mean(np.square(reference, dtype=np.float64))) + 1e-18))
    )


def distance(audio: Any, reference: Any) -> float:
    """Mean log-spectral distance in dB over 20 ms frames (0: the same spectrum)."""
    n = 480
    count = min(len(audio), len(reference)) // n
    if not count:
        return float("nan")

    def spectrum(x: Any) -> Any:
        frames = x[: count * n].reshape(count, n) * np.hanning(n)
        return 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-8)

    gap = spectrum(audio) - spectrum(reference)
    return float(np.mean(np.sqrt(np.mean(gap**2, axis=1))))


if __name__ == "__main__":
    main()
