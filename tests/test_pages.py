"""The page as HTML (in process): its language, its words, and what it asks for."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from sayfile.api import interface_languages as languages
from sayfile.api.errors import STATUS

# The page itself comes from an app with the real voices (espeak-ng lists them as a process):
# those tests are slow; the tables of words are checked in the fast layer.
SLOW = pytest.mark.slow


def test_every_language_has_every_string() -> None:
    english = set(languages.words("en"))
    for language in languages.LANGUAGES:
        assert set(languages.words(language)) == english, language
        assert all(languages.words(language).values()), language


def test_no_key_is_hidden_by_a_dict_method() -> None:
    # Jinja looks up `t.copy` as the dict's method before the key: such a key would print
    # "<built-in method ...>" on the page.
    assert not [key for key in languages.words("en") if hasattr(dict, key)]


def test_every_error_code_has_a_plain_lead_that_takes_no_values() -> None:
    for language in languages.LANGUAGES:
        for mapping in STATUS.values():
            lead = languages.words(language).get(f"error_{mapping.code}", "")
            assert lead, (language, mapping.code)
            assert "{" not in lead, (language, mapping.code)
        for code in ("text_too_long", "unknown_voice", "busy", "expired", "not_found"):
            assert languages.words(language)[f"error_{code}"], (language, code)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, zh-Hans;q=0.5, en;q=0.4", "zh-CN"),
        ("fr-FR, en;q=0.5, zh;q=0.4", "en"),
        ("zh;q=0, en", "en"),
        ("zh-TW", "zh-TW"),
        ("zh-HK,zh;q=0.8", "zh-HK"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hant-HK", "zh-HK"),
        ("zh-MO", "zh-HK"),
        ("zh_TW", "zh-TW"),
        ("zh-Hans-HK", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("de", "en"),
        ("", "en"),
        ("garbage;q=x, zh", "zh-CN"),
    ],
)
def test_accept_language_picks_the_interface(header: str, language: str) -> None:
    assert languages.from_accept_language(header) == language


def test_the_switch_beats_the_cookie_which_beats_the_browser() -> None:
    assert languages.choose_language("en", "zh-CN", "zh-CN") == "en"
    assert languages.choose_language(None, "zh-CN", "en") == "zh-CN"
    assert languages.choose_language("klingon", None, "zh") == "zh-CN"


@SLOW
def test_page_follows_accept_language_and_the_switch_is_remembered(client: TestClient) -> None:
    page = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.text
    assert page.headers["content-language"] == "zh-CN"
    assert ">下载</button>" in page.text and "★ 神经网络" in page.text
    # Chinese visitors likely type Chinese.
    assert '<option value="zh" lang="zh" selected>中文（普通话） ★</option>' in page.text

    switched = client.get("/?lang=en", headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in switched.text
    assert switched.cookies.get(languages.COOKIE) == "en"
    again = client.get("/", headers={"accept-language": "zh-CN"})  # the cookie goes along
    assert '<html lang="en">' in again.text and ">Download</button>" in again.text


@SLOW
def test_page_hands_its_words_to_the_script(client: TestClient) -> None:
    page = client.get("/?lang=zh-CN").text
    found = re.search(r'<script type="application/json" id="app-data">(.*?)</script>', page)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["lang"] == "zh-CN"
    assert data["messages"]["ready"] == "完成：音频时长 {duration}。"
    assert data["limits"] == {"direct": 5000, "job": 200_000, "preview": 300}


@SLOW
def test_form_post_error_reads_in_the_page_language(client: TestClient) -> None:
    r = client.post(
        "/speech",
        data={"text": "你好", "voice": "espeak:nope"},
        headers={"accept": "text/html", "accept-language": "zh-CN"},
    )
    assert r.status_code == 422
    assert "服务器上没有这个声音，请从列表中选择。" in r.text
    assert "详情： Unknown voice 'espeak:nope'" in html.unescape(r.text)
    # The choices sent come back selected, not the defaults for a new visitor.
    assert '<option value="zh-CN" selected>' not in r.text


@SLOW
def test_api_key_field_only_when_keys_are_set(make_client: Callable[..., TestClient]) -> None:
    assert 'name="api_key"' not in make_client().get("/").text
    page = make_client(api_keys=["k1"]).get("/", headers={"accept-language": "zh-CN"}).text
    assert '<label for="api-key">API 密钥</label>' in page
    assert '<input id="api-key" name="api_key" type="password"' in page


@SLOW
def test_languages_are_listed_by_their_own_names_neural_first(client: TestClient) -> None:
    """One choice per language, named in its own words; those a neural voice speaks come
    first and are marked; espeak-ng's Mandarin (it reads Latin letters in Chinese text as
    English) is not offered, though the API still takes it by id."""
    page = client.get("/?lang=en").text
    start = page.index('<select id="language"')
    picker = page[start : page.index("</select>", start)]
    neural_part, other_part = picker.split("<optgroup")[1:3]
    assert "With a neural voice" in neural_part and "Other languages" in other_part
    for own in ("中文（普通话） ★", "English ★", "Français ★", "Español ★", "日本語 ★"):
        assert own in neural_part, own
    for own in ("Deutsch", "Русский", "粵語", "Tiếng Việt"):
        assert f">{own}</option>" in other_part, own
    assert 'value="cmn' not in picker and "en-US" not in picker
    voices = page[page.index('<select id="voice"') :]
    voices = voices[: voices.index("</select>")]
    assert "espeak:cmn" not in voices and "kokoro:zf_xiaobei" in voices
    assert client.get("/voices/espeak:cmn/sample").status_code in (200, 206)


@SLOW
def test_every_page_language_is_made_at_start_up(make_client: Callable[..., TestClient]) -> None:
    """Traditional Chinese is made by OpenCC once per process: at start-up, in a thread, not
    on the event loop in the first Taiwan or Hong Kong visitor's request."""
    languages.words.cache_clear()
    client = make_client()
    assert languages.words.cache_info().currsize == len(languages.LANGUAGES)
    assert "預設" in client.get("/?lang=zh-TW").text
