"""Running Kokoro's timed model on a phoneme string: cut into batches the model takes, each
run with its pads, trimmed of the silence at its ends and followed by the pause its last mark
asks for; gives the audio and where each phoneme is heard in it, to the sample.

sayfile's own runner, in place of kokoro-onnx's `create`, because that one discards the
durations; it makes the same audio for the same phonemes (same batches up to 510 phonemes, same
trimming, same pauses between batches). A stream's first piece is the exception: only a window
of its frames is made, said as the head of its sentence where the rest of it is known
(`first_window`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sayfile.engines.kokoro_timed_model import SAMPLES_PER_UNIT, WHOLE
from sayfile.errors import NothingToSay
from sayfile.interruption import Interrupted, current

# The model's context, in phonemes (pads not counted).
MAX_PHONEMES = 510
SAMPLE_RATE = 24_000
# Seconds of silence after a batch that ends a sentence or a clause (kokoro-onnx's defaults).
_PAUSES = {**dict.fromkeys(".!?…", 0.25), **dict.fromkeys(",;:", 0.1)}
# Trimming: frames of this many samples, every _HOP, silent this far below the loudest.
_FRAME = 2048
_HOP = 512
_TOP_DB = 60.0
# Where a batch may end, best first: after a sentence mark, after a clause mark, at a space.
_CUTS = (".!?…", ",;:", "")
# How far ahead of its durations' sum the model's audio says each phoneme, in samples (40 ms).
# Measured on the audio (bench/word_onsets.py; docs/benchmarks.md, "Word onsets"): a word's
# sound rises out of a pause 42-45 ms before its first phoneme's sum, a closure or hiss inside
# a word begins 35-57 ms before its consonant's, in English and Mandarin at speed 1.0 and 1.5.
LEAD_SAMPLES = 960
# A stream's first piece: the frames the vocoder makes (kokoro_timed_model.py's window), in
# frames of 25 ms. Of the leading pad's silence (0.35-0.475 s as the model gives it) only the
# last FIRST_LEAD_FRAMES are made, the vocoder's context before the speech. With the rest of
# its sentence run after it, the window ends FIRST_JOIN_FRAMES after the piece's last token
# (its clause mark's pause included); without, FIRST_TAIL_FRAMES after its last sound token.
# A window cut before the end fades out over FIRST_FADE samples. docs/benchmarks.md, "First
# byte: only the first piece's own frames vocoded", measured the margins.
FIRST_LEAD_FRAMES = 6
FIRST_TAIL_FRAMES = 8
FIRST_JOIN_FRAMES = 0
FIRST_FADE = 240
# Of the rest of the sentence, the first piece is run before at most this many phonemes (cut at
# a space): a few words are enough to say it as a sentence that goes on, and the model's text
# side costs by the token (347 phonemes after a 30-character piece: 1.21 s against 0.80 s).
FIRST_FOLLOWS = 80
# What a piece's sound ends before: its trailing marks and spaces.
_TRAILING = frozenset(" .,!?;:…—-\"'()“”«»")


@dataclass(frozen=True, slots=True)
class TimedAudio:
    """`audio` (float, mono, 24 kHz) and, for each character of the phonemes it says, the
    samples `[spans[i, 0], spans[i, 1])` where it is heard (empty for a space or a symbol
    the model does not know)."""

    audio: NDArray[np.float32]
    spans: NDArray[np.int64]


class KokoroRun:
    """Runs `session` (the timed model) with `vocab` (phoneme to token id); each phoneme is
    placed `lead` samples before its durations' sum puts it (LEAD_SAMPLES), never before its
    batch's audio begins."""

    def __init__(self, session: Any, vocab: Mapping[str, int], lead: int = LEAD_SAMPLES) -> None:
        self._session = session
        self._vocab = vocab
        self._lead = lead

    def __call__(
        self,
        phonemes: str,
        styles: NDArray[np.float32],
        speed: float,
        first: bool = False,
        follows: str = "",
    ) -> TimedAudio:
        """`phonemes` (white space already single spaces) said with the voice's style table
        `styles` at `speed` (0.5-2.0). A stream's `first` piece in one batch has only the
        frames around its sound made (`first_window`), said as the head of its sentence when
        the phonemes that `follows` it there are given. Raises ValueError when no phoneme is
        known."""
        parts: list[NDArray[np.float32]] = []
        spans = np.zeros((len(phonemes), 2), dtype=np.int64)
        offset = 0
        batches = list(_batches(phonemes))
        for number, (begin, end) in enumerate(batches):
            batch = phonemes[begin:end]
            kept = [i for i, symbol in enumerate(batch) if symbol in self._vocab]
            if not kept:
                continue
            tokens = [self._vocab[batch[i]] for i in kept]
            window = WHOLE
            if first and len(batches) == 1:
                ahead = _words_within(follows, FIRST_FOLLOWS)
                rest = [self._vocab[symbol] for symbol in ahead if symbol in self._vocab]
                rest = rest[: MAX_PHONEMES - len(tokens) - 1]
                window = first_window(batch, kept, bool(rest))
                tokens += [self._vocab[" "], *rest] if rest else []
            audio, edges = self._run(tokens, styles, speed, window)
            audio, head = _trimmed(audio)
            edges = np.clip(edges - head - self._lead, 0, len(audio)) + offset
            position = offset
            for token, i in enumerate(kept):
                # Symbols the model drops sit, empty, where the next known one starts.
                spans[begin + (kept[token - 1] + 1 if token else 0) : begin + i] = position
                spans[begin + i] = edges[token], edges[token + 1]
                position = int(edges[token + 1])
            spans[begin + kept[-1] + 1 : end] = position
            if number < len(batches) - 1:
                pause = _PAUSES.get(batch.rstrip()[-1:], 0.0)
                audio = np.concatenate([audio, np.zeros(int(pause * SAMPLE_RATE), np.float32)])
            parts.append(audio)
            offset += len(audio)
        if not parts:
            raise NothingToSay(f"no phoneme of {phonemes!r} is in Kokoro's vocabulary")
        return TimedAudio(np.concatenate(parts), spans)

    def _run(
        self,
        tokens: list[int],
        styles: NDArray[np.float32],
        speed: float,
        window: tuple[int, int, int, int] = WHOLE,
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """One batch's audio (the frames of `window`) and the sample where each token starts
        (and the last ends) in it."""
        style = styles[min(len(tokens), len(styles)) - 1]
        feeds = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32),
            "speed": np.array([speed], dtype=np.float32),
            "window": np.array(window, dtype=np.int64),
        }
        outputs = _interruptible_run(self._session, feeds)
        audio = np.asarray(outputs[0], dtype=np.float32).ravel()
        units = np.concatenate([[0], np.cumsum(np.asarray(outputs[1]).ravel())])
        # The frames made; a session without the window (a bench's other runtime) makes all.
        made = np.asarray(outputs[2]).ravel() if len(outputs) > 2 else np.array([0, units[-1]])
        # Without the pads at both ends: token i is heard from edges[i] to edges[i + 1].
        edges = (units[1:-1] - made[0]) * SAMPLES_PER_UNIT
        if (made[1] - made[0]) * SAMPLES_PER_UNIT != len(audio):  # a model rounding otherwise
            edges = np.round((units[1:-1] - made[0]) * (len(audio) / (made[1] - made[0])))
        elif made[1] < units[-1]:  # cut before the end: faded out, not clicked off
            audio = audio.copy()
            fade = min(FIRST_FADE, len(audio))
            audio[len(audio) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return audio, edges.astype(np.int64)


def _interruptible_run(session: Any, feeds: dict[str, Any]) -> Any:
    """`session` run on `feeds`; in a step that may be interrupted (interruption.py), ended
    by onnxruntime's terminate flag when asked to, within one of the graph's nodes (20-60 ms
    measured), as Interrupted."""
    interruption = current()
    if interruption is None:
        return session.run(None, feeds)
    import onnxruntime

    options = onnxruntime.RunOptions()
    with interruption.stoppable(lambda: setattr(options, "terminate", True)):
        try:
            return session.run(None, feeds, options)
        except Exception as exc:
            if interruption.requested:
                raise Interrupted("onnxruntime ended the run when asked to") from exc
            raise


def first_window(batch: str, kept: list[int], continued: bool) -> tuple[int, int, int, int]:
    """The window (kokoro_timed_model.py) of a stream's first piece, `batch` of which the
    characters at `kept` are its tokens: from FIRST_LEAD_FRAMES before its first token to,
    when the rest of its sentence follows it in the run (`continued`, after a space),
    FIRST_JOIN_FRAMES into that space; else FIRST_TAIL_FRAMES after the start of the marks
    and spaces that end it (or of the closing pad). Tokens count the opening pad."""
    if continued:
        return (1, FIRST_LEAD_FRAMES, len(kept) + 1, FIRST_JOIN_FRAMES)
    end = len(kept)
    while end > 1 and batch[kept[end - 1]] in _TRAILING:
        end -= 1
    return (1, FIRST_LEAD_FRAMES, end + 1, FIRST_TAIL_FRAMES)


def _words_within(phonemes: str, limit: int) -> str:
    """The first `limit` characters of `phonemes` at most, cut after a whole word if any."""
    if len(phonemes) <= limit:
        return phonemes
    space = phonemes.rfind(" ", 0, limit + 1)
    return phonemes[: space if space > 0 else limit]


def _batches(phonemes: str) -> list[tuple[int, int]]:
    """(begin, end) of each batch of at most MAX_PHONEMES characters; the space a batch is
    cut at belongs to no batch."""
    found = []
    begin = 0
    while len(phonemes) - begin > MAX_PHONEMES:
        window = phonemes[begin : begin + MAX_PHONEMES + 1]
        cut = next(
            (at for marks in _CUTS for at in [_last_space_after(window, marks)] if at > 0),
            MAX_PHONEMES,
        )
        found.append((begin, begin + cut))
        begin += cut + (1 if phonemes[begin + cut : begin + cut + 1] == " " else 0)
    found.append((begin, len(phonemes)))
    return found


def _last_space_after(window: str, marks: str) -> int:
    """The last space of `window` that follows one of `marks` (any space if `marks` is
    empty); -1 if none."""
    for at in range(len(window) - 1, 0, -1):
        if window[at] == " " and (not marks or window[at - 1] in marks):
            return at
    return -1


def _trimmed(audio: NDArray[np.float32]) -> tuple[NDArray[np.float32], int]:
    """`audio` without the silence at its ends, and how many samples went from its start.

    Silence as kokoro-onnx trims it (librosa's rule): frames of 2048 samples every 512,
    centred (zeros beyond the ends), whose mean power is more than 60 dB below the loudest
    frame's; the audio is kept from the first loud frame's start to the last one's end."""
    padded = np.pad(audio.astype(np.float64), _FRAME // 2)
    energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(0, len(padded) - _FRAME + 1, _HOP)
    power = (energy[starts + _FRAME] - energy[starts]) / _FRAME
    floor = np.maximum(power, 1e-10)
    loud = np.flatnonzero(10 * np.log10(floor / max(float(floor.max()), 1e-10)) > -_TOP_DB)
    if not loud.size:
        return audio[:0], 0
    head = int(loud[0]) * _HOP
    tail = min(len(audio), (int(loud[-1]) + 1) * _HOP)
    return audio[head:tail], head
