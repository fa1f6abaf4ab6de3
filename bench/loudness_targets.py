"""Whether every `loudness` target is reached (issue 14): one text per voice written in every
format at each target, as a job writes it, each file decoded by FFmpeg (through PyAV, to
floating point, so nothing over full scale is cut off) and measured apart from sayfile: its
integrated loudness (pyloudnorm) and its true peak (the decoded audio oversampled 4 times).

Each voice says the text once; the engine's audio is kept and given again for every format
and target, so what changes from cell to cell is only what sayfile does after the engine:
levelling, limiting and encoding.

    .venv/bin/python bench/loudness_targets.py [--voices kokoro:af_heart,espeak:en-us]
        [--formats mp3,opus,aac,m4b,flac,wav,pcm] [--targets=off,-23,-16,-15,-14,-13,-12,-10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy import signal

from harness import Pipeline
from loudness import TEXTS
from sayfile.errors import InvalidInput
from sayfile.settings import Settings

VOICES = "kokoro:af_heart,espeak:en-us"
FORMATS = "mp3,opus,aac,m4b,flac,wav,pcm"
TARGETS = "off,-23,-16,-15,-14,-13,-12,-10"


class _Remembered:
    """An engine that says each text once and gives the same audio back when asked again."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._said: dict[tuple[Any, ...], Any] = {}

    def synthesize(self, voice: Any, text: str, speed: float) -> Any:
        key = ("plain", voice.id, text, speed)
        if key not in self._said:
            self._said[key] = self._engine.synthesize(voice, text, speed)
        return self._said[key]

    def synthesize_timed(
        self, voice: Any, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> Any:
        key = ("timed", voice.id, text, speed, first, follows)
        if key not in self._said:
            self._said[key] = self._engine.synthesize_timed(voice, text, speed, first, follows)
        return self._said[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def decoded(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """The file's first audio stream as FFmpeg decodes it, mono floating point, and its rate."""
    parts: list[npt.NDArray[np.float64]] = []
    # Raw PCM says nothing of itself: sayfile's is 24 kHz mono 16-bit (its format's table).
    raw = path.suffix == ".pcm"
    options = {"sample_rate": "24000", "ch_layout": "mono"} if raw else None
    with av.open(str(path), format="s16le" if raw else None, options=options) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        for frame in container.decode(stream):
            array = frame.to_ndarray()
            if array.dtype == np.int16:
                values = array.astype(np.float64) / 32768
            elif array.dtype == np.int32:
                values = array.astype(np.float64) / 2**31
            else:
                values = array.astype(np.float64)
            # Packed or planar, one channel either way.
            parts.append(values.reshape(-1))
    return np.concatenate(parts), rate


def measured(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and 4x-oversampled true peak (dBTP) of the decoded file."""
    audio, rate = decoded(path)
    loudness = float(pyloudnorm.Meter(rate).integrated_loudness(audio))
    peak = float(np.abs(signal.resample_poly(audio, 4, 1)).max())
    return loudness, 20 * np.log10(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default=VOICES)
    parser.add_argument("--formats", default=FORMATS)
    parser.add_argument("--targets", default=TARGETS)
    args = parser.parse_args()
    formats = args.formats.split(",")
    targets: list[float | str] = [
        target if target == "off" else float(target) for target in args.targets.split(",")
    ]
    pipeline = Pipeline(Settings())
    catalogue = pipeline.synthesizer.catalogue
    # Private, but this is a measurement: each text said once, whatever follows it.
    catalogue._engines = {
        name: cast(Any, _Remembered(engine)) for name, engine in catalogue._engines.items()
    }
    text = " ".join(TEXTS["en"])
    print("Each cell: integrated LUFS / true peak dBTP of the decoded file")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for voice in args.voices.split(","):
                print(f"\n{voice}\n")
                print(f"| target | {' | '.join(formats)} |")
                print(f"| ---: | {' | '.join('---:' for _ in formats)} |")
                for target in targets:
                    cells = []
                    for fmt in formats:
                        path = Path(folder) / f"speech.{fmt}"
                        try:
                            plan = pipeline.plan(text, voice=voice, format=fmt, loudness=target)
                        except InvalidInput as refused:
                            cells.append(f"refused ({refused.field})")
                            continue
                        pipeline.write(plan, path)
                        loudness, peak = measured(path)
                        cells.append(f"{loudness:.1f} / {peak:.1f}")
                    name = target if isinstance(target, str) else f"{target:g}"
                    print(f"| {name} | {' | '.join(cells)} |", flush=True)
    finally:
        pipeline.close()


if __name__ == "__main__":
    main()
