"""The audio format table and the incremental encoders (16-bit mono samples in, bytes out)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Protocol

import av
import lameenc
import numpy as np
import numpy.typing as npt

from sayfile.errors import InvalidInput, UnknownFormat

Samples = npt.NDArray[np.int16]
"""Mono signed 16-bit audio, one sentence or part of one."""


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """One output format: what HTTP calls it, what files end in, and how it is encoded.

    `library` names the encoder class (`_ENCODERS`): LAME itself for mp3, FFmpeg's libraries
    through PyAV for the rest. `sample_rate` is the rate the codec is fed when set (Opus takes
    24 kHz, which holds all of a 22.05 or 24 kHz voice and halves the resampling of 48 kHz;
    raw PCM is 24 kHz so callers know the rate without asking); otherwise the voice's own rate
    is kept.
    """

    name: str
    media_type: str
    extension: str
    container: str
    codec: str
    sample_rate: int | None = None
    bit_rate: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    """Encoder options, as FFmpeg names them (LAME's quality for mp3)."""
    sized_header: bool = False
    """The header states the length (WAV sizes, FLAC's sample count): sent as a stream it can
    only hold placeholders, which some readers take at their word."""
    library: str = "ffmpeg"
    streamable: bool = True
    """False when the container needs a seekable file (MP4 writes its index last)."""
    book_parts: str | None = None
    """The format a book's parts are made in when it is not this one (they are joined into
    this one without encoding again)."""
    decoded_gain_db: float = 0.0
    """How much louder (negative: quieter) the decoded audio is than what the encoder was
    given; loudness levelling aims that much higher, so that what is heard is the target."""
    peak_overshoot_db: float = 0.0
    """How much higher a decoder's true peaks come out than those of the audio the encoder
    was given, at the loudest target (-14 LUFS, where the limiter works hardest): the limiter
    keeps this much further under the ceiling in this format."""
    lead_in_samples: int = 0
    """Samples (at the rate it was given) a decoder plays before the first one the encoder
    was given, in a file whose header does not say to drop any: LAME's 576 and the mp3
    decoder's 529 (a read-along book's clips are moved by it, `joining.Played.lead_s`)."""


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in (
        # LAME's -q 7 instead of its default 3: half the encoding time (which for espeak-ng
        # voices is most of a request's work) at the same signal-to-noise ratio for speech;
        # the finer psychoacoustic search it skips matters for music (docs/benchmarks.md).
        # LAME's files decode at 0.95 of the level it was given (-0.45 dB), at every bit rate,
        # quality and sample rate tried, decoded by FFmpeg and by `lame --decode` alike.
        AudioFormat(
            "mp3",
            "audio/mpeg",
            "mp3",
            "mp3",
            "lame",
            bit_rate=64_000,
            options=(("quality", "7"),),
            library="lame",
            decoded_gain_db=-0.45,
            # At -14 LUFS, with 0.5 dB, kokoro:bf_emma's file peaked at -1.2 dBTP oversampled
            # 4 times and -0.8 by FFmpeg's ebur128 (8 times at 24 kHz); with 0.8, -1.5 by both.
            peak_overshoot_db=0.8,
            # Measured: a click at 0.5 s decodes (FFmpeg) 1105 samples later at 16 to 44.1 kHz.
            lead_in_samples=1105,
        ),
        # libopus at complexity 5 instead of 10: 0.0026 instead of 0.0088 seconds of computing
        # per second of speech, with a higher signal-to-noise ratio on speech (23.7 against
        # 20.8 dB, decoded by ffmpeg; docs/benchmarks.md).
        AudioFormat(
            "opus",
            "audio/ogg",
            "opus",
            "ogg",
            "libopus",
            24_000,
            48_000,
            options=(("compression_level", "5"),),
            # Decoded, levelled speech peaks 1 to 3 dB over the audio the encoder was given,
            # the more the harder the limiter works: at -14 LUFS, with 2 dB, kokoro:bf_emma's
            # file came out 2.8 dB over (docs/benchmarks.md, "-14 LUFS reached").
            peak_overshoot_db=2.5,
        ),
        # FFmpeg's "fast" AAC coder instead of "twoloop": a fifth of the encoding time here,
        # and FFmpeg's own developers found it sounds better than twoloop at higher bit
        # rates (it was FFmpeg's default from 2018); 64 kbit/s for one voice channel is high.
        # Temporal noise shaping off: 8% less time, the same signal-to-noise ratio on speech.
        AudioFormat(
            "aac",
            "audio/aac",
            "aac",
            "adts",
            "aac",
            bit_rate=64_000,
            options=(("aac_coder", "fast"), ("aac_tns", "0")),
            # Up to 0.5 dB over the levelled audio's peaks at -14 LUFS (docs/benchmarks.md).
            peak_overshoot_db=0.6,
        ),
        # The audiobook format: the aac format's AAC in an MP4 container (FFmpeg's "ipod"
        # muxer), which holds chapters players show. A book's parts are made as ADTS AAC.
        AudioFormat(
            "m4b",
            "audio/mp4",
            "m4b",
            "ipod",
            "aac",
            bit_rate=64_000,
            options=(("aac_coder", "fast"), ("aac_tns", "0")),
            peak_overshoot_db=0.6,
            sized_header=True,
            streamable=False,
            book_parts="aac",
        ),
        AudioFormat("flac", "audio/flac", "flac", "flac", "flac", sized_header=True),
        AudioFormat("wav", "audio/wav", "wav", "wav", "pcm_s16le", sized_header=True),
        AudioFormat("pcm", "audio/pcm", "pcm", "s16le", "pcm_s16le", 24_000),
    )
}
# Formats only a book is made in, and the audio format inside: `epub` is a read-along EPUB 3
# of one mp3 file per chapter (every EPUB 3 reading system plays mp3; the chapters' files are
# made as mp3 anyway, so nothing is encoded again).
BOOK_FORMATS: dict[str, str] = {"epub": "mp3"}
# The bit rates (kbit/s) a book may be made at, by codec: sizes for one voice, from small to
# clear. A format's own `bit_rate` is the default; formats not listed take none.
BITRATES: dict[str, tuple[int, ...]] = {
    "lame": (32, 48, 64, 96),
    "aac": (32, 48, 64, 96),
    "libopus": (24, 32, 48, 64),
}


