from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Speech
from sayfile.engines import build_engines
from sayfile.engines.piper import bundled_voice_models
from sayfile.errors import UnknownLanguage, UnknownVoice
from sayfile.settings import Settings
from sayfile.voices.catalogue import Catalogue

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        # Neural before formant, the best graded first (Kokoro's af_heart is graded A).
        ("en", "kokoro:af_heart"),
        ("en-US", "kokoro:af_heart"),
        ("en_us", "kokoro:af_heart"),
        ("en-GB", "kokoro:bf_emma"),
        # Mandarin: the voice a speech recognizer understood best, never espeak-ng's.
        ("zh", "kokoro:zm_yunjian"),
        ("zh-CN", "kokoro:zm_yunjian"),
        ("cmn", "kokoro:zm_yunjian"),
        ("yue", "espeak:yue"),
        ("fr", "kokoro:ff_siwis"),
        ("de", "espeak:de"),
        ("pt-BR", "kokoro:pf_dora"),
    ],
)
def test_language_picks_the_best_voice(speech: Speech, language: str, voice: str) -> None:
    assert speech.catalogue.resolve(language=language).id == voice


def test_voice_ids_are_engine_and_name(speech: Speech) -> None:
    voices = speech.catalogue.voices()
    assert len(voices) > 100
    ids = [v.id for v in voices]
    assert len(ids) == len(set(ids))
    assert {"piper:en_US-joe-medium", "espeak:cmn", "espeak:en-us"} <= set(ids)
    assert all(v.id.startswith(f"{v.engine}:") for v in voices)
    assert speech.catalogue.resolve(voice="PIPER:en_us-joe-medium").id == "piper:en_US-joe-medium"


def test_unknown_voice_names_the_closest(speech: Speech) -> None:
    with pytest.raises(UnknownVoice) as info:
        speech.catalogue.resolve(voice="piper:en_US-joe-medum")
    assert info.value.closest[0] == "piper:en_US-joe-medium"
    assert "piper:en_US-joe-medium" in str(info.value)


def test_unknown_language_names_the_closest(speech: Speech) -> None:
    with pytest.raises(UnknownLanguage) as info:
        speech.catalogue.resolve(language="enn")
    assert "en" in info.value.closest
    with pytest.raises(UnknownLanguage):
        speech.catalogue.resolve(language="tlh")


def test_piper_voices_dropped_into_the_voices_folder_are_listed(tmp_path: Path) -> None:
    model = bundled_voice_models()[0]
    shutil.copy(model, tmp_path / "en_US-copy-medium.onnx")
    config = json.loads(Path(f"{model}.json").read_text())
    config["dataset"] = "copy"
    (tmp_path / "en_US-copy-medium.onnx.json").write_text(json.dumps(config))
    (tmp_path / "lonely.onnx").write_bytes(b"no config next to me")
    catalogue = Catalogue(build_engines(Settings(voices_dir=tmp_path)), "espeak:en-us")
    voice = catalogue.resolve(voice="piper:en_US-copy-medium")
    assert (voice.name, voice.language, voice.sample_rate) == ("Copy (medium)", "en-US", 22050)
    assert catalogue.engine(voice).synthesize(voice, "It works.", 1.0).size > 10_000
    assert "piper:lonely" not in {v.id for v in catalogue.voices()}
