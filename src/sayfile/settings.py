"""The one settings class: every option, its default, and its `SAYFILE_*` environment variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """sayfile's configuration. Each field is read from `SAYFILE_<NAME>` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="SAYFILE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Folder for job records and audio files."
    )
    voices_dir: Path | None = Field(
        default=None,
        description="Extra Piper voices: every NAME.onnx with NAME.onnx.json in it is listed.",
    )
    espeak_command: str = Field(
        default="espeak-ng", description="The espeak-ng executable (Debian package espeak-ng)."
    )
    default_voice: str = Field(
        default="piper:en_US-joe-medium",
        description="Voice used when a request names neither voice nor language.",
    )
    default_format: str = Field(default="mp3", description="Audio format when none is given.")
    max_sentence_chars: int = Field(
        default=400,
        ge=50,
        description="Longest piece of text handed to an engine at once; longer runs without "
        "punctuation are split at commas or spaces.",
    )
    synthesis_threads: int = Field(
        default=1, ge=1, description="onnxruntime threads per Piper voice."
    )
