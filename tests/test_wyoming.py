"""The Wyoming server's events, with the tone engine (a beep per word): what `describe`,
`synthesize` and a streamed request answer, the error events, and a client that hangs up,
through the `wyoming` package's own client over TCP on 127.0.0.1 (one server for the
module, in this process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from fastapi.testclient import TestClient
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeTextFormat,
    SynthesizeVoice,
)

from conftest import free_port
from sayfile.app import create_app
from sayfile.cli import servers
from sayfile.settings import Settings
from wyoming_thread import DEADLINE_S, WyomingThread, ask, read_until

BEEP = SynthesizeVoice(name="tone:beep")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("wyoming") / "data",
        engines=["tone"],
        default_voice="tone:beep",
        max_chars_job=2000,
        wyoming_port=free_port(),
    )


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[WyomingThread]:
    thread = WyomingThread(settings).start()
    yield thread
    thread.stop()


def beeps(audio: bytes) -> int:
    """How many beeps (words) the 16-bit audio holds: runs of sound apart by silence."""
    samples = np.frombuffer(audio, dtype=np.int16).astype(np.float64)
    frames = np.abs(samples[: len(samples) // 240 * 240]).reshape(-1, 240).max(axis=1)
    loud = frames > 1000
    return int(np.count_nonzero(loud[1:] & ~loud[:-1]) + int(loud[0]))


async def test_describe_lists_every_voice_with_its_languages(server: WyomingThread) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(Describe().event())
        info = Info.from_event((await read_until(client, "info")).events[-1])
    [program] = info.tts
    assert program.name == "sayfile"
    assert program.supports_synthesize_streaming
    assert {(v.name, tuple(v.languages), v.installed) for v in program.voices} == {
        ("tone:beep", ("zxx",), True),
        ("tone:slow", ("zxx",), True),
    }


async def test_synthesize_answers_the_http_streams_audio(
    server: WyomingThread, settings: Settings
) -> None:
    text = "One two three. Four five."
    heard = await ask(server.port, Synthesize(text, voice=BEEP).event())
    assert heard.events[0].type == "audio-start"
    assert heard.types["audio-stop"] == 1
    assert (heard.start.rate, heard.start.width, heard.start.channels) == (24_000, 2, 1)
    assert beeps(heard.audio) == 5
    # The same service as POST /speech?stream=true: the same samples, byte for byte.
    with TestClient(create_app(settings)) as http:
        answer = http.post(
            "/speech?stream=true", json={"text": text, "voice": "tone:beep", "format": "pcm"}
        )
    assert answer.status_code == 200
    assert heard.audio == answer.content


async def test_a_streamed_request_is_spoken_as_its_sentences_come(server: WyomingThread) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(SynthesizeStart(voice=BEEP).event())
        for chunk in ("One two", " three. Four", " five six."):
            await client.write_event(SynthesizeChunk(chunk).event())
        # The first sentence is heard before the text has ended.
        first = await read_until(client, "audio-chunk")
        assert [e.type for e in first.events] == ["audio-start", "audio-chunk"]
        await client.write_event(SynthesizeChunk(" Seven.").event())
        # Home Assistant sends the whole text as `synthesize` too, for servers that do not
        # stream: it is not said twice.
        text = "One two three. Four five six. Seven."
        await client.write_event(Synthesize(text, voice=BEEP).event())
        await client.write_event(SynthesizeStop().event())
        rest = await read_until(client, "synthesize-stopped")
    events = [e.type for e in first.events + rest.events]
    assert events.count("audio-start") == 1
    assert events[-2:] == ["audio-stop", "synthesize-stopped"]
    assert beeps(first.audio + rest.audio) == 7


async def test_a_new_stream_before_the_last_ones_stop_says_the_last_ones_text_first(
    server: WyomingThread,
) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(SynthesizeStart(voice=BEEP).event())
        for chunk in ("One two.", " Three"):
            await client.write_event(SynthesizeChunk(chunk).event())
        await client.write_event(SynthesizeStart(voice=BEEP).event())
        await client.write_event(SynthesizeChunk("Four five six seven.").event())
        await client.write_event(SynthesizeStop().event())
        first = await read_until(client, "synthesize-stopped")
        second = await read_until(client, "synthesize-stopped")
    for answer, words in ((first, 3), (second, 4)):
        assert answer.error is None
        assert answer.types["audio-start"] == answer.types["audio-stop"] == 1
        assert [e.type for e in answer.events[-2:]] == ["audio-stop", "synthesize-stopped"]
        assert beeps(answer.audio) == words


async def test_a_stream_left_open_is_ended_as_if_stopped(settings: Settings) -> None:
    quick = settings.model_copy(
        update={"wyoming_port": free_port(), "wyoming_stream_idle_seconds": 0.3}
    )
    idle = WyomingThread(quick).start()
    try:
        async with AsyncTcpClient("127.0.0.1", idle.port) as client:
            await client.write_event(SynthesizeStart(voice=BEEP).event())
            await client.write_event(SynthesizeChunk("One two three").event())
            # No stop: the stream is ended for the client, its text said.
            ended = await read_until(client, "synthesize-stopped")
            assert ended.error is None
            assert beeps(ended.audio) == 3
            assert [e.type for e in ended.events[-2:]] == ["audio-stop", "synthesize-stopped"]
            # The connection goes on.
            await client.write_event(Synthesize("Still here.", voice=BEEP).event())
            assert beeps((await read_until(client, "audio-stop")).audio) == 2
    finally:
        idle.stop()


@pytest.mark.parametrize(
    ("event", "code", "words"),
    [
        (Synthesize("Hello.", voice=SynthesizeVoice(name="tone:bep")), "UnknownVoice", "tone:bep"),
        (Synthesize("Hello.", voice=SynthesizeVoice(language="tlh")), "UnknownLanguage", "tlh"),
        (Synthesize("   "), "InvalidInput", "empty"),
        (Synthesize("word " * 500), "TextTooLong", "SAYFILE_MAX_CHARS_JOB"),
        (Synthesize("<speak>Hi", text_format=SynthesizeTextFormat.SSML), "InvalidSsml", "SSML"),
        (Synthesize("This FAIL here.", voice=BEEP), "EngineError", "failed"),
        (SynthesizeChunk("no start"), "InvalidInput", "synthesize-start"),
    ],
)
async def test_a_refused_request_answers_an_error_event_and_the_connection_goes_on(
    server: WyomingThread, event: Synthesize | SynthesizeChunk, code: str, words: str
) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(event.event())
        refused = await read_until(client, "audio-stop")
        assert refused.error is not None, refused.types
        assert (refused.error.code, words in refused.error.text) == (code, True), refused.error
        assert refused.types["audio-chunk"] == 0
        await client.write_event(Synthesize("Still here.", voice=BEEP).event())
        assert beeps((await read_until(client, "audio-stop")).audio) == 2


async def test_a_streamed_text_over_the_limit_is_refused_and_ended(server: WyomingThread) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(SynthesizeStart(voice=BEEP).event())
        for _ in range(300):
            await client.write_event(SynthesizeChunk("word word ").event())
        await client.write_event(SynthesizeStop().event())
        refused = await read_until(client, "synthesize-stopped")
        assert refused.error is not None
        assert refused.error.code == "TextTooLong"
        assert "the limit is 2000" in refused.error.text
        # Refused once, and still ended, so the client stops waiting.
        ended = await read_until(client, "synthesize-stopped")
        assert [e.type for e in ended.events] == ["synthesize-stopped"]


async def test_a_client_that_hangs_up_cancels_its_speech(server: WyomingThread) -> None:
    sentences = 100
    text = " ".join(f"Sentence {n} here." for n in range(sentences))  # 50 ms each
    before = server.pieces
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        voice = SynthesizeVoice(name="tone:slow")
        await client.write_event(Synthesize(text, voice=voice).event())
        assert (await read_until(client, "audio-chunk")).error is None
        assert server.admission.under_way("127.0.0.1") == 1
    # Hung up: the place is given back once the synthesis stopped, long before the end.
    deadline = time.monotonic() + DEADLINE_S
    while server.admission.under_way("127.0.0.1"):
        assert time.monotonic() < deadline, "the speech went on after the client left"
        await asyncio.sleep(0.01)
    made = server.pieces - before
    assert made < sentences / 2, made


def test_every_settings_default_is_home_assistants(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert (settings.wyoming_host, settings.wyoming_port) == ("127.0.0.1", 10200)


async def test_a_streamed_mandarin_text_is_cut_at_its_own_full_stops(
    server: WyomingThread,
) -> None:
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await client.write_event(SynthesizeStart(voice=BEEP).event())
        for chunk in ("今天天气", "很好。我们", "去公园"):
            await client.write_event(SynthesizeChunk(chunk).event())
        # 今天天气很好。 is whole once 我们 came: heard before the text ends.
        first = await read_until(client, "audio-chunk")
        await client.write_event(SynthesizeChunk("散步吧。").event())
        await client.write_event(SynthesizeStop().event())
        rest = await read_until(client, "synthesize-stopped")
    assert first.error is None and rest.error is None
    # Said as its two sentences, each once.
    said = [
        (await ask(server.port, Synthesize(text, voice=BEEP).event())).audio
        for text in ("今天天气很好。", "我们去公园散步吧。")
    ]
    assert first.audio + rest.audio == b"".join(said)


async def test_sayfile_serve_can_answer_wyoming_too(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        engines=["tone"],
        default_voice="tone:beep",
        wyoming_in_serve=True,
        wyoming_port=free_port(),
    )
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").status_code == 200
        heard = await ask(settings.wyoming_port, Synthesize("One two.", voice=BEEP).event())
    assert beeps(heard.audio) == 2


def test_wyoming_in_serve_needs_one_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAYFILE_WYOMING_IN_SERVE", "true")
    monkeypatch.setenv("SAYFILE_STORE_URL", "redis://127.0.0.1:1/0")
    # `serve` writes its flags into the environment: set here, so they are undone after.
    monkeypatch.setenv("SAYFILE_HOST", "127.0.0.1")
    monkeypatch.setenv("SAYFILE_PORT", "8000")
    with pytest.raises(typer.Exit) as stopped:
        servers.serve(workers=2)
    assert stopped.value.exit_code == 2
    assert "run `sayfile wyoming` beside" in capsys.readouterr().err
