"""Pasted Markdown and HTML spoken as a reader sees them (markup.py): `text_format` detected or
asked for, a real article's spoken text free of markup over HTTP, the OpenAI route and the
command line, download names without URLs, and links heard as their words."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from conftest import (
    TONES,
    RedisDatabases,
    Server,
    Speech,
    decode_in_process,
    sayfile_cli,
    start_worker,
    stop_worker,
    wait_done,
)
from sayfile.text.markup import TextFormat, markdown_sentences, spoken, text_format

ARTICLE = (Path(__file__).parent / "data" / "blog-post-links.md").read_text(encoding="utf-8")
# What no reader sees in a rendered article: Markdown and HTML syntax, link targets, image
# files. (Parentheses too: the article's prose has none of its own.)
MARKUP = re.compile(r"[#*_|>\[\]`<()~]|https?|://|www\.|\.png|\.svg|mailto", re.IGNORECASE)

# Ordinary text with characters Markdown uses: never taken as Markdown by `auto`.
PROSE = [
    "#1 priority is safety, said the #2 person in charge.",
    "I write C# and F# every day.",
    "* Terms and conditions apply.",
    "The meeting is on 2024-01-01 at 10:00.",
    "3*4 = 12 and 2*3*4 = 24.",
    "The ratio is 5 * 3 * 2, roughly.",
    "1. Mix the flour.\n2. Add the eggs.\n3. Bake.",
    "- eggs\n- milk\n- bread",
    "If a<b and c>d, stop.",
    "Use snake_case_names and the __init__ method.",
    "Prices (in USD) [approx.] vary by region.",
    "Tom & Jerry | Season 1 | Episode 4",
    "See https://github.com/example/blog-voice for the code.",
    "Mail bob@example.com today.",
    "我排第 #1，他排第 #2。",
    "价格是 3*4=12 元，日期 2024-01-01。",
]
# Markdown or HTML, by one strong sign or two weak ones.
MARKDOWN = [
    "See [the docs](https://docs.example.com/start) first.",
    "![logo](logo.png) Welcome.",
    "# Title\n\nSome text.",
    "## 安装\n\n先安装依赖。",
    "Some **bold** words.",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Run this:\n\n```\nmake check\n```\n",
    '<p>Hello <a href="https://example.com">there</a>.</p>',
    "Line one<br>line two.",
    "Visit <https://example.com> today.",
    "See [this][1].\n\n[1]: https://example.com",
    "- eggs\n- milk\n\nBuy *fresh* ones.",
    "> quoted\n\nand `code` here.",
]


@pytest.mark.parametrize("text", PROSE)
def test_ordinary_text_is_not_taken_for_markdown(text: str) -> None:
    assert text_format(None, text) is TextFormat.auto
    said = spoken(text, TextFormat.auto)
    # Only addresses change; every sign prose uses stays.
    for sign in ("#1", "C#", "3*4", "2024-01-01", "snake_case_names", "a<b", "[approx.]", "|"):
        if sign in text:
            assert sign in said


@pytest.mark.parametrize("text", MARKDOWN)
def test_markdown_and_html_are_detected_and_read_without_syntax(text: str) -> None:
    assert text_format(None, text) is TextFormat.markdown
    assert text_format("auto", text) is TextFormat.markdown
    said = spoken(text, TextFormat.markdown)
    assert said
    assert not MARKUP.search(said), said


def test_asked_formats_win_over_detection() -> None:
    assert text_format("plain", "# Title") is TextFormat.plain
    assert (
        spoken("See [x](https://a.example/b).", TextFormat.plain) == "See [x](https://a.example/b)."
    )
    assert text_format(" Markdown ", "no signs here") is TextFormat.markdown
    assert text_format("ssml", "Hello") is TextFormat.ssml
    assert text_format(None, "<speak>Hi</speak>") is TextFormat.ssml


def test_the_article_is_read_as_a_reader_sees_it() -> None:
    said = list(markdown_sentences(ARTICLE))
    text = " ".join(said)
    assert not MARKUP.search(text), MARKUP.findall(text)
    assert said[0] == "用 Python 给博客加上语音朗读。"  # the heading, not the front matter
    for words in (
        "代码都放在 GitHub 仓库 里。",  # link text without its target
        "英文博客 Reading the web aloud。",
        "安装 ffmpeg；",  # inline code as its text, list items as sentences
        "此处省略代码。",  # the code block, announced in the text's language
        "Kokoro，中文、英文，快。",  # a table row by row
        "测试数据见 链接：github.com ，欢迎复现。",  # a bare URL among Chinese
        "links such as the Piper project are read",
        "The full list of voices is at example.com.",  # a bare URL among English
        "Write to hello at example.com or open an issue.",  # HTML, a mailto link
        "author 艾特 example.com",
        "本文采用 CC BY 4.0 协议",
    ):
        assert words in text
    # Images are left out, alt text and all; the code is not read.
    for unseen in ("封面图", "性能曲线", "测试结果", "sudo", "pip install", "title:", "tags"):
        assert unseen not in text


def test_bare_addresses_are_said_briefly_in_the_language_around_them() -> None:
    text = (
        "Code at https://www.github.com/example/x?tab=readme, mail Ann.Lee@Example.COM. "
        "详见 https://zhuanlan.zhihu.com/p/123456。联系 ann@example.cn 。"
        "Wiki: https://en.wikipedia.org/wiki/Foo_(bar)."
    )
    assert spoken(text, TextFormat.auto) == (
        "Code at github.com, mail Ann.Lee at example.com. "
        "详见 链接：zhuanlan.zhihu.com。联系 ann 艾特 example.cn 。"
        "Wiki: en.wikipedia.org."
    )


def test_code_blocks_in_a_row_are_announced_once_in_english_text() -> None:
    text = "Install it:\n\n```sh\nmake\n```\n\n    indented code\n\nThen run it."
    assert list(markdown_sentences(text)) == ["Install it.", "Code omitted.", "Then run it."]


# Over HTTP


@pytest.fixture
def tones(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**TONES)


def _timings_text(client: TestClient, **body: object) -> str:
    r = client.post("/jobs", json=body)
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    pieces = client.get(job["timings_url"]).json()["pieces"]
    return " ".join(piece["text"] for piece in pieces)


def _download_name(response_headers: dict[str, str] | object) -> str:
    disposition = str(response_headers["content-disposition"])  # type: ignore[index]
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def test_a_pasted_article_is_spoken_without_markup_over_http(tones: TestClient) -> None:
    said = _timings_text(tones, text=ARTICLE)
    assert not MARKUP.search(said), MARKUP.findall(said)
    assert "GitHub 仓库" in said and "the Piper project" in said
    # The page's form sends the same field.
    form = tones.post("/jobs", data={"text": ARTICLE, "text_format": "auto"})
    assert form.status_code == 202, form.text
    job = wait_done(tones, form.json()["status_url"])
    audio = tones.get(job["audio_url"])
    name = _download_name(audio.headers)
    # Named after the title its front matter gives, as the post's readers see it.
    assert name == "用 Python 给博客加上语音朗读.mp3", name


def test_plain_keeps_the_markup_and_an_unknown_format_is_refused(tones: TestClient) -> None:
    said = _timings_text(
        tones, text="See [the docs](https://docs.example.com).", text_format="plain"
    )
    assert "[the docs](https://docs.example.com)" in said
    r = tones.post("/speech", json={"text": "Hello", "text_format": "rtf"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "text_format"
    assert "auto, plain, markdown, ssml" in error["message"]


def test_download_names_never_carry_a_url(tones: TestClient) -> None:
    r = tones.post("/speech", json={"text": "[Read the docs](https://docs.example.com/a) now."})
    assert r.status_code == 200, r.text
    assert _download_name(r.headers) == "read-the-docs-now.mp3"
    r = tones.post("/speech", json={"text": "https://github.com/example/x has the code."})
    assert _download_name(r.headers) == "github-com-has-the-code.mp3"


def test_ssml_asked_for_reads_a_fragment(tones: TestClient) -> None:
    body = {"text": 'Hello <break time="2s"/> there', "text_format": "ssml", "format": "wav"}
    r = tones.post("/speech", json=body)
    assert r.status_code == 200, r.text
    assert decode_in_process(r.content, "wav").duration_s > 2
    said = _timings_text(tones, **body)
    assert "<" not in said and "Hello" in said and "there" in said


def test_the_openai_route_takes_text_format(tones: TestClient) -> None:
    def events(**extra: object) -> Iterator[tuple[str, dict[str, object]]]:
        body = {
            "model": "tts-1",
            "voice": "tone:beep",
            "input": "# Notes\n\nRead [the guide](https://example.com/guide) first.",
            "stream_format": "sse",
            "timings": True,
            **extra,
        }
        r = tones.post("/v1/audio/speech", json=body)
        assert r.status_code == 200, r.text
        for block in (b for b in r.text.split("\n\n") if b.strip()):
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            yield lines["event"], json.loads(lines["data"])

    def said(**extra: object) -> str:
        return " ".join(
            str(data["text"]) for kind, data in events(**extra) if kind == "speech.audio.timing"
        )

    assert said() == "Notes. Read the guide first."
    assert "](" in said(text_format="plain")
    r = tones.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "voice": "tone:beep", "input": "Hi", "text_format": "x"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "text_format"


def test_a_long_markdown_stream_is_read_too(tones: TestClient) -> None:
    """Past a few thousand characters the text is read off the event loop: the same result."""
    paragraph = "Read [the guide](https://example.com/guide) and **then** the notes. "
    body = {"model": "tts-1", "voice": "tone:beep", "stream_format": "sse", "timings": True}
    body["input"] = "# Long notes\n\n" + paragraph * 100
    assert len(str(body["input"])) > 6_000
    r = tones.post("/v1/audio/speech", json=body)
    assert r.status_code == 200, r.text
    timings = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    said = " ".join(str(t["text"]) for t in timings if "text" in t)
    assert said.startswith("Long notes. Read the guide and then the notes.")
    assert said.count("the guide and then the notes") == 100 and not MARKUP.search(said)


def test_a_long_markdown_job_is_a_book_with_chapters_at_its_headings(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(book_above_chars=500, **TONES)
    chapter = "Some words with [a link](https://example.com/x) in them. " * 8
    text = f"## First part\n\n{chapter}\n\n## Second part\n\n{chapter}"
    r = client.post("/jobs", json={"text": text})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    assert [c["title"] for c in job["chapters"]] == ["First part", "Second part"]
    said = " ".join(p["text"] for p in client.get(job["timings_url"]).json()["pieces"])
    assert "a link in them" in said and not MARKUP.search(said), said


# The command line


@pytest.mark.slow  # the command line in a process of its own
def test_the_command_line_speaks_pasted_markdown_without_markup(tmp_path: Path) -> None:
    done = sayfile_cli(
        "say",
        "-o",
        "article.wav",
        "--srt",
        "--",
        ARTICLE,
        engines="tone",
        voice="tone:beep",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    captions = (tmp_path / "article.srt").read_text(encoding="utf-8")
    words = " ".join(line for line in captions.splitlines() if not re.match(r"[\d:, >-]*$", line))
    assert "GitHub 仓库" in words and not MARKUP.search(words), MARKUP.findall(words)
    plain = sayfile_cli(
        "say", "See [x](https://a.example/b).", "--text-format", "plain", "-o", "p.wav", "--srt",
        engines="tone", voice="tone:beep", cwd=tmp_path,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert "[x](https://a.example/b)" in (tmp_path / "p.srt").read_text(encoding="utf-8")
    wrong = sayfile_cli("say", "Hi", "--text-format", "rtf", engines="tone", voice="tone:beep")
    assert wrong.returncode == 2 and "auto, plain, markdown, ssml" in wrong.stderr


# Workers


@pytest.mark.slow
def test_a_worker_speaks_what_the_api_read(
    redis_server: RedisDatabases, server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    """The text a `sayfile worker` gets is read already: Markdown whose inline code shows
    link syntax is not read a second time (the link would lose its target)."""
    folder = tmp_path / "shared"
    env = {
        "store_url": redis_server.url(0),
        "queue_url": redis_server.url(1),
        "engines": "tone",
        "default_voice": "tone:beep",
    }
    worker = start_worker(1, data_dir=str(folder), **env)
    try:
        server = server_factory(folder, **env)
        with httpx.Client(base_url=server.url) as client:
            r = client.post("/jobs", json={"text": "Type `[x](y)` to make a **link**."})
            assert r.status_code == 202, r.text
            job = wait_done(client, r.json()["status_url"])
            assert job["status"] == "done", job
            pieces = client.get(job["timings_url"]).json()["pieces"]
    finally:
        stop_worker(worker)
    assert " ".join(p["text"] for p in pieces) == "Type [x](y) to make a link."


# Heard


@pytest.mark.slow
def test_links_are_heard_as_their_words(speech: Speech, tmp_path: Path) -> None:
    from listening import Listener

    paragraph = (
        "Before you start, read [the installation guide]"
        "(https://github.com/example/blog-voice/blob/main/docs/install.md) carefully. "
        "The details are at https://docs.python.org/3/library/asyncio-task.html today."
    )
    plan = speech.plan(paragraph, format="wav", language="en")
    target = tmp_path / "links.wav"
    speech.write(plan, target)
    heard = Listener().hear(target.read_bytes(), "en").lower()
    assert "installation guide" in heard, heard
    assert "docs.python.org" in heard or "python" in heard, heard
    for unheard in ("http", "slash", "com/", "install.md", "asyncio"):
        assert unheard not in heard, heard