def with_bitrate(fmt: AudioFormat, kbps: int | None) -> AudioFormat:
    """`fmt` encoded at `kbps` kbit/s (None: its own rate). Raises InvalidInput (field
    `bitrate`) for a rate its codec is not offered at, naming the allowed ones."""
    if kbps is None:
        return fmt
    allowed = BITRATES.get(fmt.codec, ())
    if kbps not in allowed:
        choices = ", ".join(map(str, allowed)) or "none (it is not compressed to a bit rate)"
        raise InvalidInput(
            f"bitrate {kbps} is not offered for {fmt.name}; allowed (kbit/s): {choices}.",
            field="bitrate",
        )
    return replace(fmt, bit_rate=kbps * 1000)


_STREAM_BUFFER = 2048
_BY_EXTENSION = {f.extension: f for f in FORMATS.values()} | {
    "ogg": FORMATS["opus"],
    "m4a": FORMATS["m4b"],
}


def audio_format(name: str) -> AudioFormat:
    """Return the format called `name` (case-insensitive); raise UnknownFormat otherwise."""
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        if name.strip().lower() in BOOK_FORMATS:
            raise InvalidInput(
                f"format {name.strip().lower()} is made only for a book job on the server "
                "(POST /jobs with the book as the multipart field `file`, or a plain or "
                f"Markdown text); allowed here: {', '.join(FORMATS)}.",
                field="format",
            ) from None
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


Sink = BinaryIO | ChunkBuffer


