"""The design sayfile was measured against when it began (a typical tutorial's TTS server):
one process, one event loop, and each request synthesized and encoded right on that loop,
blocking it: espeak-ng writes a WAV file, the `lame` command (Debian's, its defaults) turns
it into an mp3 file, which is read and sent; every request uses the same two file names.
Nothing else: no queue, no limits.

    .venv/bin/python bench/seed_design.py --port 8123
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response
from pydantic import BaseModel


class Body(BaseModel):
    text: str
    voice: str = "espeak:en-us"
    format: str = "mp3"


def build(folder: Path) -> FastAPI:
    app = FastAPI()
    wav, mp3 = folder / "speech.wav", folder / "speech.mp3"

    def speak_mp3(text: str) -> bytes:
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
        subprocess.run(["lame", "--quiet", str(wav), str(mp3)], check=True)
        return mp3.read_bytes()

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
    with tempfile.TemporaryDirectory() as folder:
        uvicorn.run(build(Path(folder)), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
