"""Finding the language of each sentence nobody labelled (issue 21, item 6): the identifier's
load time and memory, its time per 1,000 characters, what validating a 200,000-character
text costs, and that a server stays responsive while it plans one.

- load: `SentenceLanguages.load()` for the default engines' voices (Lingua's low-accuracy
  models of every language a voice speaks), wall time and the growth of the process's RSS.
- per 1,000 characters: `SentenceLanguages.label` over 200,000 characters of English prose
  (this repository's docs) and of mixed text (five Latin-script paragraphs and a bilingual
  en/zh note, repeated); the first pass loads the high-accuracy models of the languages a
  switch is confirmed between, so the second pass is the one reported.
- validate: `plan.validate` of the mixed 200,000 characters with no voice named: the time the
  event loop would stand still if it planned the request itself.
- server: `sayfile serve` (espeak-ng only) gets the mixed 200,000 characters as a job while
  GET /healthz is asked every 20 ms; the slowest answer during the POST, and when idle. The
  job is deleted once it is accepted. It is posted twice: the first time the high-accuracy
  models that confirm switches between languages are loaded.

    PYTHONPATH=src .venv/bin/python bench/languages.py [--no-server]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

import sayfile.text.sentences as textmod
from harness import load_env, start_sayfile, stop
from sayfile.models import SpeechRequest
from sayfile.settings import Settings
from sayfile.speech.plan import validate
from sayfile.text.spans import Span
from sayfile.wiring import build_synthesizer

ROOT = Path(__file__).resolve().parents[1]
MIXED = (
    "Longtemps, je me suis couché de bonne heure. Parfois, à peine ma bougie éteinte, mes "
    "yeux se fermaient si vite que je n'avais pas le temps de me dire : je m'endors. "
    "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que "
    "vivía un hidalgo de los de lanza en astillero. "
    "Als Gregor Samsa eines Morgens aus unruhigen Träumen erwachte, fand er sich in seinem "
    "Bett zu einem ungeheueren Ungeziefer verwandelt. "
    "C'era una volta un pezzo di legno. Non era un legno di lusso, ma un semplice pezzo da "
    "catasta. Uma noite destas, vindo da cidade para o Engenho Novo, encontrei no trem da "
    "Central um rapaz aqui do bairro. Thanks for the notes from yesterday's meeting. The "
    "budget is approved. 接下来我们讨论一下 API 的设计。这个 endpoint 需要支持分页和过滤。好的。"
)
SIZE = 200_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def repeated(text: str, size: int) -> str:
    return (text + " ") * (size // (len(text) + 1) + 1)


def english() -> str:
    prose = " ".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    return textmod.normalize(re.sub(r"[`|#*_\[\]()<>]", " ", prose))


def in_process() -> None:
    synthesizer = build_synthesizer(Settings())
    synthesizer.catalogue.voices()
    languages = synthesizer.languages
    before, started = rss_mb(), time.perf_counter()
    languages.load()
    print(
        f"load: {time.perf_counter() - started:.2f} s, RSS +{rss_mb() - before:.0f} MB "
        f"({len(languages.spoken())} languages)"
    )
    for name, text in (("English", english()), ("mixed", MIXED)):
        sample = repeated(text, SIZE)[:SIZE]
        for _ in range(2):
            started = time.perf_counter()
            spans, main = languages.label([Span(sample)])
            seconds = time.perf_counter() - started
        print(
            f"{name}: {seconds / (len(sample) / 1000) * 1000:.2f} ms per 1,000 characters "
            f"({len(sample):,} characters, main {main}, {len(spans)} runs), "
            f"RSS {rss_mb():.0f} MB"
        )
    text = repeated(MIXED, SIZE)[:SIZE]
    started = time.perf_counter()
    plan = validate(SpeechRequest(text), synthesizer, Settings(), None)
    print(
        f"validate {len(text):,} mixed characters, no voice named: "
        f"{time.perf_counter() - started:.2f} s, {len(plan.voices)} voices"
    )
    synthesizer.executor.close()


def server() -> None:
    text = repeated(MIXED, SIZE)[:SIZE]
    with tempfile.TemporaryDirectory() as data:
        env = load_env(
            Path(data),
            SAYFILE_ENGINES="espeak",
            SAYFILE_DEFAULT_VOICE="espeak:en-us",
            SAYFILE_BOOK_ABOVE_CHARS="0",
        )
        process, url = start_sayfile(env)
        try:
            with httpx.Client(timeout=120) as client:
                client.post(f"{url}/speech", json={"text": "Warm up.", "format": "wav"})
                idle = slowest(client, url, 2.0, None)
                for turn in ("first", "second"):
                    posted: dict[str, str] = {}

                    def post(posted: dict[str, str] = posted) -> None:
                        r = client.post(f"{url}/jobs", json={"text": text, "format": "mp3"})
                        posted["status"] = str(r.status_code)
                        posted["id"] = r.json().get("id", "")

                    busy = slowest(client, url, 0.0, post)
                    if posted.get("id"):
                        client.delete(f"{url}/jobs/{posted['id']}")
                    print(
                        f"server, {turn} post: slowest /healthz while a {len(text):,}-character "
                        f"job is posted (answered {posted.get('status')}): {busy * 1000:.0f} ms; "
                        f"idle: {idle * 1000:.0f} ms"
                    )
        finally:
            stop(process)


def slowest(client: httpx.Client, url: str, seconds: float, during: object) -> float:
    """The slowest GET /healthz, asked every 20 ms for `seconds`, or while `during` runs."""
    worker = threading.Thread(target=during) if callable(during) else None
    if worker is not None:
        worker.start()
    deadline = time.monotonic() + seconds
    worst = 0.0
    while (worker is not None and worker.is_alive()) or time.monotonic() < deadline:
        started = time.perf_counter()
        client.get(f"{url}/healthz")
        worst = max(worst, time.perf_counter() - started)
        time.sleep(0.02)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-server", action="store_true", help="skip the server part")
    args = parser.parse_args()
    in_process()
    if not args.no_server:
        server()


if __name__ == "__main__":
    main()
