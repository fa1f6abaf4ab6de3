"""Mixed Kokoro voices (af_bella(2)+af_sky(1)): how they are read, the one id each mix gets,
the style arithmetic, and the errors in every route's shape. Fast: Kokoro's voices are listed
from style files made here (listing them loads no model); nothing is synthesized."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Speech
from sayfile.engines.kokoro import KokoroEngine
from sayfile.engines.kokoro_blend import blended_style
from sayfile.engines.tone import ToneEngine
from sayfile.errors import BLEND_FORM, InvalidBlend
from sayfile.settings import Settings
from sayfile.voices.blends import percent_shares, read_blend
from sayfile.voices.catalogue import Catalogue

# Each voice's style table is filled with one value, so a mix's table shows its shares.
STYLES = {"af_bella": 1.0, "af_sky": 4.0, "af_heart": 2.0, "bf_emma": 3.0, "zf_xiaobei": 5.0}


@pytest.fixture
def kokoro_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kokoro"
    (folder / "voices").mkdir(parents=True)
    for name, value in STYLES.items():
        np.full((510, 256), value, dtype="<f4").tofile(folder / "voices" / f"{name}.bin")
    return folder


@pytest.fixture
def catalogue(kokoro_dir: Path) -> Catalogue:
    return Catalogue([KokoroEngine(kokoro_dir), ToneEngine()], "tone:beep", heard={})


@pytest.fixture
def blend_client(make_client: Callable[..., TestClient], kokoro_dir: Path) -> TestClient:
    return make_client(engines=["kokoro", "tone"], kokoro_dir=kokoro_dir, default_voice="tone:beep")


def test_the_short_form_and_the_long_form_are_read_alike() -> None:
    short = read_blend("af_bella(2)+af_sky")
    long = read_blend(" kokoro:af_bella( 2 ) + kokoro:af_sky(1) ")
    assert [(p.name, p.weight) for p in short] == [("af_bella", 2.0), ("af_sky", 1.0)]
    assert [(p.engine, p.name, p.weight) for p in long] == [
        ("kokoro", "af_bella", 2.0),
        ("kokoro", "af_sky", 1.0),
    ]
    assert read_blend("af_bella(0.25)+af_sky(.75)")[1].weight == 0.75


def test_weights_become_whole_percents_that_add_up_to_100() -> None:
    assert percent_shares({"a": 2, "b": 1}) == {"a": 67, "b": 33}
    assert percent_shares({"a": 0.7, "b": 0.3}) == {"a": 70, "b": 30}
    # Three equal weights: the left-over percent goes by name, whatever the order written.
    assert percent_shares({"c": 1, "a": 1, "b": 1}) == {"a": 34, "b": 33, "c": 33}
    assert sum(percent_shares({"a": 1, "b": 7, "c": 3, "d": 11}).values()) == 100


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["af_bella", "af_sky", "af_heart", "bf_emma"]),
        st.floats(min_value=0.01, max_value=1000),
        min_size=2,
    )
)
def test_a_mix_id_names_the_same_mix_again(catalogue: Catalogue, weights: dict[str, float]) -> None:
    written = "+".join(f"{name}({weight!r})" for name, weight in weights.items())
    try:
        voice = catalogue.resolve(voice=written)
    except InvalidBlend as refused:
        assert "less than 1% of the mix" in refused.message
        return
    # A job, a sample or a worker reading the id back gets the very same voice.
    again = catalogue.resolve(voice=voice.id)
    assert (again.id, again.locator) == (voice.id, voice.locator)
    shares = [int(part.split("(")[1].rstrip(")")) for part in voice.locator.split("+")]
    assert sum(shares) == 100 and shares == sorted(shares, reverse=True)


@pytest.mark.parametrize(
    "spelling",
    [
        "af_bella(2)+af_sky(1)",
        "af_sky+af_bella(2)",
        "kokoro:af_bella(2)+kokoro:af_sky(1)",
        "KOKORO:af_bella(4) + af_sky(2)",
        "af_bella(0.667)+af_sky(0.333)",
        "af_bella+af_sky(1)+af_bella",
        "kokoro:af_bella(67)+af_sky(33)",
    ],
)
def test_every_spelling_of_one_mix_is_one_voice(catalogue: Catalogue, spelling: str) -> None:
    voice = catalogue.resolve(voice=spelling)
    assert voice.id == "kokoro:af_bella(67)+af_sky(33)"
    assert (voice.engine, voice.language, voice.gender) == ("kokoro", "en-US", "female")
    assert voice.name == "Bella 67% + Sky 33%"
    # Never chosen when only a language is asked for.
    assert not voice.auto


def test_a_mix_is_not_one_of_its_voices(catalogue: Catalogue) -> None:
    ids = {
        catalogue.resolve(voice=v).id
        for v in ("af_bella", "af_sky", "af_bella+af_sky", "af_bella(2)+af_sky")
    }
    assert len(ids) == 4
    # One voice with a weight is that voice.
    assert catalogue.resolve(voice="af_bella(3)").id == "kokoro:af_bella"


def test_american_and_british_voices_mix_led_by_the_larger_share(catalogue: Catalogue) -> None:
    voice = catalogue.resolve(voice="af_bella+bf_emma(3)")
    assert voice.id == "kokoro:bf_emma(75)+af_bella(25)"
    # The leading voice's accent reads the text.
    assert voice.language == "en-GB"


def test_the_mix_style_is_the_voices_styles_by_share(catalogue: Catalogue) -> None:
    voice = catalogue.resolve(voice="af_bella(2)+af_sky(1)+af_heart(1)")
    assert voice.id == "kokoro:af_bella(50)+af_heart(25)+af_sky(25)"

    class Styles:
        """kokoro-onnx's `get_voice_style`, over the style files written above."""

        def get_voice_style(self, name: str) -> np.ndarray:
            return np.full((510, 1, 256), STYLES[name], dtype=np.float32)

    style = blended_style(Styles(), voice.locator)
    assert style.shape == (510, 1, 256) and style.dtype == np.float32
    assert np.allclose(style, 0.5 * 1.0 + 0.25 * 2.0 + 0.25 * 4.0)


