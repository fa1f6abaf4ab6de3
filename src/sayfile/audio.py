"""The audio format table and the incremental encoder (16-bit mono samples in, bytes out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import numpy.typing as npt

from sayfile.errors import UnknownFormat

Samples = npt.NDArray[np.int16]
"""Mono signed 16-bit audio, one sentence or part of one."""


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """One output format: what HTTP calls it, what files end in, and how FFmpeg makes it.

    `sample_rate` is forced when set (Opus only runs at 48 kHz, raw PCM is 24 kHz so callers
    know the rate without asking); otherwise the voice's own rate is kept.
    """

    name: str
    media_type: str
    extension: str
    container: str
    codec: str
    sample_rate: int | None = None
    bit_rate: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    """Encoder options, as FFmpeg names them."""
    sized_header: bool = False
    """The header states the length (WAV sizes, FLAC's sample count): sent as a stream it can
    only hold placeholders, which some readers take at their word."""


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in (
        # LAME's -q 7 instead of its default 3: half the encoding time (which for espeak-ng
        # voices is most of a request's work) at the same signal-to-noise ratio for speech;
        # the finer psychoacoustic search it skips matters for music (docs/benchmarks.md).
        AudioFormat(
            "mp3",
            "audio/mpeg",
            "mp3",
            "mp3",
            "libmp3lame",
            bit_rate=64_000,
            options=(("compression_level", "7"),),
        ),
        AudioFormat("opus", "audio/ogg", "opus", "ogg", "libopus", 48_000, 48_000),
        # FFmpeg's "fast" AAC coder instead of "twoloop": a fifth of the encoding time here,
        # and FFmpeg's own developers found it sounds better than twoloop at higher bit
        # rates (it was FFmpeg's default from 2018); 64 kbit/s for one voice channel is high.
        AudioFormat(
            "aac",
            "audio/aac",
            "aac",
            "adts",
            "aac",
            bit_rate=64_000,
            options=(("aac_coder", "fast"),),
        ),
        AudioFormat("flac", "audio/flac", "flac", "flac", "flac", sized_header=True),
        AudioFormat("wav", "audio/wav", "wav", "wav", "pcm_s16le", sized_header=True),
        AudioFormat("pcm", "audio/pcm", "pcm", "s16le", "pcm_s16le", 24_000),
    )
}
_STREAM_BUFFER = 2048
_BY_EXTENSION = {f.extension: f for f in FORMATS.values()} | {"ogg": FORMATS["opus"]}


def audio_format(name: str) -> AudioFormat:
    """Return the format called `name` (case-insensitive); raise UnknownFormat otherwise."""
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise UnknownFormat(name, list(FORMATS)) from None


def format_for_path(path: Path) -> AudioFormat | None:
    """The format a file name implies by its extension, or None when it implies none."""
    return _BY_EXTENSION.get(path.suffix.lower().lstrip("."))


class ChunkBuffer:
    """A write-only, non-seekable byte sink that hands out what was written since last asked.

    Being non-seekable makes every muxer write a streamable layout (no header patched later).
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class Encoder:
    """Encodes mono int16 audio at `input_rate` into `fmt`, writing to `sink` as it goes.

    Call `write` for each chunk, then `close` once; `close` flushes the codec and finishes the
    container. A seekable sink (a real file) gets exact headers (WAV sizes, MP3 Xing frame); a
    non-seekable one such as ChunkBuffer gets a streamable layout.
    """

    def __init__(
        self,
        fmt: AudioFormat,
        input_rate: int,
        sink: BinaryIO | ChunkBuffer,
        streaming: bool = False,
    ) -> None:
        self.format = fmt
        self.input_rate = input_rate
        self.output_rate = fmt.sample_rate or input_rate
        self.samples_in = 0
        # FFmpeg holds output in a 32 KiB buffer (4 s of 64 kbit/s mp3); a stream hands bytes
        # on sooner so the first sentence reaches the listener at once.
        buffer_size = _STREAM_BUFFER if streaming else 32768
        self._container = av.open(sink, mode="w", format=fmt.container, buffer_size=buffer_size)
        stream = self._container.add_stream(fmt.codec, rate=self.output_rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        if fmt.bit_rate:
            stream.bit_rate = fmt.bit_rate
        if fmt.options:
            stream.codec_context.options = dict(fmt.options)
        self._stream = stream
        self._time_base = Fraction(1, input_rate)

    def write(self, samples: Samples) -> None:
        """Encode `samples` (mono int16 at `input_rate`)."""
        if samples.size == 0:
            return
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = self.input_rate
        frame.time_base = self._time_base
        frame.pts = self.samples_in
        self.samples_in += samples.size
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the codec and write the container's trailer."""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    @property
    def duration(self) -> float:
        """Seconds of audio written so far."""
        return self.samples_in / self.input_rate


def encode_chunks(fmt: AudioFormat, input_rate: int, chunks: Iterable[Samples]) -> Iterator[bytes]:
    """Encode `chunks` incrementally, yielding bytes as soon as the muxer has written them.

    The concatenation of what is yielded is one valid file (a streamable layout).
    """
    buffer = ChunkBuffer()
    encoder = Encoder(fmt, input_rate, buffer, streaming=True)
    for chunk in chunks:
        encoder.write(chunk)
        data = buffer.drain()
        if data:
            yield data
    encoder.close()
    tail = buffer.drain()
    if tail:
        yield tail


def stretch(samples: Samples, rate: int, factor: float) -> Samples:
    """Return `samples` played `factor` times faster at the same pitch (FFmpeg's atempo)."""
    graph = av.filter.Graph()
    node = graph.add_abuffer(
        format="s16", sample_rate=rate, layout="mono", time_base=Fraction(1, rate)
    )
    # One atempo filter handles 0.5x to 100x; slower factors are a chain of them.
    steps = []
    while factor < 0.5:
        steps.append(0.5)
        factor /= 0.5
    for step in [*steps, factor]:
        tempo = graph.add("atempo", f"{step:.6f}")
        node.link_to(tempo)
        node = tempo
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = 0
    graph.push(frame)
    graph.push(None)
    out: list[Samples] = []
    while True:
        try:
            result = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            break
        out.append(result.to_ndarray().reshape(-1).astype(np.int16))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)
