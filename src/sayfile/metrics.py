"""Prometheus metrics of one process, in a registry of its own (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_RTF = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2)


class Metrics:
    """Everything `GET /metrics` shows. Counters and histograms are updated as things happen;
    gauges about jobs and storage are refreshed from the store when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "sayfile_http_requests", "HTTP requests by route, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.synthesis_seconds = Histogram(
            "sayfile_synthesis_seconds", "Engine time per sentence, by engine.",
            ["engine"], buckets=_SECONDS, registry=r,
        )  # fmt: skip
        self.audio_seconds = Counter(
            "sayfile_audio_seconds", "Seconds of audio synthesized, by engine.",
            ["engine"], registry=r,
        )  # fmt: skip
        self.realtime_factor = Histogram(
            "sayfile_realtime_factor",
            "Computing seconds per second of audio, per sentence, by engine (lower is faster).",
            ["engine"], buckets=_RTF, registry=r,
        )  # fmt: skip
        self.bytes_served = Counter(
            "sayfile_bytes_served", "Audio bytes sent, by kind (file or stream).",
            ["kind"], registry=r,
        )  # fmt: skip
        self.sweeper_deleted = Counter(
            "sayfile_sweeper_deleted_files", "Files the sweeper deleted.", registry=r
        )
        self.queue_depth = Gauge(
            "sayfile_queue_depth", "Jobs and streams admitted to synthesis in this process.",
            registry=r,
        )  # fmt: skip
        self.jobs = Gauge("sayfile_jobs", "Job records by status.", ["status"], registry=r)
        self.storage_bytes = Gauge(
            "sayfile_storage_bytes", "Bytes of audio on disk (each file once).", registry=r
        )

    def synthesized(self, engine: str, compute_s: float, audio_s: float) -> None:
        """One sentence: `compute_s` seconds of engine time made `audio_s` of audio."""
        self.synthesis_seconds.labels(engine).observe(compute_s)
        self.audio_seconds.labels(engine).inc(audio_s)
        if audio_s > 0:
            self.realtime_factor.labels(engine).observe(compute_s / audio_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
