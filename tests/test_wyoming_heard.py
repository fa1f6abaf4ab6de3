"""The Wyoming server with sayfile's real voices, as Home Assistant reaches it: the voices it
lists, a Mandarin and an English sentence heard by the speech recognizer from what the
`wyoming` package's client received, an unknown voice refused, and a hang-up stopping Kokoro
(one server for the module, on 127.0.0.1); and an assistant in each language finding every voice
of its language, the best for it first, as Home Assistant looks voices up
(tests/home_assistant.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from conftest import free_port
from home_assistant import Dialect, offered, score, tags_taken
from listening import Listener, character_error_rate, simplified, word_error_rate
from sayfile.settings import Settings
from sayfile.text.language_tags import primary
from wyoming_thread import DEADLINE_S, WyomingThread, ask, read_until

pytestmark = pytest.mark.slow
# Primary tags of Chinese voices: Mandarin (Kokoro's zh-CN, espeak-ng's cmn) and Cantonese.
CHINESE = ("zh", "cmn", "yue")

MANDARIN = "今天天气很好，我们下午去公园散步吧。"
ENGLISH = "The front door is locked and the kitchen lights are off."
# Chinese as Home Assistant's pipelines name it: its languages zh-cn, zh-hk and zh-tw, its
# page's zh-Hans and zh-Hant, and tags as people write them.
CHINESE_PIPELINES = ["zh-cn", "zh-CN", "zh-Hans", "zh-Hant", "zh-hk", "zh-tw", "zh"]
# Assistants in each language Kokoro speaks, one Piper speaks beside espeak-ng (English) and two
# of espeak-ng's alone, as Home Assistant names them, with the home's country (None: unset).
ASSISTANTS = [
    *[("en", c) for c in (None, "US", "GB", "AU", "IE")],
    *[(t, None) for t in ("en-US", "en-us", "en-GB", "en-AU", "en-CA", "en-IN")],
    *[("fr", c) for c in (None, "FR", "CA", "BE", "CH")],
    *[(t, None) for t in ("fr-FR", "fr-CA", "fr-BE", "fr-CH")],
    *[("es", c) for c in (None, "ES", "MX", "AR")],
    *[(t, None) for t in ("es-ES", "es-MX", "es-419", "es-US")],
    *[("pt", c) for c in (None, "BR", "PT")],
    *[(t, None) for t in ("pt-BR", "pt-br", "pt-PT")],
    *[(t, c) for t in ("ja", "ja-JP", "hi", "hi-IN", "it", "it-IT") for c in (None, "US")],
    *[("de", "DE"), ("de-CH", None), ("nl", None), ("nl-BE", "BE"), ("vi", None)],
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WyomingThread]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("wyoming") / "data", wyoming_port=free_port()
    )
    thread = WyomingThread(settings).start()
    yield thread
    thread.stop()


async def test_describe_lists_every_voice_and_kokoros_mandarin(server: WyomingThread) -> None:
    voices = (await described(server.port)).tts[0].voices
    listed: dict[str, list[str]] = {}
    for voice in voices:
        listed.setdefault(voice.name, []).extend(voice.languages)
    assert set(listed) == {voice.id for voice in server.catalogue.voices()}
    mandarin = [name for name, languages in listed.items() if "zh-CN" in languages]
    assert any(name.startswith("kokoro:z") for name in mandarin), mandarin
    # Under its own tag a voice's listing names that tag first.
    [heart] = [v for v in voices if v.name == "kokoro:af_heart" and "en-US" in v.languages]
    assert heart.languages[0] == "en-US"
    # Home Assistant shows a tag's voices as listed: none twice.
    for tag in {tag for voice in voices for tag in voice.languages}:
        found = offered(tag, voices)
        assert len(found) == len(set(found)), tag


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


@pytest.mark.parametrize(("language", "country"), ASSISTANTS)
async def test_an_assistant_in_home_assistant_finds_every_voice_of_its_language_its_best_first(
    server: WyomingThread, language: str, country: str | None
) -> None:
    """Home Assistant takes the tag it scores best for the assistant's language and the home's
    country. A French assistant took fr (espeak-ng's voices alone) or fr-FR (Kokoro's siwis
    and espeak-ng's France) by set order, a Spanish one es or es-419 (espeak-ng's Latin
    American alone), a Canadian or Belgian one any French tag, each with a part of the voices;
    an assistant Home Assistant sets up speaks with the first by description, which was the
    first by name (English: Adam, kokoro:am_adam, graded F+)."""
    voices = (await described(server.port)).tts[0].voices
    ours = {v.id for v in server.catalogue.voices() if primary(v.language) == primary(language)}
    taken = tags_taken(language, voices, country)
    assert taken, language
    for tag in taken:
        found = offered(tag, voices)
        assert sorted(found) == sorted(ours), (tag, set(found) ^ ours)
        # sayfile's best for the tag first, as GET /voices?language= and a synthesize naming
        # the language choose; the bare language's where an assistant in it scores the tag as
        # the language itself (fr-FR for fr, es-419 for es), since it takes either by set order.
        bare = Dialect.of(primary(tag))
        alike = score(bare, Dialect.of(tag), None) == score(bare, bare, None)
        best = server.catalogue.resolve(language=primary(tag) if alike else tag)
        assert found[0] == best.id, (tag, found[:3])


@pytest.mark.parametrize(("language", "country"), [("en-GB", None), ("en", "GB"), ("en-gb", "GB")])
async def test_a_british_assistant_starts_with_a_british_voice(
    server: WyomingThread, language: str, country: str | None
) -> None:
    """With every English voice, Kokoro's British first; American English's best first for
    the others."""
    voices = (await described(server.port)).tts[0].voices
    [tag] = tags_taken(language, voices, country)
    first = server.catalogue.resolve(voice=offered(tag, voices)[0])
    assert (first.engine, first.language) == ("kokoro", "en-GB"), first.id
    [american] = tags_taken("en", voices)
    assert offered(american, voices)[0] == "kokoro:af_heart"


@pytest.mark.parametrize(
    ("language", "country"), [("pt", None), ("pt", "PT"), ("pt-PT", None), ("pt-BR", None)]
)
async def test_a_portuguese_assistant_starts_with_kokoros_brazilian_voice(
    server: WyomingThread, language: str, country: str | None
) -> None:
    """Home Assistant takes pt-PT as readily as pt for a Portuguese assistant, so the two
    start alike: with Kokoro's Brazilian voice, understood by a speech recognizer word for
    word, rather than espeak-ng's formant voice of Portugal (its Brazilian one was understood
    in fewer than 1 word in 10)."""
    voices = (await described(server.port)).tts[0].voices
    for tag in tags_taken(language, voices, country):
        assert offered(tag, voices)[0] == "kokoro:pf_dora", tag


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
