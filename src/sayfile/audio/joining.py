"""Joining finished audio files into one without encoding again (their packets are copied in
order, each file's time shifted to follow the one before), and a ZIP of chapter files with
safe, Unicode-correct names."""

from __future__ import annotations

import shutil
import unicodedata
import wave
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from sayfile.audio.chapter_marks import MP4_OPTIONS
from sayfile.audio.formats import AudioFormat
from sayfile.whole_files import written_whole

_COPY_BLOCK = 1 << 20
# Windows refuses these in names; "/" and "\\" would also make folders in the archive.
_RESERVED = frozenset('<>:"/\\|?*')
# Joiners that glue emoji and some scripts' letters together, kept inside names.
_JOINERS = frozenset("\u200c\u200d")
# Room for the number and extension within the 255 bytes most file systems allow: 40
# Chinese or 120 Latin letters.
_MAX_TITLE_BYTES = 120
# FLAC's STREAMINFO block: its data starts after "fLaC" and the block header; the total
# sample count is the low 36 bits of its bytes 13-17 and the MD5 signature bytes 18-33.
_STREAMINFO = 8
_STORED_SUFFIXES = frozenset({"mp3", "opus", "ogg", "aac", "m4a", "m4b", "flac"})


def join_audio(
    sources: Sequence[Path], fmt: AudioFormat, target: Path
) -> tuple[list[float], float]:
    """Join `sources` (files of one format, each made by sayfile's encoder for `fmt`'s codec)
    into `target` in `fmt`'s container, copying their packets. Returns where each source starts in
    `target` and where the last one ends, in seconds (as the packets count them: an
    encoder's delay and padding included). `target` is written as an unfinished file, flushed
    and renamed when whole."""
    with written_whole(target) as unfinished:
        if fmt.container == "wav":
            starts, end = _join_wav(sources, unfinished)
        elif fmt.container == "s16le":
            starts, end = _join_raw(sources, unfinished, fmt.sample_rate or 24_000)
        else:
            starts, end = _remux(sources, fmt, unfinished)
            if fmt.container == "flac":
                _unknown_length(unfinished)
    return starts, end


def _remux(sources: Sequence[Path], fmt: AudioFormat, target: Path) -> tuple[list[float], float]:
    options = MP4_OPTIONS if fmt.container == "ipod" else {}
    starts: list[float] = []
    # A path, not a file object: the MP4 muxer reopens the file to move its index.
    with av.open(str(target), mode="w", format=fmt.container, options=options) as output:
        out_stream = None
        offset = Fraction(0)
        for number, source in enumerate(sources):
            with av.open(str(source)) as container:
                stream = container.streams.audio[0]
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                # A file's time 0 is where its sound starts; packets before it (Opus's
                # pre-skip) are the codec's start-up, which decoders drop only at the very
                # start of the joined file. The next file's first packet follows this one's
                # last, so each file starts at `shift` in the joined one.
                shift: Fraction | None = Fraction(0) if number == 0 else None
                end = offset
                frame = 0
                for packet in container.demux(stream):
                    if packet.dts is None or packet.pts is None or packet.time_base is None:
                        continue  # the demuxer's empty packet at the end
                    base = packet.time_base
                    if shift is None:
                        shift = offset - packet.pts * base
                    moved = round(shift / base)
                    # In Ogg a file's last packet is shortened by its end trimming, which the
                    # joined file keeps only at its own end: inside it the packet plays whole.
                    # (FLAC's last block is really shorter; mp3 and AAC packets are whole.)
                    length = packet.duration or 0
                    frame = max(frame, length) if fmt.container == "ogg" else length
                    end = max(end, shift + (packet.pts + frame) * base)
                    packet.pts += moved
                    packet.dts += moved
                    packet.stream = out_stream
                    output.mux(packet)
                starts.append(float(shift if shift is not None else offset))
            offset = end
    return starts, float(offset)


