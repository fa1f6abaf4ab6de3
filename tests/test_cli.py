"""The `sayfile` command as a user runs it: a real process, real engines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import decode

# Real voices, server processes or the fuzzer: left out of `make test-fast`.
pytestmark = pytest.mark.slow


def run(
    *args: str, stdin: bytes | None = None, cwd: Path, **settings: str
) -> subprocess.CompletedProcess[bytes]:
    """`sayfile ARGS` in `cwd`, with extra environment variables `settings`."""
    # The sources under test, whichever checkout the virtualenv was installed from.
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "sayfile", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("ffmpeg")
def test_say_writes_the_format_its_extension_names(tmp_path: Path) -> None:
    result = run("say", "Hello there", "-o", "hello.flac", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"hello.flac" in result.stderr
    decoded = decode((tmp_path / "hello.flac").read_bytes(), "flac")
    assert decoded.codec == "flac" and decoded.duration_s > 0.3


@pytest.mark.usefixtures("ffmpeg")
def test_say_reads_chinese_from_stdin(tmp_path: Path) -> None:
    text = "你好，世界。这是一个测试。".encode()
    result = run("say", "-", "--language", "zh", "-o", "hi.wav", stdin=text, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"kokoro:zm_yunjian" in result.stderr
    assert decode((tmp_path / "hi.wav").read_bytes(), "wav").duration_s > 2.0


@pytest.mark.usefixtures("ffmpeg")
def test_say_reads_a_file_and_names_the_output_after_it(tmp_path: Path) -> None:
    (tmp_path / "book.txt").write_text("Chapter one. It was a bright cold day.", encoding="utf-8")
    result = run("say", "-f", "book.txt", "--format", "opus", "--speed", "1.2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # A text file is read as a book, so its audio is named after it.
    out = tmp_path / "book.opus"
    assert decode(out.read_bytes(), "opus").duration_s > 1.0


@pytest.mark.usefixtures("ffmpeg")
def test_say_to_stdout(tmp_path: Path) -> None:
    result = run("say", "Piped audio.", "-o", "-", "--format", "mp3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert decode(result.stdout, "mp3").duration_s > 0.5


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["say", "hi", "--voice", "espeak:cmnn", "-o", "a.mp3"], None, "espeak:cmn"),
        (["say", "hi", "--language", "tlh", "-o", "a.mp3"], None, "No voice speaks"),
        (["say", "hi", "-o", "a.xyz"], None, "--format"),
        (["say", "hi", "--format", "ogg-vorbis", "-o", "-"], None, "mp3, opus, aac"),
        (["say", "hi", "--speed", "9", "-o", "a.mp3"], None, "0.25 to 4.0"),
        (["say", "   ", "-o", "a.mp3"], None, "empty"),
        (["say", "-", "-o", "a.mp3"], b"\x81\x00\xff\xfe", "no other encoding"),
        (["say", "-f", "missing.txt"], None, "cannot read"),
        (["say"], None, "standard input"),
        # A picture is said to be one, not refused as an unknown encoding.
        (["say", "-f", "pic.png", "-o", "a.mp3"], None, "'pic.png' is a PNG image, not text"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, args: list[str], stdin: bytes | None, message: str
) -> None:
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run(*args, stdin=stdin, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert not list(tmp_path.glob("a.*"))


@pytest.mark.parametrize(
    "command", [["say", "hello", "-o", "a.wav"], ["serve", "--port", "1"], ["voices"]]
)
def test_a_broken_lexicon_file_is_one_line_naming_it_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    lexicons = tmp_path / "lexicons"
    lexicons.mkdir()
    (lexicons / "c.tsv").write_text("zh\t最长\tpinyin:zzz9\n", encoding="utf-8")
    result = run(*command, cwd=tmp_path, SAYFILE_LEXICON_DIR=str(lexicons))
    said = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in said, said
    assert said.startswith("error: Lexicon c.tsv, line 1: the replacement of '最长'"), said


def test_voices_json_schema(tmp_path: Path) -> None:
    result = run("voices", "--json", "--language", "zh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    voices = json.loads(result.stdout)
    assert voices[0]["id"] == "kokoro:zm_yunjian"
    for voice in voices:
        assert set(voice) == {
            "id",
            "engine",
            "language",
            "name",
            "gender",
            "sample_rate",
            "quality",
            "grade",
            "credit",
            "heard",
            "hard_to_understand",
        }
        assert isinstance(voice["sample_rate"], int)
        assert voice["quality"] in {"neural", "formant"}
    # Every Kokoro Mandarin voice is graded by listening; the one heard far worse is marked.
    heard = {v["id"]: v for v in voices if v["engine"] == "kokoro"}
    assert all(set(v["heard"]) == {"cer"} for v in heard.values())
    assert heard["kokoro:zf_xiaoni"]["hard_to_understand"] is True


def test_voices_table_lists_both_engines(tmp_path: Path) -> None:
    result = run("voices", cwd=tmp_path)
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "piper:en_US-joe-medium" in out and "espeak:cmn" in out and "neural" in out
    # Into a pipe, the table is not cut to 80 columns ("240…" for a rate of 24000).
    assert "24000" in out and "…" not in out


@pytest.mark.usefixtures("ffmpeg")
def test_say_into_a_folder_names_the_file_and_a_book_names_its_voice(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = run("say", "Hello there.", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert decode((tmp_path / "out" / "hello-there.mp3").read_bytes(), "mp3").duration_s > 0.3
    (tmp_path / "notes.md").write_text("# One\n\nFirst part.\n\n# Two\n\nSecond part.\n")
    result = run("say", "-f", "notes.md", "--format", "wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # It had said "voices " and nothing after.
    said = result.stderr.decode()
    assert "voices )" not in said and "bytes, voice piper:en_US-joe-medium)" in said


def test_say_shows_the_time_left_and_the_length_as_minutes_and_seconds(tmp_path: Path) -> None:
    """In a terminal the progress bar says about how long is left, falling as it goes; the
    summary gives the audio's length as m:ss, not seconds with a decimal."""
    (tmp_path / "long.txt").write_text("A slow sentence here. " * 150, encoding="utf-8")
    result = run(
        *("say", "-f", "long.txt", "-o", "long.mp3"),
        cwd=tmp_path,
        COLUMNS="160",
        SAYFILE_ENGINES="tone",
        SAYFILE_DEFAULT_VOICE="tone:slow",
        # rich draws its live bar only for a terminal; these make it draw into the pipe.
        TTY_COMPATIBLE="1",
        TTY_INTERACTIVE="1",
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr).replace("\r", "\n")
    left = [int(m) * 60 + int(s) for m, s in re.findall(r"about (\d+):(\d\d) left", shown)]
    assert len(left) >= 3 and left[-1] < left[0], shown
    duration = re.search(r"wrote long\.mp3 \((\d+):(\d\d) of audio", shown)
    assert duration is not None, shown
    decoded = decode((tmp_path / "long.mp3").read_bytes(), "mp3").duration_s
    assert int(duration[1]) * 60 + int(duration[2]) == int(decoded)


