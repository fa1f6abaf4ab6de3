"""The design sayfile was measured against when it began (a typical tutorial's TTS server):
one process, one event loop, and each request synthesized and encoded right on that loop,
blocking it: espeak-ng's WAV piped into the `lame` command (Debian's `lame`, at sayfile's
bit rate and quality), the answer sent from memory. Nothing else: no queue, no limits.

    .venv/bin/python bench/seed_design.py --port 8123
"""

from __future__ import annotations

import argparse
import subprocess

import uvicorn
from fastapi import FastAPI, Response
from pydantic import BaseModel

from floor import BIT_RATE_KBPS, ESPEAK_VOICE, LAME_QUALITY


class Body(BaseModel):
    text: str
    voice: str = "espeak:en-us"
    format: str = "mp3"


def speak_mp3(text: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", ESPEAK_VOICE, "-b", "1", "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    ).stdout
    return subprocess.run(
        ["lame", "--quiet", "-q", str(LAME_QUALITY), "-b", str(BIT_RATE_KBPS), "-", "-"],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout


def build() -> FastAPI:
    app = FastAPI()

    @app.post("/speech")
    async def speech(body: Body) -> Response:
        # Blocking on purpose: this is the design being compared with.
        return Response(speak_mp3(body.text), media_type="audio/mpeg")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