class Encoder(Protocol):
    """Encodes mono int16 audio into one format, writing to a sink as it goes.

    Call `write` for each chunk, then `close` once; `close` flushes the codec and finishes the
    container. A seekable sink (a real file) gets exact headers where the format has them
    (WAV sizes); a non-seekable one such as ChunkBuffer gets a streamable layout.
    """

    @property
    def duration(self) -> float:
        """Seconds of audio written so far."""
        ...

    def write(self, samples: Samples) -> None: ...

    def close(self) -> None: ...


def open_encoder(fmt: AudioFormat, input_rate: int, sink: Sink, streaming: bool = False) -> Encoder:
    """An encoder of `fmt` for audio at `input_rate`, writing to `sink`. With `streaming`, bytes
    reach the sink as soon as they are encoded rather than in large blocks."""
    return _ENCODERS[fmt.library](fmt, input_rate, sink, streaming)


class LameEncoder:
    """mp3 through LAME itself (`lameenc`): constant bit rate frames, written as they come.

    MP3 frames need no container; a decoder reads a file of them from any frame on. Without the
    LAME tag, which only a muxer that seeks back could fill in, decoders play LAME's lead-in of
    about 50 ms as silence, as with any such file.
    """

    def __init__(self, fmt: AudioFormat, input_rate: int, sink: Sink, streaming: bool) -> None:
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate((fmt.bit_rate or 64_000) // 1000)
        self._lame.set_in_sample_rate(input_rate)
        self._lame.set_channels(1)
        self._lame.set_quality(int(dict(fmt.options).get("quality", "7")))
        self._sink = sink
        self._rate = input_rate
        self._samples = 0

    @property
    def duration(self) -> float:
        return self._samples / self._rate

    def write(self, samples: Samples) -> None:
        if samples.size == 0:
            return
        self._samples += samples.size
        data = self._lame.encode(np.ascontiguousarray(samples, dtype=np.int16).tobytes())
        if data:
            self._sink.write(bytes(data))

    def close(self) -> None:
        if not self._samples:
            return  # LAME refuses to flush what it never began ("Not currently encoding")
        if tail := self._lame.flush():
            self._sink.write(bytes(tail))


class FfmpegEncoder:
    """Any FFmpeg codec and container through PyAV; each chunk is one frame handed to PyAV,
    which cuts it to the codec's frame size (and resamples when the format asks for a rate)."""

    def __init__(self, fmt: AudioFormat, input_rate: int, sink: Sink, streaming: bool) -> None:
        self.format = fmt
        self.input_rate = input_rate
        self.output_rate = fmt.sample_rate or input_rate
        self.samples_in = 0
        # FFmpeg holds output in a 32 KiB buffer (4 s of 64 kbit/s audio); a stream hands bytes
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

    @property
    def duration(self) -> float:
        return self.samples_in / self.input_rate

    def write(self, samples: Samples) -> None:
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
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()


_ENCODERS: dict[str, Callable[[AudioFormat, int, Sink, bool], Encoder]] = {
    "lame": LameEncoder,
    "ffmpeg": FfmpegEncoder,
}


def encode_chunks(fmt: AudioFormat, input_rate: int, chunks: Iterable[Samples]) -> Iterator[bytes]:
    """Encode `chunks` incrementally, yielding bytes as soon as the encoder has written them.

    The concatenation of what is yielded is one valid file (a streamable layout).
    """
    buffer = ChunkBuffer()
    encoder = open_encoder(fmt, input_rate, buffer, streaming=True)
    for chunk in chunks:
        encoder.write(chunk)
        data = buffer.drain()
        if data:
            yield data
    encoder.close()
    tail = buffer.drain()
    if tail:
        yield tail


def resample(samples: Samples, rate: int, to_rate: int) -> Samples:
    """`samples` at `rate` resampled to `to_rate` (FFmpeg's resampler), for a piece spoken by
    a voice of another rate than the file's."""
    if rate == to_rate or samples.size == 0:
        return samples
    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = 0
    out = [
        f.to_ndarray().reshape(-1) for f in [*resampler.resample(frame), *resampler.resample(None)]
    ]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, dtype=np.int16)


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
