"""What listeners notice, with real voices: every voice comes out at the same loudness in
every lossy format (measured by ffmpeg's EBU R128 meter, not sayfile's), and a lexicon entry
changes what a speech recognizer hears."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import Speech, wait_done
from listening import Listener, character_error_rate, simplified, word_error_rate
from remembering import RememberingEngine
from sayfile.engines.base import Engine
from sayfile.settings import MAX_LUFS
from sayfile.speech.loudness import CEILING_DBTP
from sayfile.voices.catalogue import Catalogue

pytestmark = pytest.mark.slow

TEXT = {
    "en": "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
    "zh": "今天天气很好，我们去公园散步吧。明天可能会下雨。",
}


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP), as ffmpeg's ebur128 filter says."""
    # Raw PCM says nothing of itself: sayfile's is 24 kHz mono 16-bit.
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if path.suffix == ".pcm" else []
    result = subprocess.run(
        [
            "ffmpeg",
            "-nostats",
            *raw,
            "-i",
            str(path),
            "-filter_complex",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:") :]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return loudness, peak


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize(
    ("voice", "fmt"),
    [
        ("espeak:en-us", "mp3"),
        ("espeak:en-us", "opus"),
        ("espeak:en-us", "aac"),
        ("piper:en_US-joe-medium", "mp3"),
        ("piper:en_US-joe-medium", "opus"),
        ("piper:en_US-joe-medium", "aac"),
        ("kokoro:af_heart", "mp3"),
        ("kokoro:zm_yunjian", "opus"),
        ("kokoro:bf_emma", "aac"),
    ],
)
def test_every_voice_comes_out_at_minus_16_lufs(
    voices: Speech, voice: str, fmt: str, tmp_path: Path
) -> None:
    language = "zh" if ":z" in voice else "en"
    target = tmp_path / f"speech.{fmt}"
    voices.write(voices.plan(TEXT[language], voice=voice, format=fmt), target)
    loudness, peak = ebur128(target)
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert peak <= CEILING_DBTP


@pytest.mark.usefixtures("ffmpeg")
def test_loudness_can_be_turned_off_or_set(voices: Speech, tmp_path: Path) -> None:
    levels = {}
    for asked in ("off", -23.0):
        target = tmp_path / f"speech-{asked}.wav"
        plan = voices.plan(TEXT["en"], voice="espeak:en-us", format="wav", loudness=asked)
        voices.write(plan, target)
        levels[asked] = ebur128(target)[0]
    assert levels[-23.0] == pytest.approx(-23.0, abs=1.0)
    assert abs(levels["off"] - levels[-23.0]) > 0.5  # espeak-ng on its own is about -21.5


# Half a minute of ordinary prose: the loud vowels that make Opus's peaks overshoot.
PARAGRAPH = (
    f"{TEXT['en']} It was late in the evening when the train finally reached the small town. "
    "Nobody was waiting on the platform, so she picked up her bag and walked towards the "
    "lights. The city council met on Tuesday to discuss the new budget, which includes "
    "funding for schools, roads and public transport. Where are you going? I thought we "
    "agreed to meet at seven. Never mind, let's go now."
)


@pytest.fixture(scope="module")
def said_once(voices: Speech) -> Iterator[Speech]:
    """The real engines, each sentence said once and then given again: the paragraph is the
    same in every format, and only what is done with its samples differs (levelled, limited,
    encoded). Half a minute of Kokoro costs 30 s and more on a two-core machine, which 14
    formats of two voices paid each time."""
    catalogue = voices.catalogue
    engines: dict[str, Engine] = {}
    for voice in catalogue.voices():
        engine = catalogue.engine(voice)
        engines.setdefault(engine.name, RememberingEngine(engine))
    settings = voices.settings
    service = Speech(settings, Catalogue(list(engines.values()), settings.default_voice))
    yield service
    service.close()  # its threads; the engines stay the session's


@pytest.mark.usefixtures("ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "m4b", "flac", "wav", "pcm"])
@pytest.mark.parametrize("voice", ["kokoro:af_heart", "kokoro:bf_emma", "piper:en_US-joe-medium"])
def test_a_real_voice_plays_at_the_loudest_target_accepted(
    voice: str, said_once: Speech, fmt: str, tmp_path: Path
) -> None:
    """Targets up to -5 LUFS were accepted, but kokoro:af_heart stopped getting louder at
    -12 LUFS under the true-peak ceiling, and its Opus files' peaks passed the -1.5 dBTP
    ceiling from -16 LUFS up (+0.9 dBTP at -12). The top of the range (-14 LUFS, what
    streaming services play at) is now reached, and every lossy format is limited with the
    headroom its encoder needs under the -1 dBTP ceiling."""
    target = tmp_path / f"speech.{fmt}"
    plan = said_once.plan(PARAGRAPH, voice=voice, format=fmt, loudness=MAX_LUFS)
    said_once.write(plan, target)
    loudness, peak = ebur128(target)
    assert loudness == pytest.approx(MAX_LUFS, abs=1.0)
    assert peak <= CEILING_DBTP


# Two chapters, so two parts at least (a part never spans chapters), of distinct sentences;
# under 30 s of audio, the window Whisper hears at once (across windows it may skip a line).
LONG_TEXTS = [
    (
        "kokoro:af_heart",
        "en",
        "Chapter 1\n\nThe old lighthouse keeper climbed the stairs every evening. "
        "He lit the lamp and watched the ships pass by.\n\nChapter 2\n\n"
        "In the morning the fishermen came back with their boats full. "
        "The children ran down to the harbour to meet them.",
    ),
    (
        "kokoro:zf_xiaobei",
        "zh",
        "第一章\n\n今天天气很好，我们去公园散步吧。明天可能会下雨，记得带上雨衣。"
        "\n\n第二章\n\n我们在图书馆看书，看了一个下午。晚上大家一起去吃饭。",
    ),
]


@pytest.mark.parametrize(("voice", "language", "text"), LONG_TEXTS)
def test_a_long_text_made_in_parts_is_heard_whole_and_in_order(
    make_client: Callable[..., TestClient],
    listener: Listener,
    voice: str,
    language: str,
    text: str,
) -> None:
    """A long text job is made as a book: parts made apart, joined into one file without
    encoding again. A listener hears every sentence once, in order, headings included."""
    client = make_client(book_above_chars=50, book_part_chars=200)
    r = client.post("/jobs", json={"text": text, "voice": voice, "format": "mp3"})
    assert r.status_code == 202 and r.json()["chapters"] is not None, r.text
    job = wait_done(client, r.json()["status_url"], timeout=300)
    assert job["status"] == "done", job
    heard = listener.hear(client.get(job["audio_url"]).content, language)
    said = text.replace("\n\n", ". ")
    if language == "zh":
        assert character_error_rate(said, simplified(heard)) <= 0.10, heard
    else:
        assert word_error_rate(said, heard) <= 0.10, heard


def _heard(voices: Speech, listener: Listener, text: str, tmp: Path, **request: object) -> str:
    target = tmp / "heard.wav"
    voices.write(voices.plan(text, format="wav", **request), target)
    language = "zh" if str(request.get("voice", "")).startswith("kokoro:z") else "en"
    words = listener.hear(target.read_bytes(), language)
    return simplified(words) if language == "zh" else words.lower()


def test_a_lexicon_alias_changes_what_a_listener_hears(
    voices: Speech, listener: Listener, tmp_path: Path
) -> None:
    text = "Our guest tonight is Doctor Xqzt."
    entry = {"language": "en", "term": "Xqzt", "replacement": "Banana"}
    plain = _heard(voices, listener, text, tmp_path, voice="piper:en_US-joe-medium")
    named = _heard(
        voices, listener, text, tmp_path, voice="piper:en_US-joe-medium", lexicon=(entry,)
    )
    assert "banana" in named and "banana" not in plain


def test_a_pinyin_entry_changes_a_mandarin_name(
    voices: Speech, listener: Listener, tmp_path: Path
) -> None:
    text = "我的朋友叫小明。"
    entry = {"language": "zh", "term": "小明", "replacement": "pinyin:xiao3 hong2"}
    plain = _heard(voices, listener, text, tmp_path, voice="kokoro:zm_yunjian")
    renamed = _heard(voices, listener, text, tmp_path, voice="kokoro:zm_yunjian", lexicon=(entry,))
    # What the listener wrote, read back as pinyin: the name's second syllable has changed
    # (a listener may write the new name with other characters of the same sound).
    assert "xiao ming" in _pinyin(plain)
    assert "xiao hong" in _pinyin(renamed) and "xiao ming" not in _pinyin(renamed)


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text))
