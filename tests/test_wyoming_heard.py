"""The Wyoming server with sayfile's real voices, as Home Assistant reaches it: the voices it
lists, a Mandarin and an English sentence heard by the speech recognizer from what the
`wyoming` package's client received, an unknown voice refused, and a hang-up stopping Kokoro
(one server for the module, on 127.0.0.1); and every Chinese voice found by a Chinese pipeline
as Home Assistant looks voices up (tests/home_assistant.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from conftest import free_port
from home_assistant import offered, tags_taken
from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.settings import Settings
from sayfile.voices.language_names import primary
from wyoming_thread import DEADLINE_S, WyomingThread, ask, read_until

pytestmark = pytest.mark.slow
# Primary tags of Chinese voices: Mandarin (Kokoro's zh-CN, espeak-ng's cmn) and Cantonese.
CHINESE = ("zh", "cmn", "yue")

MANDARIN = "今天天气很好，我们下午去公园散步吧。"
ENGLISH = "The front door is locked and the kitchen lights are off."
# Chinese as Home Assistant's pipelines name it: its languages zh-cn, zh-hk and zh-tw, its
# page's zh-Hans and zh-Hant, and tags as people write them.
CHINESE_PIPELINES = ["zh-cn", "zh-CN", "zh-Hans", "zh-Hant", "zh-hk", "zh-tw", "zh"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WyomingThread]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("wyoming") / "data", wyoming_port=free_port()
    )
    thread = WyomingThread(settings).start()
    yield thread
    thread.stop()


async def test_describe_lists_every_voice_and_kokoros_mandarin(server: WyomingThread) -> None:
    info = await described(server.port)
    listed = {voice.name: voice.languages for voice in info.tts[0].voices}
    assert set(listed) == {voice.id for voice in server.catalogue.voices()}
    mandarin = [name for name, languages in listed.items() if "zh-CN" in languages]
    assert any(name.startswith("kokoro:z") for name in mandarin), mandarin
    assert listed["kokoro:af_heart"][0] == "en-US"


async def described(port: int) -> Info:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        return Info.from_event((await read_until(client, "info")).events[-1])


@pytest.mark.parametrize("country", [None, "CN", "TW", "HK", "US"])
async def test_a_chinese_pipeline_in_home_assistant_finds_every_chinese_voice_kokoros_first(
    server: WyomingThread, country: str | None
) -> None:
    """Home Assistant offers the voices listed under the one tag it scores best for the
    pipeline's language. zh-cn took zh-CN, which only Kokoro's voices listed; zh-tw and zh-hk
    took whichever of zh, zh-CN, zh-cmn and zh-yue its set gave first, each with a part of the
    voices (under zh, espeak-ng's alone, its Cantonese first by description)."""
    voices = (await described(server.port)).tts[0].voices
    chinese = {v.id for v in server.catalogue.voices() if primary(v.language) in CHINESE}
    assert any(name.startswith("kokoro:z") for name in chinese)
    assert any(name.startswith("espeak:") for name in chinese)
    best = server.catalogue.resolve(language="zh").id
    assert best.startswith("kokoro:z")
    for language in CHINESE_PIPELINES:
        taken = tags_taken(language, voices, country)
        assert taken, language
        for tag in taken:
            found = offered(tag, voices)
            assert set(found) == chinese, (language, tag, set(found) ^ chinese)
            assert found[0] == best, (language, tag, found)


async def test_an_english_pipeline_home_assistant_sets_up_starts_with_the_best_english_voice(
    server: WyomingThread,
) -> None:
    """A pipeline Home Assistant sets up speaks with the first voice by description: that was
    Adam (kokoro:am_adam, graded F+), first by name."""
    voices = (await described(server.port)).tts[0].voices
    for language in ("en", "en-us", "en-gb"):
        [tag] = tags_taken(language, voices)
        assert offered(tag, voices)[0] == server.catalogue.resolve(language=tag).id, language


@pytest.mark.parametrize("language", ["zh", "zh-CN", "zh-cn", "cmn", "zh-TW", "zh-HK"])
async def test_a_synthesize_naming_only_a_chinese_language_is_said_by_kokoro(
    server: WyomingThread, language: str
) -> None:
    before = server.engines.copy()
    asked = Synthesize("你好。", voice=SynthesizeVoice(language=language))
    heard = await ask(server.port, asked.event())
    assert heard.error is None, heard.error
    made = server.engines - before
    assert set(made) == {"kokoro"}, made
    # The voice it resolves to: Kokoro's best Mandarin voice, whichever way the tag is written.
    assert server.catalogue.resolve(language=language) == server.catalogue.resolve(language="zh")


async def test_a_mandarin_sentence_chosen_by_language_is_heard(
    server: WyomingThread, listener: Listener
) -> None:
    asked = Synthesize(MANDARIN, voice=SynthesizeVoice(language="zh-CN"))
    heard = await ask(server.port, asked.event())
    assert heard.error is None, heard.error
    said = simplified(listener.hear(heard.wav(), "zh"))
    assert character_error_rate(MANDARIN, said) <= 0.10, said


async def test_an_english_sentence_in_a_named_voice_is_heard(
    server: WyomingThread, listener: Listener
) -> None:
    asked = Synthesize(ENGLISH, voice=SynthesizeVoice(name="kokoro:af_heart"))
    heard = await ask(server.port, asked.event())
    assert heard.error is None, heard.error
    said = listener.hear(heard.wav(), "en")
    assert word_error_rate(ENGLISH, said) <= 0.10, said


async def test_an_unknown_voice_is_an_error_event_naming_the_closest(
    server: WyomingThread,
) -> None:
    heard = await ask(
        server.port, Synthesize("你好。", voice=SynthesizeVoice(name="zf_xiaobi")).event()
    )
    assert heard.error is not None
    assert heard.error.code == "UnknownVoice"
    assert "kokoro:zf_xiaobei" in heard.error.text


async def test_hanging_up_stops_kokoro(server: WyomingThread) -> None:
    sentences = 16
    text = "我们明天早上八点在学校门口见面。" * sentences
    before = server.pieces
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        voice = SynthesizeVoice(name="kokoro:zf_xiaobei")
        await client.write_event(Synthesize(text, voice=voice).event())
        assert (await read_until(client, "audio-chunk")).error is None
    deadline = time.monotonic() + DEADLINE_S
    while server.admission.under_way("127.0.0.1"):
        assert time.monotonic() < deadline, "Kokoro went on after the client left"
        await asyncio.sleep(0.05)
    made = server.pieces - before
    assert made < sentences / 2, made
