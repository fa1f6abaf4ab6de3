"""The one settings class: every option, its default, and its `SAYFILE_*` environment variable."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# SAYFILE_ROOT_PATH: one or more path segments, each after a slash.
_ROOT_PATH = re.compile(r"(/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)+")
# The loudness targets (LUFS) a request or SAYFILE_LOUDNESS may ask for. The top is what
# Spotify and YouTube normalise to, and every voice tried reaches it within 1 LU in every
# format with true peaks under the -1 dBTP ceiling; louder, the Opus files' peaks pass the
# ceiling or their loudness falls short, and speech gains little more without clipping
# the waveform (docs/benchmarks.md, "-14 LUFS reached").
MIN_LUFS = -70.0
MAX_LUFS = -14.0


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
    espeak_library: bool = Field(
        default=True,
        description="Speak through espeak-ng's C library, in helper processes kept running, "
        "which times each word; false: run the espeak-ng command per piece, no word times.",
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
    max_loaded_voices: int = Field(
        default=4,
        ge=1,
        description="Piper voice models kept loaded at once; past it the one unused longest "
        "is unloaded (Kokoro's voices share one model).",
    )
    synthesis_threads: int = Field(
        default=1, ge=1, description="onnxruntime threads per Piper voice."
    )
    first_piece_threads: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="onnxruntime threads for a stream's first piece in a Kokoro voice when no "
        "other Kokoro call runs in the process (2 on a machine with 2 cores or more): above 1, "
        "a second session (about 180 MB, loaded by the first stream); 1 turns it off "
        "(docs/benchmarks.md, 'First byte').",
    )
    engines: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["kokoro", "piper", "espeak"],
        description="Speech engines to offer, comma-separated: kokoro, piper, espeak, and tone "
        "(beeps, for tests and trying the service out without voices).",
    )
    kokoro_dir: Path | None = Field(
        default=None,
        description="Folder with Kokoro's voices/*.bin (and its model, joined there on first "
        "use from the PyPI parts). Default: share/sayfile/kokoro in the virtualenv, where "
        "`make run` puts them.",
    )
    loudness: Annotated[float | None, NoDecode] = Field(
        default=-16.0,
        ge=MIN_LUFS,
        le=MAX_LUFS,
        description="Loudness of every output, in LUFS (EBU R128), true peaks at most -1 "
        "dBTP; `off` leaves each voice as it is. One gain per voice, so sentences never jump.",
    )
    lexicon_dir: Path | None = Field(
        default=None,
        description="Folder of pronunciation lexicons (W3C PLS `*.pls`, or `*.tsv` lines of "
        "language, term, replacement) applied to every request.",
    )
    parallel_sentences: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)),
        ge=1,
        description="Threads of the process's one sentence executor, which every job, stream "
        "and direct request shares one sentence at a time in fair turns: a single long job "
        "uses this many cores, and however many requests there are, no more sentences than "
        "this are synthesized at a time. Default: the CPUs this process may use.",
    )
    host: str = Field(default="127.0.0.1", description="Address `sayfile serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `sayfile serve` listens on.")
    root_path: str = Field(
        default="",
        description="The path prefix sayfile is served under behind a reverse proxy (`/tts` "
        "for https://example.org/tts/), with which every link it makes starts. Requests are "
        "taken with the prefix or without it (a proxy that strips it). Unset: served at /.",
    )
    wyoming_host: str = Field(
        default="127.0.0.1",
        description="Address `sayfile wyoming` (the Wyoming protocol, for Home Assistant) "
        "listens on; the protocol has no keys, so open it only to a trusted network.",
    )
    wyoming_port: int = Field(
        default=10200, ge=1, le=65535, description="Port `sayfile wyoming` listens on."
    )
    wyoming_stream_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A Wyoming `synthesize-start` with no event after it for this long is "
        "ended as if `synthesize-stop` had come: its text is said and its answer closed.",
    )
    wyoming_in_serve: bool = Field(
        default=False,
        description="Also serve the Wyoming protocol inside `sayfile serve` (one API process "
        "only), on SAYFILE_WYOMING_HOST and SAYFILE_WYOMING_PORT.",
    )
    max_queue: int = Field(
        default=256,
        ge=1,
        description="Requests waiting for or in synthesis at once; beyond it new work gets 503.",
    )
    max_chars_direct: int = Field(
        default=5_000, ge=1, description="Longest text for POST /speech (direct download)."
    )
    max_chars_in_memory: int = Field(
        default=2_000,
        ge=0,
        description="POST /speech (and /v1/audio/speech in WAV or FLAC) with up to this many "
        "characters is made in memory and answered without a job record or a kept file; "
        "longer text becomes a job, whose link serves the file if the wait runs out.",
    )
    answer_cache_bytes: int = Field(
        default=64 * 1024**2,
        ge=0,
        description="Bytes of recent answers made in memory kept to answer the same request "
        "again at once (per process); 0 keeps none.",
    )
    max_chars_job: int = Field(
        default=200_000, ge=1, description="Longest text for POST /jobs (download link)."
    )
    max_chars_book: int = Field(
        default=4_000_000,
        ge=1,
        description="Most characters of text in a book: an upload to POST /jobs, or a job's "
        "plain text made as a book (over SAYFILE_BOOK_ABOVE_CHARS). War and Peace has about "
        "3.3 million.",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted, except a book upload's file.",
    )
    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="Largest book file uploaded to POST /jobs (multipart `file`); it is "
        "written to a temporary file as it arrives, never held in memory.",
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request head (request line and headers) `sayfile serve` reads; "
        "a larger one gets 431 and the connection is closed.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection whose request head has not arrived within this time is "
        "closed (slow-header clients).",
    )
    ttl_seconds: int = Field(
        default=3600, ge=1, description="How long a finished file stays downloadable."
    )
    book_ttl_seconds: int = Field(
        default=7 * 86_400,
        ge=1,
        description="How long a finished book (an upload, or text made as a book) stays "
        "downloadable, counted from when it is done: books take hours to make.",
    )
    record_ttl_seconds: int = Field(
        default=86_400,
        ge=0,
        description="How long the record of an expired job is kept (so its link answers 410).",
    )
    sweep_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often expired files are deleted."
    )
    storage_quota_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        description="Bytes of audio kept at once; when reached, new work gets 507.",
    )
    direct_wait_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long POST /speech waits for its audio; after that it answers 202 "
        "with the job, whose link serves the file when it is done.",
    )
    stream_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A stream whose client has not taken any audio for this long is stopped "
        "and gives its place back.",
    )
    worker_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A job whose process has not beaten its heart for this long is failed.",
    )
    stall_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A running job or book part that finishes no sentence for this long is "
        "taken for a hung engine call and stopped: the job fails, a book's part goes to "
        "another turn.",
    )
    queued_timeout_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A job no worker has picked up after this long is failed.",
    )
    book_part_chars: int = Field(
        default=4000,
        ge=200,
        le=100_000,
        description="A book is made in parts of about this many characters (a chapter, or a "
        "run of its sentences), which any process can make: the unit of sharing out, of "
        "redoing after a crash and of resuming.",
    )
    book_above_chars: int = Field(
        default=16_000,
        ge=0,
        description="A job's plain text longer than this is made as a book: in parts that "
        'every process can take at once, with chapters where the text has "Chapter 1" or '
        '"第一章" lines. 0: every text job is made whole by one process.',
    )
    book_turns: int = Field(
        default=4,
        ge=1,
        le=64,
        description="How many parts of one book are made at once: with Taskiq, the turns "
        "queued for it at a time (set it to about the number of worker processes); in the "
        "embedded server, at most one per sentence thread.",
    )
    worker_jobs: int = Field(
        default=4,
        ge=1,
        description="Jobs one `sayfile worker` process runs at once, taking turns sentence "
        "by sentence (so a short job is not stuck behind a book).",
    )
    store_url: str | None = Field(
        default=None,
        description="Job records: unset for SQLite in the data folder, or redis://host:port/db.",
    )
    queue_url: str | None = Field(
        default=None,
        description="Synthesis queue: unset for threads in the API process, or "
        "redis://host:port/db for Taskiq and `sayfile worker` processes.",
    )
    redis_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait for Redis before answering 503."
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="API keys, comma-separated. When set, /v1/*, /speech and /jobs* need "
        "`Authorization: Bearer <key>` (the page asks for a key). Unset: no keys needed.",
    )

    openai_voices: dict[str, str] = Field(
        default_factory=dict,
        description="OpenAI voice names mapped to sayfile voices, as JSON, e.g. "
        '{"alloy": "piper:en_US-joe-medium", "nova": "espeak:en-us"}. Unmapped names get the '
        "best voice for the text's language.",
    )

    rate_limit: str = Field(
        default="300/minute",
        description="Requests that create work (POST /speech, /jobs, /v1/audio/speech) per "
        "client, in the `limits` notation (`300/minute`, `10/second;1000/hour`); empty: none.",
    )
    key_failure_limit: str = Field(
        default="10/minute",
        description="Wrong API keys one address may send, in the `limits` notation; past it "
        "every key from that address gets 429 until the window passes; empty: no limit.",
    )
    engine_timeout_seconds: float = Field(
        # The worst measured on a 2-core machine: Kokoro, 400 characters at speed 0.25,
        # 40 s; three times that.
        default=120.0,
        gt=0,
        description="Longest one engine call (a piece of text through Kokoro, Piper, "
        "espeak-ng) may take; past it the call is abandoned, the engine replaced by a fresh "
        "instance and the request or job fails with an engine time-out.",
    )
    max_active_per_client: int = Field(
        default=32, ge=1, description="Jobs and streams one client may have in synthesis at once."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (comma-separated) of reverse proxies whose "
        "X-Forwarded-For names the client; unset: the socket peer is the client.",
    )
    min_free_bytes: int = Field(
        default=200 * 1024**2,
        ge=0,
        description="GET /readyz reports not ready when the data folder has less free space.",
    )
    log_format: str = Field(default="text", description="`text` or `json` log lines.")

    @field_validator("api_keys", "trusted_proxies", "engines", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("loudness", mode="before")
    @classmethod
    def _loudness_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("off", "none", ""):
            return None
        return value

    @field_validator("root_path")
    @classmethod
    def _check_root_path(cls, value: str) -> str:
        prefix = value.strip().rstrip("/")
        # It is written into links as it is: a prefix that is not a plain path could make them
        # point at another host (`//host`) or at something else than a path.
        if prefix and not _ROOT_PATH.fullmatch(prefix):
            raise ValueError(
                f"{value!r} is not a path prefix such as /tts (segments of letters, digits "
                "and - . _ ~ after a /)"
            )
        return prefix

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value
