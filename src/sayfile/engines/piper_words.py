"""Where Piper says each word: its VITS model's ceil'd durations (samples per phoneme id, in
hop lengths) named as a second output when a voice loads, and each sentence's phoneme ids back
to its phonemes and to the words of the text (espeak-ng keeps spaces between words).

The durations are computed inside every Piper model already; naming them as an output changes
no sample, and their sum times the hop length is the audio's length. Any Piper voice may be
dropped into the voices folder, so the edit is made when a voice first loads: 0.5 s to read
and write the model, and 1.5 s to import `onnx`, in every process that loads a Piper voice
(each server's warm-up). The edited model is kept in the user's cache folder
(`timed_model`), so that each model file is edited once, not at every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sayfile.engines.base import WordSpan
from sayfile.engines.kokoro_words import PhonemeWords, spaced_words, word_samples

log = logging.getLogger(__name__)

# Piper's marks around each sentence's ids and after each phoneme's (piper.const).
_BOS, _EOS, _PAD = "^", "$", "_"


def with_durations(model: Path) -> bytes | None:
    """The model at `model` with its durations (the output of its one `Ceil` node) as a
    second output, serialized for onnxruntime; None for a model without exactly one `Ceil`
    or that gives it already (it is then loaded as it is)."""
    import onnx

    graph = onnx.load(str(model))
    ceiled = [out for node in graph.graph.node if node.op_type == "Ceil" for out in node.output]
    if len(ceiled) != 1 or any(out.name == ceiled[0] for out in graph.graph.output):
        return None
    graph.graph.output.append(onnx.ValueInfoProto(name=ceiled[0]))
    return bytes(graph.SerializeToString())


def cache_folder() -> Path | None:
    """Where edited models are kept: `$XDG_CACHE_HOME/sayfile/piper`, by default
    `~/.cache/sayfile/piper`; None for a user with no home."""
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:
        return None
    return root / "sayfile" / "piper"


def timed_model(model: Path, folder: Path | None) -> str | bytes:
    """What onnxruntime loads for the Piper model at `model`: `with_durations(model)`, kept in
    `folder` under a name made of the model file's path, size and time, so that a model is
    edited once, and again when the file changes. The kept file's path, or the edited bytes
    where they cannot be kept (a read-only or absent folder), or the model's own path where
    it is loaded as it is."""
    stat = model.stat()
    key = f"{model.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    name = f"{model.stem}.{hashlib.sha256(key).hexdigest()[:20]}"
    if folder is not None:
        if (folder / f"{name}.onnx").is_file():
            return str(folder / f"{name}.onnx")
        if (folder / f"{name}.as-is").is_file():
            return str(model)
    made = with_durations(model)
    loaded: str | bytes = str(model) if made is None else made
    if folder is None:
        return loaded
    kept = folder / (f"{name}.as-is" if made is None else f"{name}.onnx")
    # Written whole under a name of this process's own, then renamed: two processes
    # starting at once each write theirs, and either rename leaves a whole file.
    partial = folder / f"{name}.{os.getpid()}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(made or b"")
        partial.replace(kept)
    except OSError as exc:
        log.info("the edited Piper model is not kept in %s (%s): edited at each load", folder, exc)
        with contextlib.suppress(OSError):
            partial.unlink()
        return loaded
    return loaded if made is None else str(kept)


@dataclass(frozen=True, slots=True)
class SpokenSentence:
    """One sentence as Piper said it: its `phonemes` (one or more characters each), the
    `ids` the model was given, the samples each id is heard for (`samples`, same length) and
    the length of its audio (`length`: their sum, for every model seen)."""

    phonemes: Sequence[str]
    ids: Sequence[int]
    samples: NDArray[np.int64]
    length: int


def phoneme_spans(
    sentence: SpokenSentence, id_map: Mapping[str, Sequence[int]]
) -> list[tuple[int, int]] | None:
    """(start, end) samples of each phoneme of `sentence`, in its own audio: its ids and the
    pad after them (the sentence's start and end marks belong to none); a phoneme the map does
    not know has no ids and is empty where the next begins. None when the ids are not the
    phonemes' (a model that numbers them otherwise)."""
    pad = list(id_map.get(_PAD, ()))
    edges = np.concatenate([[0], np.cumsum(sentence.samples)]).astype(np.float64)
    if edges[-1] != sentence.length and edges[-1] > 0:  # a model that rounds otherwise
        edges = np.round(edges * (sentence.length / edges[-1]))
    at = 0

    def take(expected: Sequence[int]) -> bool:
        nonlocal at
        if list(sentence.ids[at : at + len(expected)]) != list(expected):
            return False
        at += len(expected)
        return True

    if not take([*id_map.get(_BOS, ()), *pad]):
        return None
    spans = []
    for phoneme in sentence.phonemes:
        start = int(edges[at])
        if phoneme in id_map and not take([*id_map[phoneme], *pad]):
            return None
        spans.append((start, int(edges[at])))
    if not take(list(id_map.get(_EOS, ()))) or at != len(sentence.ids):
        return None
    return spans


def sentence_words(
    text: str,
    sentences: Sequence[SpokenSentence],
    id_map: Mapping[str, Sequence[int]],
    scale: float = 1.0,
) -> list[WordSpan] | None:
    """Each word of `text` with where it is heard in `sentences`' audio one after the other
    (times `scale`, the audio stretched after); None where the ids do not match the phonemes."""
    symbols: list[str] = []  # one character each
    spans: list[tuple[int, int]] = []
    offset = 0
    for sentence in sentences:
        found = phoneme_spans(sentence, id_map)
        if found is None:
            return None
        if symbols:
            symbols.append(" ")
            spans.append((offset, offset))
        for phoneme, (start, end) in zip(sentence.phonemes, found, strict=True):
            # A phoneme of several characters (a vowel cluster) is heard on its first.
            symbols.extend(phoneme)
            spans.append((offset + start, offset + end))
            spans.extend([(offset + end, offset + end)] * (len(phoneme) - 1))
        offset += sentence.length
    # A word is timed as Kokoro's are (word_samples): from the space before it in running
    # speech, from its first phoneme after a pause. Piper's audio has no lead on its
    # durations (bench/word_onsets.py --engine piper: a word's sound rises out of a pause 3-4
    # ms before its first phoneme's sum, 38-87 ms after the space's), so the spans stay as
    # they are.
    said: PhonemeWords = spaced_words(text, "".join(symbols))
    return word_samples(said, spans, scale)
