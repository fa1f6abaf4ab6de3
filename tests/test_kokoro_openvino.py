"""Kokoro on OpenVINO (SAYFILE_KOKORO_RUNTIME=openvino): the float model in bfloat16 says what
onnxruntime's int8 model says, as loud, with every word timed; its compiled form is kept in
the cache folder and read back; and no telemetry module is loaded."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.engines.kokoro import KokoroEngine
from sayfile.engines.kokoro_sessions import KokoroRuntime
from sayfile.models import Voice

SENTENCES = {
    "kokoro:af_heart": ("en", "The birch canoe slid on the smooth planks."),
    "kokoro:zf_xiaobei": ("zh", "我在银行工作，每天早上七点起床。"),
}


def wav(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(24_000)
        file.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def loudness(samples: np.ndarray) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(24_000).integrated_loudness(samples / 32768.0))


def test_the_runtime_is_a_setting_and_an_unknown_one_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from sayfile.settings import Settings

    assert Settings().kokoro_runtime in ("onnxruntime", "openvino")
    monkeypatch.setenv("SAYFILE_KOKORO_RUNTIME", "openvino")
    assert Settings().kokoro_runtime == "openvino"
    monkeypatch.setenv("SAYFILE_KOKORO_RUNTIME", "tensorrt")
    with pytest.raises(ValidationError, match="'onnxruntime' or 'openvino'"):
        Settings()


@pytest.mark.slow
def test_openvino_is_loaded_with_its_telemetry_stubbed_out(tmp_path: Path) -> None:
    """Importing OpenVINO's conversion tools sends an event and writes a client id into
    ~/intel unless their telemetry package is unimportable; sayfile's import of OpenVINO
    makes it so (in a process of its own, with a home of its own)."""
    script = (
        "from sayfile.engines.kokoro_openvino import _openvino\n"
        "assert 'CPU' in _openvino().Core().available_devices\n"
        "import openvino.tools.ovc.telemetry_utils as used\n"
        "print(used.tm.__name__)\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    environment = {**os.environ, "HOME": str(home)}
    environment.pop("CI", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "openvino.tools.ovc.telemetry_stub"
    assert list(home.iterdir()) == []


@pytest.mark.slow
def test_openvino_says_what_onnxruntime_says_and_times_every_word(
    listener: Listener, tmp_path: Path
) -> None:
    cache = tmp_path / "kokoro-openvino"
    openvino = KokoroEngine(runtime=KokoroRuntime("openvino", cache))
    onnxruntime = KokoroEngine(runtime=KokoroRuntime("onnxruntime"))
    said: dict[str, np.ndarray] = {}
    try:
        voices: dict[str, Voice] = {voice.id: voice for voice in openvino.voices()}
        if "kokoro:af_heart" not in voices:
            pytest.skip("Kokoro's voices are not installed (`make run`)")
        for voice_id, (language, text) in SENTENCES.items():
            samples, words = openvino.synthesize_timed(voices[voice_id], text, 1.0)
            reference = onnxruntime.synthesize(voices[voice_id], text, 1.0)
            # Durations rounded in bfloat16 may land a frame (25 ms) apart here and there.
            assert abs(samples.size - reference.size) <= 0.05 * reference.size
            assert loudness(samples) == pytest.approx(loudness(reference), abs=0.5)
            heard = listener.hear(wav(samples), language)
            if language == "zh":
                assert character_error_rate(text, simplified(heard)) <= 0.1, heard
            else:
                assert word_error_rate(text, heard) <= 0.1, heard
            assert words is not None
            starts = [start for _, _, start, _ in words]
            assert starts == sorted(starts) and starts[-1] < samples.size
            spoken = "".join(text[start:end] for start, end, _, _ in words).replace(" ", "")
            assert spoken == "".join(c for c in text if c.isalnum())
            said[voice_id] = samples
        assert any(cache.iterdir()), "the compiled model is not cached"
    finally:
        openvino.close()
        onnxruntime.close()

    # The next process's engine reads the compiled model back and says the same samples.
    again = KokoroEngine(runtime=KokoroRuntime("openvino", cache))
    try:
        text = SENTENCES["kokoro:af_heart"][1]
        samples = again.synthesize(voices["kokoro:af_heart"], text, 1.0)
        assert np.array_equal(samples, said["kokoro:af_heart"])
    finally:
        again.close()


@pytest.mark.slow
def test_the_float_models_durations_add_up_to_its_audio() -> None:
    from sayfile.engines.kokoro import assemble_model, default_folder
    from sayfile.engines.kokoro_float_model import float_model
    from sayfile.engines.kokoro_openvino import OpenVinoSession
    from sayfile.engines.kokoro_timed_model import SAMPLES_PER_UNIT, timed_model

    folder = default_folder()
    if not (folder / "voices.npz").is_file():
        pytest.skip("Kokoro's voices are not installed (`make run`)")
    session = OpenVinoSession(float_model(timed_model(assemble_model(folder))), 1, None)
    styles = np.load(folder / "voices.npz")["af_heart"]
    tokens = np.array([[0, *range(16, 48), 0]], dtype=np.int64)
    for speed in (0.6, 1.7):
        audio, durations = session.run(
            None,
            {"tokens": tokens, "style": styles[31], "speed": np.array([speed], np.float32)},
        )
        assert durations.shape == tokens.shape
        assert int(durations.sum()) * SAMPLES_PER_UNIT == audio.size
