"""The requests Open WebUI, SillyTavern and LibreChat make, replayed against sayfile: what each
would show in its picker, and whether the speech request it then sends comes back as audio.

Read from the clients' code (docs/integrations.md names the same):
- Open WebUI, open-webui/open-webui at commit 6adde203cd29,
  `backend/open_webui/routers/audio.py`: `get_available_models` and `get_available_voices`
  call `requests.get(f"{base}/audio/models")` and `.../audio/voices` with no headers (no
  key), read `data.get("models", [])` and `{v["id"]: v["name"] for v in data.get("voices",
  [])}`, and fall back to OpenAI's names only when the call raises; `speech` posts the page's
  `{"input", "voice"}` with `model` set to AUDIO_TTS_MODEL and AUDIO_TTS_OPENAI_PARAMS merged
  over it, with `Authorization: Bearer <AUDIO_TTS_OPENAI_API_KEY>`.
- SillyTavern 1.12.6 (commit ba6f7b7a98cf), `public/scripts/extensions/tts/openai-compatible.js`
  and `src/endpoints/openai.js`: the voices are typed into a comma-separated field (split on
  `,`, not trimmed); its server posts `{input, response_format: "mp3", voice, speed, model}`
  to the full endpoint URL with `Authorization: Bearer <key or nothing>`.
- LibreChat, danny-avila/LibreChat at commit 6aa8eff1e6aa,
  `api/server/services/Files/Audio/TTSService.js` (and `getVoices.js`): the voices are the
  list typed in librechat.yaml; axios posts `{input, model, voice}` to the configured `url`
  with `Authorization: Bearer <apiKey>`, or the string `undefined` when no apiKey is set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TONES, decode, decode_in_process
from sayfile.voices.language_names import own_name
from sayfile.voices.openai_names import MODELS

KEY = "chat-front-end-key"
# What python-requests sends on a bare `requests.get(url)` (Open WebUI's list calls).
REQUESTS_HEADERS = {"User-Agent": "python-requests/2.32.3", "Accept": "*/*"}
# axios's defaults on a JSON post (LibreChat's server).
AXIOS_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Content-Type": "application/json",
    "User-Agent": "axios/1.7.7",
}
TEXT = "Hello from the chat window. This is the second sentence."


def open_webui_pickers(client: TestClient) -> tuple[list[str], dict[str, str]]:
    """Open WebUI's model and voice pickers, filled as its backend fills them."""
    models = client.get("/v1/audio/models", headers=REQUESTS_HEADERS)
    voices = client.get("/v1/audio/voices", headers=REQUESTS_HEADERS)
    # raise_for_status(): any error status would make it show OpenAI's six names instead.
    assert models.status_code == 200, models.text
    assert voices.status_code == 200, voices.text
    model_ids = [m["id"] for m in models.json().get("models", [])]
    voice_names = {v["id"]: v["name"] for v in voices.json().get("voices", [])}
    return model_ids, voice_names


def open_webui_speech(client: TestClient, voice: str, model: str, params: dict[str, Any]) -> Any:
    payload = {"input": TEXT, "voice": voice, "model": model, **params}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
    return client.post("/v1/audio/speech", json=payload, headers=headers)


def assert_every_voice_listed(client: TestClient, picker: dict[str, str]) -> None:
    """Every voice of the catalogue is in the picker, its line naming it and its language."""
    catalogue = client.get("/voices").json()
    assert catalogue and set(picker) == {v["id"] for v in catalogue}
    for voice in catalogue:
        line = picker[voice["id"]]
        assert voice["name"] in line and voice["language"] in line, line
        language = own_name(voice["language"])
        assert language is None or language in line, line


