"""Wyoming against HTTP: the first audio chunk of a one-sentence Mandarin request to a real
`sayfile wyoming` process, and the first bytes of the same sentence streamed by a real
`sayfile serve` (POST /speech?stream=true, raw PCM and mp3), in one run, taking turns, each
request closed once its first audio came (which cancels the rest) and a pause after it.

    .venv/bin/python bench/wyoming_first_audio.py [--rounds 7] [--voice kokoro:zf_xiaobei]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeVoice

from harness import free_port, load_env, start_sayfile, stop

# One everyday sentence a round, none said twice (nothing is answered from a cache).
SENTENCES = [
    "今天天气很好，我们下午去公园散步吧。",
    "请把客厅的灯关掉，谢谢。",
    "明天早上七点叫我起床。",
    "厨房的温度现在是二十三度。",
    "前门已经锁好了，请放心。",
    "我们晚上六点半吃饭。",
    "洗衣机还有十分钟就洗好了。",
    "外面正在下雨，记得带伞。",
    "孩子们已经睡着了。",
    "这首歌的名字叫月亮代表我的心。",
]


async def wyoming_ready(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                if await client.read_event() is not None:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def wyoming_first_chunk(port: int, text: str, voice: str) -> float:
    """Seconds from sending `synthesize` to the first `audio-chunk`."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        began = time.perf_counter()
        await client.write_event(Synthesize(text, voice=SynthesizeVoice(name=voice)).event())
        while True:
            event = await client.read_event()
            if event is None or event.type == "error":
                raise RuntimeError(f"no audio: {event}")
            if event.type == "audio-chunk":
                return time.perf_counter() - began


def http_first_byte(url: str, text: str, voice: str, fmt: str) -> float:
    """Seconds from sending POST /speech?stream=true to its first body bytes."""
    body = {"text": text, "voice": voice, "format": fmt}
    began = time.perf_counter()
    with httpx.stream("POST", f"{url}/speech?stream=true", json=body, timeout=60) as answer:
        answer.raise_for_status()
        next(answer.iter_raw())
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--voice", default="kokoro:zf_xiaobei")
    parser.add_argument("--pause", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = load_env(Path(folder) / "http")
        http, url = start_sayfile(env)
        port = free_port()
        wyoming = subprocess.Popen(
            [sys.executable, "-m", "sayfile", "wyoming", "--port", str(port)],
            env=load_env(Path(folder) / "wyoming", SAYFILE_LOG_LEVEL="warning"),
        )
        try:
            asyncio.run(wyoming_ready(port))
            # Each process loads the voice once before anything is timed.
            asyncio.run(wyoming_first_chunk(port, "你好。", args.voice))
            http_first_byte(url, "你好。", args.voice, "pcm")
            times: dict[str, list[float]] = {"wyoming": [], "http pcm": [], "http mp3": []}
            for n in range(args.rounds):
                text = SENTENCES[n % len(SENTENCES)]
                for name in times:
                    if name == "wyoming":
                        took = asyncio.run(wyoming_first_chunk(port, text, args.voice))
                    else:
                        took = http_first_byte(url, text, args.voice, name.split()[1])
                    times[name].append(took)
                    time.sleep(args.pause)
        finally:
            stop(wyoming)
            stop(http)
    print(f"{args.voice}, {args.rounds} rounds, first audio in seconds: median (largest)")
    for name, runs in times.items():
        print(f"  {name:9} {statistics.median(runs):.3f} ({max(runs):.3f})")
    ratio = statistics.median(times["wyoming"]) / statistics.median(times["http pcm"])
    print(f"  wyoming / http pcm: {ratio:.2f}")


if __name__ == "__main__":
    main()