def test_say_words_alone_writes_the_word_timed_webvtt_it_asks_for(tmp_path: Path) -> None:
    """`--words` puts each word's start inside WebVTT cues; without `--vtt` it had been
    ignored without a word, and no subtitles were written."""
    result = run(
        *("say", "One two three. Four five.", "-o", "talk.wav", "--words"),
        cwd=tmp_path,
        SAYFILE_ENGINES="tone",
        SAYFILE_DEFAULT_VOICE="tone:beep",
    )
    said = result.stderr.decode()
    assert result.returncode == 0, said
    assert "wrote talk.vtt" in said
    captions = (tmp_path / "talk.vtt").read_text(encoding="utf-8")
    assert captions.startswith("WEBVTT")
    # A word after a cue's first, preceded by its start time: `<00:00:00.300>two`.
    assert re.search(r"<\d\d:\d\d:\d\d\.\d{3}>two", captions), captions
    assert not (tmp_path / "talk.srt").exists()


def test_subtitles_asked_for_a_read_along_epub_are_one_line_naming_them(tmp_path: Path) -> None:
    (tmp_path / "book.md").write_text("# One\n\nA first chapter.\n", encoding="utf-8")
    result = run(
        *("say", "-f", "book.md", "-o", "book.epub", "--vtt", "--words"),
        cwd=tmp_path,
        SAYFILE_ENGINES="tone",
        SAYFILE_DEFAULT_VOICE="tone:beep",
    )
    said = result.stderr.decode()
    assert result.returncode == 2, said
    assert said.startswith("error: --vtt and --words: subtitles go beside an audio file"), said
    assert len(said.strip().splitlines()) == 1, said
    assert not (tmp_path / "book.epub").exists()