def _join_wav(sources: Sequence[Path], target: Path) -> tuple[list[float], float]:
    starts: list[float] = []
    frames = 0
    with wave.open(str(target), "wb") as writer:
        for number, source in enumerate(sources):
            with wave.open(str(source), "rb") as reader:
                if number == 0:
                    writer.setparams(reader.getparams())
                starts.append(frames / reader.getframerate())
                while block := reader.readframes(_COPY_BLOCK // 2):
                    writer.writeframesraw(block)
                frames += reader.getnframes()
                rate = reader.getframerate()
    return starts, frames / rate


def _join_raw(sources: Sequence[Path], target: Path, rate: int) -> tuple[list[float], float]:
    starts: list[float] = []
    written = 0
    with target.open("wb") as output:
        for source in sources:
            starts.append(written / 2 / rate)
            with source.open("rb") as reader:
                shutil.copyfileobj(reader, output, _COPY_BLOCK)
            written = output.tell()
    return starts, written / 2 / rate


def _unknown_length(path: Path) -> None:
    """The FLAC muxer copies the first file's STREAMINFO, whose sample count (and MD5) would
    make decoders stop after it: both are set to "unknown", which FLAC allows, and decoders
    read to the end."""
    with path.open("rb+") as file:
        file.seek(_STREAMINFO + 13)
        byte = file.read(1)
        file.seek(_STREAMINFO + 13)
        file.write(bytes([byte[0] & 0xF0]) + bytes(4) + bytes(16))


def chapter_file_name(number: int, title: str, extension: str, width: int) -> str:
    """Chapter `number`'s file name, `NN-title.ext` with the number padded to `width` digits
    ("01-第一章 风暴.mp3"), or `NN.ext` when nothing of the title is left."""
    return f"{chapter_file_stem(number, title, width)}.{extension}"


def chapter_file_stem(number: int, title: str, width: int) -> str:
    """`chapter_file_name` without its extension. The title keeps its script and loses what
    file systems and unzip tools refuse or misread: path separators, control characters,
    Windows' reserved characters, dots and spaces at its ends; it is cut to 120 UTF-8 bytes
    between whole characters."""
    kept = []
    for char in unicodedata.normalize("NFC", title):
        category = unicodedata.category(char)
        if char in _RESERVED or (category[0] == "C" and char not in _JOINERS) or category[0] == "Z":
            kept.append(" ")
        else:
            kept.append(char)
    stem = " ".join("".join(kept).split()).strip(" .")
    while len(stem.encode()) > _MAX_TITLE_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    prefix = f"{number:0{width}d}"
    return f"{prefix}-{stem}" if stem else prefix


def write_zip(files: Sequence[tuple[str, Path]], target: Path) -> None:
    """A ZIP at `target` of each `(name, source)`, read from disk in blocks: audio stored as
    it is, the rest (subtitles) deflated; names outside ASCII marked as UTF-8 (Python does),
    so unzip tools show them in their own script. Written as an unfinished file and renamed."""
    with written_whole(target) as unfinished, zipfile.ZipFile(unfinished, mode="w") as archive:
        for name, source in files:
            suffix = name.rsplit(".", 1)[-1].lower()
            method = zipfile.ZIP_STORED if suffix in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            archive.write(source, arcname=name, compress_type=method)


@dataclass(frozen=True, slots=True)
class Played:
    """How a player plays an audio file: its sample rate, the seconds at its start the
    decoder drops (the codec's decoder delay where the file's header says so: FFmpeg's mp3
    muxer writes it into the files `join_audio` makes), and how long it plays after them."""

    rate: int
    dropped_s: float
    seconds: float

    def lead_s(self, fmt: AudioFormat) -> float:
        """How much later than its timings a sound is heard in the file, for a file of `fmt`
        encoded by sayfile (its encoder's lead-in less what the decoder drops)."""
        return max(0.0, fmt.lead_in_samples / self.rate - self.dropped_s)


def played(path: Path) -> Played:
    """How a player plays the audio file at `path`: from its header where it says (the mp3
    files FFmpeg's muxer writes carry their length and decoder delay: an hour's file is read
    in 2 ms instead of 3 s), else from its packets, the first decoded to see what is dropped."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        base = stream.time_base
        if stream.duration is not None and stream.start_time is not None and base is not None:
            dropped = stream.start_time * base
            return Played(rate, float(dropped), float(stream.duration * base - dropped))
        start: Fraction | None = None
        end = Fraction(0)
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            if start is None:
                for frame in packet.decode():
                    if frame.pts is not None and frame.time_base is not None:
                        start = frame.pts * frame.time_base
                        break
            end = max(end, (packet.pts + (packet.duration or 0)) * packet.time_base)
        dropped = start or Fraction(0)
        return Played(rate, float(dropped), float(end - dropped))
