"""The true floor of a short request: espeak-ng speaks the text and LAME (`lameenc`, the
fastest mp3 encoder measured here) encodes it, and nothing else — no HTTP, no sayfile.
Run in as many processes as cores, it is the most requests per second this machine can
answer with that voice and format."""

from __future__ import annotations

import io
import os
import subprocess
import time
import wave
from concurrent.futures import ProcessPoolExecutor

import lameenc

ESPEAK_VOICE = "en-us"
BIT_RATE_KBPS = 64  # sayfile's mp3 bit rate
LAME_QUALITY = 7  # sayfile's LAME quality


def speak_mp3(text: str) -> bytes:
    """`text` spoken by espeak-ng (en-us) and encoded as mp3, as cheaply as it can be done."""
    wav = subprocess.run(
        ["espeak-ng", "-v", ESPEAK_VOICE, "-b", "1", "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        pcm = reader.readframes(reader.getnframes())
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BIT_RATE_KBPS)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    return bytes(encoder.encode(pcm) + encoder.flush())


def _work(texts: list[str]) -> int:
    return sum(len(speak_mp3(text)) for text in texts)


def floor_rate(texts: list[str], processes: int | None = None) -> float:
    """Requests per second for `texts`, shared among one process per core (by default)."""
    processes = processes or os.cpu_count() or 1
    shares = [texts[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_work, [["warm up."]] * processes))
        start = time.perf_counter()
        list(pool.map(_work, shares))
        return len(texts) / (time.perf_counter() - start)
