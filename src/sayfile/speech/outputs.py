"""Where a plan's encoded audio goes: a stream handed on piece by piece, a whole file in
memory, or a file on disk that appears whole or not at all. The encoder (and a file) is
opened by the thread that encodes the first piece."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from sayfile.audio.formats import AudioFormat, ChunkBuffer, Encoder, Samples, open_encoder
from sayfile.whole_files import unfinished_name


class Output:
    """One output being encoded; the encoder (and a file's sink) is made by the first piece's
    thread. `add` gives the bytes ready so far (for a stream), `finish` the last ones."""

    streaming = False

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        self._format = fmt
        self._rate = rate
        self._encoder: Encoder | None = None

    def _sink(self) -> BinaryIO | ChunkBuffer:
        raise NotImplementedError

    def _started(self) -> Encoder:
        if self._encoder is None:
            self._encoder = open_encoder(self._format, self._rate, self._sink(), self.streaming)
        return self._encoder

    def add(self, samples: Samples) -> bytes:
        """Encode one piece."""
        self._started().write(samples)
        return b""

    def finish(self) -> bytes:
        """Flush the encoder and finish the container."""
        self._started().close()
        return b""

    def last(self, data: bytes) -> bytes:
        """After the last piece (`data`, what encoding it gave): the file is finished."""
        return data + self.finish()

    def abandon(self) -> None:
        """Stop writing."""

    @property
    def duration(self) -> float:
        """Seconds of audio encoded so far."""
        return self._encoder.duration if self._encoder is not None else 0.0


class StreamOutput(Output):
    """A stream: bytes handed on as each piece is encoded, in a streamable layout."""

    streaming = True

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        super().__init__(fmt, rate)
        self._buffer = ChunkBuffer()

    def _sink(self) -> ChunkBuffer:
        return self._buffer

    def add(self, samples: Samples) -> bytes:
        super().add(samples)
        return self._buffer.drain()

    def finish(self) -> bytes:
        super().finish()
        return self._buffer.drain()


class MemoryOutput(Output):
    """A whole file in memory, seekable so that WAV and FLAC headers state the length."""

    def __init__(self, fmt: AudioFormat, rate: int) -> None:
        super().__init__(fmt, rate)
        self.buffer = io.BytesIO()

    def _sink(self) -> BinaryIO:
        return self.buffer


class FileOutput(Output):
    """An unfinished file beside `path` (the name `whole_files` gives every unfinished file,
    which the sweep knows), renamed to `path` when whole."""

    def __init__(self, fmt: AudioFormat, rate: int, path: Path) -> None:
        super().__init__(fmt, rate)
        self._path = path
        # A part staged under a name of its own is written there, not beside it.
        self._unfinished = unfinished_name(path, in_place=True)
        self._file: BinaryIO | None = None
        self.size = 0
        """Bytes of the finished file (set by `finish`, on the executor's thread)."""

    def _sink(self) -> BinaryIO:
        self._file = self._unfinished.open("wb")
        return self._file

    def finish(self) -> bytes:
        """The file is flushed to disk before the rename: a job's link promises the file for
        its whole life, and a machine that crashes (not just the process) could otherwise
        bring back a renamed but empty file under a record that says done."""
        super().finish()
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._unfinished.replace(self._path)
        self.size = self._path.stat().st_size
        return b""

    def abandon(self) -> None:
        """The unfinished file goes."""
        if self._file is not None:
            self._file.close()
        self._unfinished.unlink(missing_ok=True)
