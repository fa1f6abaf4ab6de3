"""Fair turns for voice set-up (issue 28): one client's SSML switches through every Kokoro
voice (each voice's first loudness measurement, and its style loaded, happen on the way)
while another client asks for one sentence every second; how long the other client waits.

    .venv/bin/python bench/voice_setup.py [--engine espeak] [--attack job|direct]

Two API keys make them two clients (one address would make them one client, whose requests
go in order). Prints a table: the other client's one-sentence request alone, then during the
attack (median, 90th percentile, worst), and how long the attack took.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

from harness import load_env, start_sayfile, stop

ATTACKER = "attacker-key"
VICTIM = "victim-key"
SENTENCE = "The quick brown fox jumps over the lazy dog."


def voices(url: str) -> list[str]:
    listed = httpx.get(f"{url}/voices", timeout=60).json()
    return [voice["id"] for voice in listed if voice["id"].startswith("kokoro:")]


def switching_document(voice_ids: list[str]) -> str:
    parts = [
        f'<voice name="{voice}">Hello from voice {n}.</voice>' for n, voice in enumerate(voice_ids)
    ]
    return "<speak>" + " ".join(parts) + "</speak>"


_asked = iter(range(1_000_000))


def one_sentence(client: httpx.Client, voice: str) -> float:
    # Each text new: the same text again would be answered from the recent answers.
    text = f"{SENTENCE} Number {next(_asked)}."
    began = time.perf_counter()
    answer = client.post("/speech", json={"text": text, "voice": voice, "format": "wav"})
    answer.raise_for_status()
    return time.perf_counter() - began


def attack(url: str, document: str, how: str, took: list[float]) -> None:
    headers = {"Authorization": f"Bearer {ATTACKER}"}
    began = time.perf_counter()
    with httpx.Client(base_url=url, headers=headers, timeout=1800) as client:
        if how == "direct":
            answer = client.post("/speech", json={"text": document, "format": "wav"})
            if answer.status_code != 200:
                print(f"the attack was refused: {answer.status_code} {answer.text[:500]}")
                return
        else:
            job = client.post("/jobs", json={"text": document, "format": "wav"}).json()
            while client.get(job["status_url"]).json()["status"] not in ("done", "failed"):
                time.sleep(0.2)
    took.append(time.perf_counter() - began)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--victim-voice", default="espeak:en-us")
    parser.add_argument("--attack", choices=("job", "direct"), default="direct")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = load_env(
            Path(folder),
            SAYFILE_ENGINES="kokoro,espeak",
            SAYFILE_DEFAULT_VOICE="kokoro:af_heart",
            SAYFILE_API_KEYS=f"{ATTACKER},{VICTIM}",
            SAYFILE_DIRECT_WAIT_SECONDS="1800",
            SAYFILE_MAX_CHARS_DIRECT="5000",
        )
        process, url = start_sayfile(env)
        try:
            ids = voices(url)
            document = switching_document(ids)
            headers = {"Authorization": f"Bearer {VICTIM}"}
            with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
                one_sentence(client, args.victim_voice)
                alone = [one_sentence(client, args.victim_voice) for _ in range(5)]
                took: list[float] = []
                attacker = threading.Thread(target=attack, args=(url, document, args.attack, took))
                attacker.start()
                during: list[float] = []
                while attacker.is_alive():
                    during.append(one_sentence(client, args.victim_voice))
                    time.sleep(1.0)
                attacker.join()
        finally:
            stop(process)
    print(f"{len(ids)} Kokoro voices in one {len(document):,}-character document ({args.attack})")
    print("| measure | seconds |")
    print("| --- | --- |")
    print(f"| one sentence ({args.victim_voice}) alone, median | {statistics.median(alone):.2f} |")
    print(f"| during the attack, median of {len(during)} | {statistics.median(during):.2f} |")
    print(f"| during the attack, 90th percentile | {percentile(during, 0.9):.2f} |")
    print(f"| during the attack, worst | {max(during):.2f} |")
    print(f"| the attack's own time | {took[0]:.1f} |")


if __name__ == "__main__":
    main()