@pytest.mark.parametrize(
    ("blend", "problem"),
    [
        ("af_bela+af_sky", "no voice 'af_bela' (did you mean kokoro:af_bella"),
        ("af_bella(0)+af_sky", "the weight '0' of af_bella is not above 0"),
        ("af_bella(-1)+af_sky", "the weight '-1' of af_bella is not above 0"),
        ("af_bella(two)+af_sky", "the weight 'two' of af_bella is not a number"),
        ("af_bella(nan)+af_sky", "the weight 'nan' of af_bella is not a number"),
        ("af_bella(1e309)+af_sky", "the weight '1e309' of af_bella is too large"),
        ("a+b+c+d+e", "it names 5 voices, and at most 4 can be mixed"),
        ("af_bella+zf_xiaobei", "its voices speak different languages"),
        ("af_bella+tone:beep", "it mixes voices of several engines (kokoro, tone)"),
        ("tone:beep+tone:slow", "tone's voices cannot be mixed, only Kokoro's"),
        ("af_bella(2)-af_sky(1)", "taking a voice away, a-b, is not offered"),
        ("af_bella-af_sky", "taking a voice away, a-b, is not offered"),
        ("af_bella++af_sky", "a voice is missing next to a +"),
        ("af_bella(10000)+af_sky", "kokoro:af_sky gets less than 1% of the mix"),
    ],
)
def test_a_mix_that_cannot_be_made_says_why(catalogue: Catalogue, blend: str, problem: str) -> None:
    with pytest.raises(InvalidBlend) as raised:
        catalogue.resolve(voice=blend)
    assert problem in raised.value.message
    assert raised.value.message.endswith(BLEND_FORM)


def test_a_bad_mix_is_a_422_naming_the_problem_and_the_form(blend_client: TestClient) -> None:
    r = blend_client.post("/speech", json={"text": "Hello.", "voice": "af_bella+zf_xiaobei"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_blend"
    assert "different languages" in error["message"] and "af_bella(2)+af_sky(1)" in error["message"]


def test_the_openai_route_answers_a_bad_mix_in_its_shape(blend_client: TestClient) -> None:
    r = blend_client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "input": "Hello.", "voice": "af_bella(0)+af_sky(1)"},
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "voice"
    assert "the weight '0' of af_bella is not above 0" in error["message"]


def test_the_page_shows_a_bad_mix_above_the_kept_text(blend_client: TestClient) -> None:
    r = blend_client.post(
        "/speech",
        data={"text": "Keep this text", "voice": "af_bella+af_sky+af_heart+bf_emma+zf_xiaobei"},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "That mix of voices cannot be made." in r.text
    assert "at most 4 can be mixed" in r.text and "Keep this text</textarea>" in r.text
    # The mix sent comes back for the page's script to show again.
    assert 'id="voice-sent" value="af_bella+af_sky+af_heart+bf_emma+zf_xiaobei"' in r.text


def test_a_bad_mix_sample_is_a_422(blend_client: TestClient) -> None:
    r = blend_client.get("/voices/af_bella(2)+af_bogus/sample")
    assert r.status_code == 422 and "no voice 'af_bogus'" in r.json()["error"]["message"]


def test_a_plan_in_a_mix_carries_its_canonical_id(kokoro_dir: Path) -> None:
    speech = Speech(
        Settings(engines=["kokoro", "tone"], kokoro_dir=kokoro_dir, default_voice="tone:beep")
    )
    try:
        plan = speech.plan("Hello there.", voice="af_sky(1)+af_bella(2)")
        # The id is what finished files, loudness gains and samples are keyed by.
        assert plan.voice.id == "kokoro:af_bella(67)+af_sky(33)"
    finally:
        speech.close()