def test_open_webui_fills_its_pickers_without_a_key_and_then_speaks(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, api_keys=[KEY])
    models, voices = open_webui_pickers(client)
    assert models == list(MODELS)
    assert_every_voice_listed(client, voices)
    assert voices["tone:beep"] == "Beep · zxx · tone"
    # The admin picks a model and a voice from the lists; AUDIO_TTS_OPENAI_PARAMS adds fields.
    for params, fmt in (({}, "mp3"), ({"response_format": "wav"}, "wav")):
        r = open_webui_speech(client, "tone:beep", models[0], params)
        assert r.status_code == 200, r.text
        assert decode_in_process(r.content, fmt).duration_s > 1.0
    # A wrong key in Open WebUI's settings: an OpenAI-shaped error it shows as "External: ...".
    wrong = client.post(
        "/v1/audio/speech",
        json={"input": TEXT, "voice": "tone:beep", "model": "tts-1"},
        headers={"Authorization": "Bearer not-the-key"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"


def test_sillytavern_typed_voices_and_its_speed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    ids = [v["id"] for v in client.get("/v1/audio/voices").json()["voices"]]
    # What a user pastes into "Available Voices (comma separated)"; SillyTavern does not trim.
    typed = ", ".join(ids).split(",")
    assert typed[1].startswith(" ")
    seconds: dict[float, float] = {}
    for voice in typed:
        for speed in (1.0, 2.0):
            # No key saved in SillyTavern: it still sends the header, with nothing after it.
            r = client.post(
                "/v1/audio/speech",
                json={
                    "input": TEXT,
                    "response_format": "mp3",
                    "voice": voice,
                    "speed": speed,
                    "model": "tts-1",
                },
                headers={"Content-Type": "application/json", "Authorization": "Bearer "},
            )
            assert r.status_code == 200, (voice, r.text)
            assert r.headers["content-type"] == "audio/mpeg"
            seconds[speed] = decode_in_process(r.content, "mp3").duration_s
        # Its speed slider is heard: twice as fast is about half as long.
        assert seconds[2.0] == pytest.approx(seconds[1.0] / 2, rel=0.15)


def test_librechat_yaml_voices_with_and_without_a_key(
    make_client: Callable[..., TestClient],
) -> None:
    keyed = make_client(**TONES, api_keys=[KEY])
    # librechat.yaml's `voices:` list, copied from the voice ids sayfile lists.
    voices = [v["id"] for v in keyed.get("/v1/audio/voices").json()["data"]]
    for voice in voices:
        r = keyed.post(
            "/v1/audio/speech",
            json={"input": TEXT, "model": "sayfile", "voice": voice},
            headers={**AXIOS_HEADERS, "Authorization": f"Bearer {KEY}"},
        )
        assert r.status_code == 200, (voice, r.text)
        assert decode_in_process(r.content, "mp3").duration_s > 1.0
    # No apiKey in librechat.yaml: LibreChat sends `Authorization: undefined`, which a server
    # with keys refuses and one without keys ignores.
    body = {"input": TEXT, "model": "tts-1", "voice": voices[0]}
    refused = keyed.post(
        "/v1/audio/speech", json=body, headers={**AXIOS_HEADERS, "Authorization": "undefined"}
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].startswith("An API key is required")
    open_server = make_client(**TONES)
    r = open_server.post(
        "/v1/audio/speech", json=body, headers={**AXIOS_HEADERS, "Authorization": "undefined"}
    )
    assert r.status_code == 200
    assert decode_in_process(r.content, "mp3").duration_s > 1.0


def test_the_lists_keep_openais_shape_for_existing_clients(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES, api_keys=[KEY])
    voices = client.get("/v1/audio/voices", params={"language": "zxx"}).json()
    assert voices["object"] == "list"
    assert [v["id"] for v in voices["data"]] == [v["id"] for v in voices["voices"]]
    assert set(voices["data"][0]) >= {"id", "name", "language", "engine", "sample_rate"}
    models = client.get("/v1/audio/models").json()
    assert [m["id"] for m in models["data"]] == [m["id"] for m in models["models"]]
    assert models["data"][0]["object"] == "model"
    # GET /v1/models is what the SDKs call, with their key, as before.
    assert client.get("/v1/models").status_code == 401
    listed = client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert [m["id"] for m in listed["data"]] == list(MODELS)
    assert client.get("/v1/audio/voices", params={"language": "xx-nowhere"}).json() == {
        "voices": [],
        "object": "list",
        "data": [],
    }


@pytest.mark.slow
def test_open_webui_lists_every_real_voice_and_speaks_english_and_mandarin(
    make_client: Callable[..., TestClient], ffmpeg: None
) -> None:
    """The real catalogue (Kokoro, Piper, espeak-ng): the picker holds every voice by name and
    language, and a Kokoro voice picked from it speaks each language (Debian's ffmpeg
    decodes the answer)."""
    client = make_client(api_keys=[KEY])
    models, voices = open_webui_pickers(client)
    assert {"kokoro", "piper", "espeak"} <= set(models)
    assert_every_voice_listed(client, voices)
    assert voices["kokoro:zf_xiaobei"] == "Xiaobei · 中文（普通话） (zh-CN) · kokoro"
    for voice, text in (("kokoro:af_heart", TEXT), ("kokoro:zf_xiaobei", "你好，我是你的助手。")):
        r = client.post(
            "/v1/audio/speech",
            json={"input": text, "voice": voice, "model": "kokoro", "response_format": "wav"},
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
        )
        assert r.status_code == 200, r.text
        assert decode(r.content, "wav").duration_s > 1.0
