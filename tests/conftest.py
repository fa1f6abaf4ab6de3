"""Shared fixtures: real engines (loaded once per session) and an independent decoder."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sayfile.service import SpeechService
from sayfile.settings import Settings


@dataclass(frozen=True)
class Decoded:
    """What Debian's ffmpeg (not the FFmpeg inside PyAV) made of a file."""

    duration_s: float
    container: str
    codec: str
    sample_rate: int


def decode(data: bytes, fmt: str) -> Decoded:
    """Decode audio bytes fully with the ffmpeg/ffprobe command-line tools.

    The duration is counted from the decoded samples, not read from a header.
    Raw `pcm` is read as s16le mono at 24 kHz, as documented.
    """
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if fmt == "pcm" else []
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *raw,
            "-show_entries",
            "format=format_name:stream=codec_name,sample_rate",
            "-of",
            "default=nw=1",
            "-",
        ],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    info = dict(line.split("=", 1) for line in probe.splitlines() if "=" in line)
    pcm = subprocess.run(
        # No -xerror: a streamed WAV declares the maximum size (0xFFFFFFFF), and ffmpeg reports
        # its shorter last packet as corrupt although every sample decodes.
        ["ffmpeg", "-v", "error", *raw, "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
        input=data,
        capture_output=True,
        check=False,
    )
    assert pcm.returncode == 0, pcm.stderr.decode()
    return Decoded(
        duration_s=len(pcm.stdout) / 2 / 8000,
        container=info.get("format_name", ""),
        codec=info.get("codec_name", ""),
        sample_rate=int(info.get("sample_rate", 0)),
    )


@pytest.fixture(scope="session")
def ffmpeg() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg/ffprobe missing: run `make test`, which installs Debian's ffmpeg")


@pytest.fixture(scope="session")
def speech() -> Iterator[SpeechService]:
    """One service with real engines for the whole run (loading Piper takes a second)."""
    service = SpeechService(Settings())
    yield service
    service.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")
