"""The page in a real browser (Debian's chromium driven by Playwright) against a real
`sayfile serve`: downloads with and without JavaScript, links, errors, languages, screenshots."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from conftest import Server, decode, start_server
from sayfile.jobs.download_names import stem_for

pytestmark = [pytest.mark.usefixtures("ffmpeg"), pytest.mark.slow]

# Headless, and quiet: no first-run screens, no calls home (only 127.0.0.1 is reachable).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make screenshots` names the folder for the README's pictures; tests write into their own
# temporary folder otherwise, never into the repository.
SCREENSHOTS = "SCREENSHOTS_DIR"
CHINESE = "你好，世界。这是一个测试。"
# About two seconds of espeak-ng work: long enough to see progress, short enough to wait for.
MEDIUM = "Progress is reported sentence by sentence. " * 60
# About six seconds: time to press Cancel while it runs.
LONG = "This sentence keeps the engine busy for a while. " * 200
# Each of 60 characters or more: espeak-ng is handed a shorter sentence together with the
# next, and the page shows what was spoken in one go.
SENTENCES = [
    "The page shows each sentence of this text while the player speaks it.",
    "A second sentence follows the first one and is spoken on its own.",
    "The third and last sentence ends the short text that this test reads.",
]

Launch = Callable[..., BrowserContext]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `sayfile serve` with the default settings, started once for the tests that need no
    others: what one test does there is not seen by another (each browser has a profile, and
    its recent links, of its own; each job its own id), and the voices load once, not per test."""
    started = start_server(tmp_path_factory.mktemp("page") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the module (Debian's, through Playwright's executable_path): each test
    opens contexts of its own, each a fresh profile (cookies, storage, cache and downloads
    apart), instead of starting a browser per test."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium missing: run `make test`, which installs Debian's chromium")
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def launch(chromium: Browser) -> Iterator[Launch]:
    """A fresh profile in the module's Chromium; `options` are Playwright's context options."""
    opened: list[BrowserContext] = []

    def start(**options: Any) -> BrowserContext:
        context = chromium.new_context(accept_downloads=True, **{"locale": "en-US", **options})
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield start
    for context in opened:
        context.close()


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url)
    return page


def choose_voice(page: Page, voice: str) -> None:
    page.select_option("#language", "")
    page.select_option("#voice", voice)


def job_created(page: Page) -> Any:
    return page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/jobs"), timeout=15_000
    )


@pytest.mark.parametrize(
    ("text", "language", "name", "script"),
    [
        ("Hello there", "", "hello-there.mp3", False),
        (CHINESE, "zh", "你好-世界-这是一个测试.mp3", False),
        (CHINESE, "zh", "你好-世界-这是一个测试.mp3", True),
    ],
    ids=["english", "chinese", "chinese-with-javascript"],
)
def test_download_is_a_form_post_named_after_the_text_and_is_audio(
    server: Server,
    launch: Launch,
    text: str,
    language: str,
    name: str,
    script: bool,
) -> None:
    page = open_page(launch(java_script_enabled=script), server.url)
    # Get link needs JavaScript, so without it the button stays hidden.
    expect(page.locator("#get-link")).to_be_visible(visible=script)
    page.fill("#text", text)
    page.select_option("#language", language)
    with page.expect_download(timeout=60_000) as info:  # Kokoro's Mandarin loads first
        # The form's answer is the file: the click does not wait for that navigation (its
        # own 15 s ran out on a busy machine); the download's wait bounds it.
        page.click("#download", no_wait_after=True)
    download = info.value
    assert download.suggested_filename == name
    audio = Path(download.path()).read_bytes()
    assert decode(audio, "mp3").duration_s > 0.5


def test_get_link_shows_progress_then_a_link_that_downloads_and_plays(
    server: Server, launch: Launch
) -> None:
    context = launch()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = open_page(context, server.url)
    # Note every progress value and status line the page shows while the job works.
    page.evaluate(
        """() => {
          window.seen = [];
          const bar = document.getElementById("progress");
          const status = document.getElementById("job-status");
          new MutationObserver(() => window.seen.push([bar.value, status.textContent]))
            .observe(document.getElementById("job"),
                     {attributes: true, childList: true, subtree: true, characterData: true});
        }"""
    )
    page.fill("#text", MEDIUM)
    choose_voice(page, "espeak:en-us")
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    expect(page.locator("#job-result")).to_be_visible(timeout=20_000)
    expect(page.locator("#job-status")).to_contain_text("Ready:")
    seen: list[tuple[float, str]] = page.evaluate("window.seen")
    assert any(0 < value < 1 and "Working…" in line for value, line in seen), seen

    link = page.input_value("#link")
    assert link == server.url + job["audio_url"]
    expect(page.locator("#expires")).to_contain_text("Expires")

    page.click("#copy")
    expect(page.locator("#copy-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link

    page.wait_for_function(
        "() => { const p = document.getElementById('player');"
        " return p.readyState >= 1 && p.duration > 100; }"
    )
    with page.expect_download() as info:
        page.click("#save")
    assert info.value.suggested_filename == stem_for(MEDIUM) + ".mp3"
    decoded = decode(Path(info.value.path()).read_bytes(), "mp3")
    done = httpx.get(server.url + job["status_url"]).json()
    assert decoded.duration_s == pytest.approx(done["duration_s"], abs=0.1)

    page.reload()  # the link is still listed on the next visit
    row = page.locator(f'#recent-list li[data-job="{job["id"]}"]')
    expect(row).to_contain_text("ready")
    assert row.get_by_role("link").get_attribute("href") == job["audio_url"]
    row.get_by_role("button", name="Forget").click()
    expect(page.locator("#recent")).to_be_hidden()


def test_a_chosen_book_file_becomes_a_link_to_one_audiobook_with_its_chapters(
    server_factory: Callable[..., Server], launch: Launch, tmp_path: Path
) -> None:
    server = server_factory(book_above_chars="300")
    book = tmp_path / "storm.md"
    book.write_text(
        "# The Calm\n\nThe sea was quiet.\n\n# The Storm\n\nThen the wind rose.\n",
        encoding="utf-8",
    )
    page = open_page(launch(), server.url)
    choose_voice(page, "espeak:en-us")
    page.set_input_files("#book-file", book)
    expect(page.locator("#book-clear")).to_be_visible()
    with job_created(page) as created:
        page.click("#get-link")  # the text box is empty: the book is what is sent
    assert created.value.status == 202
    job = created.value.json()
    expect(page.locator("#job-result")).to_be_visible(timeout=20_000)
    assert page.input_value("#link") == server.url + job["audio_url"]

    audio = httpx.get(server.url + job["audio_url"], timeout=10)
    assert audio.status_code == 200
    mp3 = tmp_path / "storm.mp3"
    mp3.write_bytes(audio.content)
    probe = subprocess.run(
        ["/usr/bin/ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(mp3)],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    titles = [c["tags"]["title"] for c in json.loads(probe.stdout)["chapters"]]
    assert titles == ["The Calm", "The Storm"]

    page.click("#book-clear")  # back to the text
    expect(page.locator("#book-clear")).to_be_hidden()
    assert page.evaluate("document.getElementById('book-file').files.length") == 0

    # A long pasted text is a book too, with the chapters its lines name.
    page.fill(
        "#text",
        "Chapter 1\n\n" + "The sea was quiet. " * 20 + "\n\n第二章\n\n" + "风起了。" * 10,
    )
    with job_created(page) as created:
        page.click("#get-link")
    assert created.value.json()["chapters"] is not None  # made as a book
    expect(page.locator("#chapters-box")).to_be_visible()
    expect(page.locator("#chapters .chapter-title")).to_have_text(["Chapter 1", "第二章"])


def test_a_books_chapters_play_as_they_are_made_then_each_plays_the_book_from_its_start(
    server_factory: Callable[..., Server], launch: Launch, tmp_path: Path
) -> None:
    # Parts of about 200 characters, and a first chapter much shorter than the others: it is
    # made (and playable) seconds before the book is joined.
    server = server_factory(book_part_chars="200")
    titles = ["The Calm", "风暴", "The Morning After"]
    bodies = [
        "The sea was quiet and the boats lay still on the water. " * 10,
        "Then the wind rose from the west and bent the trees along the shore. " * 60,
        "In the morning the sky was clear and the children went out to find shells. " * 60,
    ]
    book = tmp_path / "storm.md"
    book.write_text(
        "".join(f"# {title}\n\n{body}\n\n" for title, body in zip(titles, bodies, strict=True)),
        encoding="utf-8",
    )
    page = open_page(launch(locale="zh-CN"), server.url)  # the Chinese interface
    choose_voice(page, "espeak:en-us")
    # Note each chapter player that appears while the book is still being made.
    page.evaluate(
        """() => {
          window.players = [];
          const result = document.getElementById("job-result");
          new MutationObserver((changes) => {
            for (const change of changes) {
              for (const node of change.addedNodes) {
                if (node.tagName === "AUDIO" && result.hidden) {
                  window.players.push([node.closest("li").dataset.number, node.getAttribute("src"),
                                       node.getAttribute("aria-label"), node.preload]);
                }
              }
            }
          }).observe(document.getElementById("chapters"), {childList: true, subtree: true});
        }"""
    )
    page.set_input_files("#book-file", book)
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    chapters = page.locator("#chapters")
    expect(page.locator("#chapters-box")).to_be_visible()
    expect(chapters.locator(".chapter-title")).to_have_text(titles)  # in order, as made
    expect(page.locator("#chapters-hint")).to_have_text("每一章生成后即可播放。")

    expect(page.locator("#job-result")).to_be_visible(timeout=30_000)
    done = httpx.get(server.url + job["status_url"]).json()
    assert [c["title"] for c in done["chapters"]] == titles
    players: list[list[str]] = page.evaluate("window.players")
    assert [job["status_url"] + "/chapters/1/audio", "第 1 章：The Calm", "none"] in [
        p[1:] for p in players if p[0] == "1"
    ], players

    # Done: each chapter is a button that plays the book's file from that chapter's start.
    expect(page.locator("#chapters-hint")).to_have_text("选择一章，从该章开头播放整本书。")
    expect(chapters.locator("audio")).to_have_count(0)
    buttons = chapters.get_by_role("button")
    expect(buttons).to_have_count(3)
    expect(buttons.locator(".chapter-title")).to_have_text(titles)
    start = done["chapters"][1]["start"]
    assert start > 5
    page.eval_on_selector("#player", "player => { player.muted = true; }")
    page.get_by_role("button", name="风暴").click()
    page.wait_for_function(
        "start => { const p = document.getElementById('player');"
        " return !p.paused && p.currentTime >= start && p.currentTime < start + 1.5; }",
        arg=start,
    )
    expect(buttons.nth(1)).to_have_attribute("aria-current", "true")
    expect(buttons.nth(0)).not_to_have_attribute("aria-current", "true")

    # A text's link has no chapters.
    page.click("#book-clear")
    page.fill("#text", "No chapters here.")
    with job_created(page) as created:
        page.click("#get-link")
    text_job = created.value.json()
    assert text_job["chapters"] is None
    expect(page.locator("#player")).to_have_attribute("src", text_job["audio_url"])
    expect(page.locator("#chapters-box")).to_be_hidden()
    expect(chapters.locator("li")).to_have_count(0)


def test_a_link_comes_with_subtitles_and_the_sentence_spoken_is_shown_as_it_plays(
    server: Server, launch: Launch
) -> None:
    page = open_page(launch(), server.url)
    text = " ".join(SENTENCES)
    page.fill("#text", text)
    choose_voice(page, "espeak:en-us")
    page.fill("#speed", "2")  # half the time to listen to
    with (
        job_created(page) as created,
        page.expect_response(lambda r: r.url.endswith("/timings")) as timings,
    ):
        page.click("#get-link")
    job = created.value.json()
    assert timings.value.status == 200
    expect(page.locator("#job-status")).to_contain_text("Ready:")

    # Both subtitle files download from links beside the audio's.
    for name, extension, start in [
        ("Subtitles (SRT)", "srt", "1\n00:00:0"),
        ("Subtitles (WebVTT)", "vtt", "WEBVTT\n"),
    ]:
        anchor = page.get_by_role("link", name=name, exact=True)
        href = anchor.get_attribute("href")
        assert href == f"{job['status_url']}/subtitles.{extension}"
        assert page.request.get(server.url + href).status == 200
        with page.expect_download() as info:
            anchor.click()
        assert info.value.suggested_filename == f"{stem_for(text)}.{extension}"
        body = Path(info.value.path()).read_text(encoding="utf-8")
        assert body.startswith(start) and "short text that this test reads." in body, body

    # The player's captions are that WebVTT file, and its cues say the whole text.
    track = page.locator("#player track")
    expect(track).to_have_attribute("kind", "captions")
    expect(track).to_have_attribute("src", f"{job['status_url']}/subtitles.vtt")
    track.evaluate("track => { track.track.mode = 'hidden'; }")
    page.wait_for_function("() => document.querySelector('#player track').readyState === 2")
    cues: list[str] = track.evaluate("track => Array.from(track.track.cues, (cue) => cue.text)")
    assert " ".join(cues) == text

    # Played (muted, which headless Chromium allows without a click), the line under the
    # player follows the audio sentence by sentence.
    line = page.locator("#now-speaking")
    expect(line).to_have_attribute("aria-live", "polite")
    expect(line).to_be_empty()
    line.evaluate(
        """line => {
          window.said = [];
          new MutationObserver(() => window.said.push(line.textContent))
            .observe(line, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.eval_on_selector("#player", "player => { player.muted = true; return player.play(); }")
    expect(line).to_have_text(SENTENCES[0])
    assert not page.eval_on_selector("#player", "player => player.paused")
    page.wait_for_function("() => document.getElementById('player').ended", timeout=20_000)
    said: list[str] = page.evaluate("window.said")
    assert list(dict.fromkeys(shown for shown in said if shown)) == SENTENCES, said
    expect(line).to_be_empty()  # once the audio has ended


def test_cancel_stops_the_running_job(server: Server, launch: Launch) -> None:
    page = open_page(launch(), server.url)
    page.fill("#text", LONG)
    choose_voice(page, "espeak:en-us")
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    expect(page.locator("#job-status")).to_contain_text("Working…")
    # The page says "Cancelled" at once and sends the DELETE after; the record is gone once
    # that answers (a server busy on every core answers it a moment later).
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        page.click("#cancel")
        expect(page.locator("#job-status")).to_have_text("Cancelled. Nothing was kept.")
    assert deleted.value.status == 204
    expect(page.locator("#cancel")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "get-link"
    expect(page.locator("#recent")).to_be_hidden()
    assert httpx.get(server.url + job["status_url"]).status_code == 404


def test_over_long_text_is_refused_in_plain_words(
    server_factory: Callable[..., Server], launch: Launch
) -> None:
    server = server_factory(max_chars_direct="40", max_chars_job="80")
    text = "This text has sixty characters or so, more than forty."
    page = open_page(launch(), server.url)
    page.fill("#text", text)
    expect(page.locator("#count")).to_have_class("over")
    expect(page.locator("#over-limit")).to_be_visible()
    page.click("#download")
    error = page.locator("#form-error")
    expect(error).to_contain_text(f"The text is too long for Download: {len(text)} characters")
    expect(error).to_have_attribute("role", "alert")

    # Without JavaScript the server says it, and the text is still there to shorten.
    page = open_page(launch(java_script_enabled=False), server.url)
    page.fill("#text", text)
    with page.expect_response(lambda r: r.url.endswith("/speech")) as answer:
        page.click("#download")
    assert answer.value.status == 413
    expect(page.locator("#server-error")).to_contain_text("The text is too long.")
    expect(page.locator("#server-error")).to_contain_text("the limit is 40")
    expect(page.locator("#text")).to_have_value(text)


def test_a_book_over_a_limit_is_explained_in_the_pages_language(
    server_factory: Callable[..., Server], launch: Launch, tmp_path: Path
) -> None:
    server = server_factory(max_chars_book="2000", max_upload_bytes="65536")
    long_book = tmp_path / "long.txt"
    long_book.write_text("Chapter 1\n\n" + "The sea was quiet that night. " * 200, "utf-8")
    big_book = tmp_path / "big.txt"
    big_book.write_text("Chapter 1\n\n" + "The sea was quiet that night. " * 3000, "utf-8")
    error = "#form-error"

    page = open_page(launch(), server.url)
    page.set_input_files("#book-file", long_book)
    page.click("#get-link")
    expect(page.locator(error)).to_contain_text(
        "The book was read, but it has 6,0"  # its characters, counted when it was read
    )
    expect(page.locator(error)).to_contain_text(
        "up to 2,000. The operator can raise SAYFILE_MAX_CHARS_BOOK."
    )
    page.set_input_files("#book-file", big_book)
    page.click("#get-link")
    expect(page.locator(error)).to_contain_text(
        "takes files of up to 0.1 MB. The operator can raise SAYFILE_MAX_UPLOAD_BYTES."
    )

    # The Chinese page says the same in Chinese, with nothing in English but the setting's
    # name and the unit, and never that a long book it read "cannot be read".
    page = open_page(launch(locale="zh-CN"), server.url)
    cases = (
        (long_book, "SAYFILE_MAX_CHARS_BOOK", "这本书已读取，但共有 6,0"),
        (big_book, "SAYFILE_MAX_UPLOAD_BYTES", "本服务器只接受最大 0.1 MB 的文件"),
    )
    for book, setting, words in cases:
        page.set_input_files("#book-file", book)
        page.click("#get-link")
        expect(page.locator(error)).to_contain_text(words)
        said = page.locator(error).inner_text()
        assert setting in said and "无法读取" not in said, said
        assert not re.search("[A-Za-z]", said.replace(setting, "").replace("MB", "")), said


def test_a_busy_server_is_explained(server_factory: Callable[..., Server], launch: Launch) -> None:
    server = server_factory(max_queue="1")
    busy = httpx.post(f"{server.url}/jobs", json={"text": LONG, "voice": "espeak:en-us"}).json()
    page = open_page(launch(), server.url)
    page.fill("#text", "Me too, please.")
    page.click("#get-link")
    error = page.locator("#form-error")
    expect(error).to_contain_text("The server is busy right now. Try again in a few seconds.")
    expect(page.locator("#job")).to_be_hidden()
    assert httpx.delete(f"{server.url}/jobs/{busy['id']}").status_code == 204


def test_an_expired_link_says_so(server_factory: Callable[..., Server], launch: Launch) -> None:
    server = server_factory(ttl_seconds="1", sweep_interval_seconds="0.3")
    page = open_page(launch(), server.url)
    page.fill("#text", "This file will not live long.")
    choose_voice(page, "espeak:en-us")
    with job_created(page) as created:
        page.click("#get-link")
    audio_url = server.url + created.value.json()["audio_url"]
    expect(page.locator("#job-result")).to_be_visible()
    error = page.locator("#job-error")
    expect(error).to_have_text(
        "This link has expired: its file was deleted. Press Get link to make a new one."
    )
    expect(page.locator("#job-result")).to_be_hidden()
    expect(page.locator("#recent")).to_be_hidden()

    # Someone opening the dead link itself gets the page with the same words.
    answer = page.goto(audio_url)
    assert answer is not None and answer.status == 410
    expect(page.locator("#server-error")).to_contain_text("This link has expired")


def test_the_language_switch_changes_the_interface(server: Server, launch: Launch) -> None:
    page = open_page(launch(locale="zh-CN"), server.url)  # Accept-Language: zh-CN
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#download")).to_have_text("下载")
    expect(page.locator("#get-link")).to_have_text("获取链接")
    expect(page.locator("label[for=text]")).to_have_text("文字")
    expect(page.locator("#count")).to_have_text("0 / 5,000 个字符")
    assert page.input_value("#language") == "zh"  # Chinese visitors get a Chinese voice

    page.fill("#text", "你好")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#download")).to_have_text("Download")
    expect(page.locator("#text")).to_have_value("你好")  # the typed text came along
    page.fill("#text", "Hi")
    expect(page.locator("#count")).to_have_text("2 / 5,000 characters")
    page.goto(server.url)  # the choice is remembered over Accept-Language
    expect(page.locator("#get-link")).to_have_text("Get link")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.fill("#text", "x" * 301)
    page.click("#listen")
    expect(page.locator("#form-error")).to_contain_text("“试听”只适用于短文字")


def test_taiwan_and_hong_kong_browsers_get_the_interface_in_traditional_characters(
    server: Server, launch: Launch
) -> None:
    # Accept-Language: zh-TW got the Simplified page before.
    page = open_page(launch(locale="zh-TW"), server.url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    expect(page.locator("#download")).to_have_text("下載")
    expect(page.locator("#get-link")).to_have_text("獲取連結")  # Taiwan's word for a link
    expect(page.locator("#count")).to_have_text("0 / 5,000 個字元")
    assert page.input_value("#language") == "zh"
    expect(page.locator("#language option[value=zh]")).to_have_text("中文（普通話） ★")
    page.fill("#text", "x" * 301)
    page.click("#listen")  # a message the script writes, quoted as Taiwan quotes
    expect(page.locator("#form-error")).to_contain_text("「試聽」只適用於短文字")

    page.get_by_role("link", name="繁體中文（香港）").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-HK")
    expect(page.locator("#get-link")).to_have_text("獲取鏈接")


def test_choices_are_remembered_between_visits(server: Server, launch: Launch) -> None:
    page = open_page(launch(), server.url)
    with page.expect_response(lambda r: "/voices?language=fr" in r.url):
        page.select_option("#language", "fr")
    voices = page.locator("#voice option").evaluate_all("options => options.map(o => o.value)")
    assert voices[0] == "" and "espeak:fr-fr" in voices and "espeak:en-us" not in voices
    page.select_option("#voice", "espeak:fr-be")
    page.select_option("#format", "opus")
    page.fill("#speed", "1.5")
    page.locator("#speed").dispatch_event("change")

    page.reload()
    expect(page.locator("#voice")).to_have_value("espeak:fr-be")
    assert page.input_value("#language") == "fr"
    assert page.input_value("#format") == "opus"
    assert page.input_value("#speed") == "1.5"


def test_the_picker_lists_languages_by_their_own_names_neural_first(
    server: Server, launch: Launch
) -> None:
    """In either interface language the languages read as their speakers write them, those
    with a neural voice first and marked; Chinese offers Kokoro's voices, never espeak-ng's
    Mandarin that reads Latin letters as English."""
    page = open_page(launch(locale="zh-CN"), server.url)
    parts = page.locator("#language optgroup")
    expect(parts).to_have_count(2)
    expect(parts.nth(0)).to_have_attribute("label", "有神经网络声音 ★")
    neural = parts.nth(0).locator("option").all_text_contents()
    others = parts.nth(1).locator("option").all_text_contents()
    for own in ("中文（普通话） ★", "English ★", "Français ★", "Español ★", "日本語 ★"):
        assert own in neural, neural
    assert all(label.endswith(" ★") for label in neural)
    assert "Deutsch" in others and "Русский" in others and "粵語" in others
    assert not any("★" in label for label in others)
    values = page.locator("#language option").evaluate_all("all => all.map(o => o.value)")
    assert "cmn" not in values and "zh" in values and "en-US" not in values

    assert page.input_value("#language") == "zh"  # preselected for the Chinese interface
    expect(page.locator('#voice option[value="kokoro:zm_yunjian"]')).to_have_count(1)
    expect(page.locator("#voice option").nth(1)).to_contain_text("★ 神经网络")
    voices = page.locator("#voice option").evaluate_all("all => all.map(o => o.value)")
    assert voices[0] == "" and "kokoro:zm_yunjian" in voices
    assert not any(v.startswith("espeak:cmn") for v in voices), voices
    # A voice heard far below the best Mandarin voice is marked, and listed last of its group.
    expect(page.locator('#voice option[value="kokoro:zf_xiaoni"]')).to_contain_text("不易听清")
    expect(page.locator('#voice option[value="kokoro:zm_yunjian"]')).not_to_contain_text("不易听清")
    assert [v for v in voices if v.startswith("kokoro:")][-1] == "kokoro:zf_xiaoni", voices
    # Nor among every voice, with no language chosen.
    page.select_option("#language", "")
    every = page.locator("#voice option").evaluate_all("all => all.map(o => o.value)")
    assert "espeak:en-us" in every and not any(v.startswith("espeak:cmn") for v in every)
    expect(page.locator('#voice option[value="kokoro:zf_xiaoni"]')).to_contain_text("不易听清")


def test_a_chosen_book_makes_get_link_primary_and_drops_a_remembered_language(
    server: Server, launch: Launch, tmp_path: Path
) -> None:
    book = tmp_path / "故事.txt"
    book.write_text("第一章\n\n从前有一座山。\n\n第二章\n\n山里有一座庙。\n", encoding="utf-8")
    page = open_page(launch(), server.url)
    primary = "el => el.classList.contains('primary')"
    assert page.eval_on_selector("#download", primary)
    assert not page.eval_on_selector("#get-link", primary)
    with page.expect_response(lambda r: "/voices?language=fr" in r.url):
        page.select_option("#language", "fr")

    page.reload()  # French is now remembered, not chosen on this visit
    expect(page.locator("#language")).to_have_value("fr")
    page.set_input_files("#book-file", book)
    expect(page.locator("#language")).to_have_value("")  # the book's language decides
    expect(page.locator("#book-language")).to_be_visible()
    expect(page.locator("#book-language")).to_contain_text("Language set to Any")
    assert page.eval_on_selector("#get-link", primary)
    assert not page.eval_on_selector("#download", primary)
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    assert job["voice"].startswith("kokoro:z"), job["voice"]  # a Mandarin voice, not French

    page.click("#book-clear")
    assert page.eval_on_selector("#download", primary)
    expect(page.locator("#book-language")).to_be_hidden()

    # A language chosen on this visit, then a book: the choice stands.
    page.select_option("#language", "en")
    page.set_input_files("#book-file", book)
    expect(page.locator("#language")).to_have_value("en")
    expect(page.locator("#book-language")).to_be_hidden()


def test_the_time_left_and_durations_read_as_people_plan(
    server_factory: Callable[..., Server], launch: Launch
) -> None:
    """A long job says about how long it has left, a book's later chapters say they wait,
    and a finished file's length reads m:ss, in both interface languages."""
    server = server_factory(engines="tone", default_voice="tone:slow", book_part_chars="2000")
    page = open_page(launch(), server.url)
    chapters = "\n\n".join(
        f"Chapter {n}\n\n" + "A slow sentence of the long book. " * 300 for n in (1, 2, 3)
    )
    page.fill("#text", chapters)
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    assert job["eta_seconds"] > 60 and job["chapters"] is not None
    expect(page.locator("#job-status")).to_contain_text(re.compile(r"about \d+ min left"))
    states = page.locator("#chapters .chapter-state")
    expect(states.nth(2)).to_have_text("queued")
    expect(states.nth(0)).to_have_text("being made…")
    page.click("#cancel")

    page.goto(server.url + "/?lang=zh-CN")
    page.fill("#text", "很慢的一句话。" * 3000)
    with job_created(page) as created:
        page.click("#get-link")
    expect(page.locator("#job-status")).to_contain_text(re.compile(r"约剩 \d+ 分钟"))
    expect(page.locator("#chapters .chapter-state").first).to_have_text("正在生成…")
    page.click("#cancel")

    page.fill("#text", "Short and done. " * 10)
    with job_created(page) as created:
        page.click("#get-link")
    expect(page.locator("#job-status")).to_have_text(re.compile(r"完成：音频时长 0:\d\d。"))


def test_listen_plays_a_preview(server: Server, launch: Launch) -> None:
    page = open_page(launch(), server.url)
    page.fill("#text", "A short preview.")
    with page.expect_response(lambda r: r.url.endswith("/speech")) as answer:
        page.click("#listen")
    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "audio/mpeg"
    expect(page.locator("#preview")).to_be_visible()
    page.wait_for_function(
        "() => { const p = document.getElementById('preview');"
        " return p.readyState >= 1 && p.duration > 0.5; }"
    )

    # A chosen voice can be heard saying a sentence of its own.
    expect(page.locator("#voice-sample")).to_be_hidden()
    page.select_option("#voice", "espeak:de")
    with page.expect_response(lambda r: "/voices/espeak%3Ade/sample" in r.url) as sample:
        page.click("#voice-sample")
    assert sample.value.status in (200, 206)  # <audio> asks for a range
    page.wait_for_function(
        "() => { const p = document.getElementById('preview');"
        " return p.src.includes('/sample') && p.readyState >= 1 && p.duration > 1; }"
    )


def test_an_api_key_is_asked_for_remembered_and_sent(
    server_factory: Callable[..., Server], launch: Launch
) -> None:
    server = server_factory(api_keys="page-secret")
    page = open_page(launch(), server.url)
    key = page.get_by_label("API key")
    expect(key).to_have_attribute("type", "password")
    expect(key).to_have_attribute("name", "api_key")
    key.fill("page-secret")
    page.get_by_label("Remember the key in this browser").check()
    page.reload()
    expect(key).to_have_value("page-secret")

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.fill("#text", "With a key.")
    with job_created(page) as created:
        page.click("#get-link")
    assert created.value.request.headers["authorization"] == "Bearer page-secret"
    expect(page.locator("#job-status")).to_contain_text("Ready:")
    # A job is followed by its link alone: events and the player's URL, no polling and no
    # blob: copies of the file.
    job = created.value.json()
    assert server.url + job["status_url"] + "/events" in requests
    assert requests.count(server.url + job["status_url"]) <= 1
    assert page.get_attribute("#player", "src") == job["audio_url"]

    # A voice's sample needs the key too: fetched with it, played from the fetched file.
    page.select_option("#voice", "espeak:de")
    with page.expect_response(lambda r: "/voices/espeak%3Ade/sample" in r.url) as sample:
        page.click("#voice-sample")
    assert sample.value.status == 200
    assert sample.value.request.headers["authorization"] == "Bearer page-secret"
    page.wait_for_function(
        "() => { const p = document.getElementById('preview');"
        " return p.src.startsWith('blob:') && p.readyState >= 1 && p.duration > 1; }"
    )

    page.get_by_label("Remember the key in this browser").uncheck()
    page.reload()
    expect(key).to_have_value("")


def test_everything_comes_from_sayfile(server: Server, launch: Launch) -> None:
    context = launch()
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = open_page(context, server.url)
    page.wait_for_load_state("networkidle")
    assert requests and all(url.startswith(server.url + "/") for url in requests), requests
    assert not page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').length")


@pytest.mark.parametrize(
    ("name", "locale", "viewport", "text"),
    [
        (
            "desktop",
            "en-US",
            {"width": 1100, "height": 820},
            "Hello there. sayfile turns text into an audio file, on your own server.",
        ),
        ("phone", "zh-CN", {"width": 360, "height": 760}, CHINESE),
    ],
    ids=["desktop", "phone"],
)
def test_screenshots_for_the_readme(
    server: Server,
    launch: Launch,
    name: str,
    locale: str,
    viewport: dict[str, int],
    text: str,
    tmp_path: Path,
) -> None:
    page = open_page(launch(locale=locale, viewport=viewport), server.url)
    page.fill("#text", text)
    page.locator("#text").blur()
    page.wait_for_load_state("networkidle")
    # Nothing sticks out sideways, down to a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    folder = Path(os.environ.get(SCREENSHOTS, tmp_path))
    page.screenshot(path=folder / f"screenshot-{name}.png", full_page=True)
    assert (folder / f"screenshot-{name}.png").stat().st_size > 10_000


def test_a_chosen_books_chapters_are_ticked_before_it_is_made(
    server_factory: Callable[..., Server], launch: Launch, tmp_path: Path
) -> None:
    """《呐喊》 (a Calibre EPUB): once chosen, its chapters are listed with the front matter
    unticked and the expected size; ticking and unticking chapters and choosing a bit rate
    change the size, and are what Get link asks for; the job lists what is not made."""
    server = server_factory(engines="tone", default_voice="tone:beep")
    page = open_page(launch(locale="zh-CN"), server.url)
    page.select_option("#format", "mp3")
    page.set_input_files("#book-file", Path(__file__).parent / "data" / "nahan-calibre-epub2.epub")
    boxes = page.locator("#book-chapter-list input[type=checkbox]")
    expect(boxes).to_have_count(5)
    expect(page.locator("#book-chapter-list label")).to_have_text(
        ["呐喊", "版权信息", "目 录", "自序", "狂人日记"]
    )
    assert [boxes.nth(i).is_checked() for i in range(5)] == [False, False, False, True, True]
    size = page.locator("#book-size")
    expect(size).to_contain_text("共 5 章，选了 2 章")
    default_size = size.text_content()
    page.select_option("#bitrate", "32")
    expect(size).not_to_have_text(default_size or "")
    boxes.nth(4).uncheck()
    expect(size).to_contain_text("选了 1 章")
    boxes.nth(0).check()  # the title page, asked for
    with job_created(page) as created:
        page.click("#get-link")
    job = created.value.json()
    assert [(c["title"], c["skipped"]) for c in job["chapters"]] == [
        ("呐喊", False),
        ("版权信息", True),
        ("目 录", True),
        ("自序", False),
        ("狂人日记", True),
    ]
    expect(page.locator("#job-result")).to_be_visible(timeout=30_000)
    states = page.locator("#chapters li")
    expect(states).to_have_count(5)
    expect(states.nth(1)).to_contain_text("不生成")
    expect(page.locator("#chapters button.chapter .chapter-title")).to_have_text(["呐喊", "自序"])
    saved = tmp_path / "nahan.mp3"
    saved.write_bytes(httpx.get(server.url + job["audio_url"], timeout=10).content)
    probe = subprocess.run(
        ["/usr/bin/ffprobe", "-v", "error", "-show_streams", "-of", "json", str(saved)],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    audio = [s for s in json.loads(probe.stdout)["streams"] if s["codec_type"] == "audio"]
    assert int(audio[0]["bit_rate"]) == 32_000  # the bit rate chosen


def test_pasted_markdown_is_spoken_and_named_as_a_reader_sees_it(
    server: Server, launch: Launch
) -> None:
    page = open_page(launch(), server.url)
    expect(page.locator("#text-format")).to_have_value("auto")
    pasted = (
        "## Release notes\n\n"
        "Read [the upgrade guide](https://github.com/example/app/blob/main/UPGRADE.md) first.\n\n"
        "![diagram](https://example.com/diagram.png)\n\n"
        "- **Faster** start\n- Fixes from https://bugs.example.org/list?id=42\n"
    )
    page.fill("#text", pasted)
    choose_voice(page, "espeak:en-us")
    with (
        job_created(page) as created,
        page.expect_response(lambda r: r.url.endswith("/timings")) as timings,
    ):
        page.click("#get-link")
    assert created.value.request.post_data_json["text_format"] == "auto"
    expect(page.locator("#job-status")).to_contain_text("Ready:")
    said = " ".join(piece["text"] for piece in timings.value.json()["pieces"])
    assert said == (
        "Release notes. Read the upgrade guide first. Faster start. Fixes from bugs.example.org."
    )
    with page.expect_download() as info:
        page.click("#save")
    assert info.value.suggested_filename == "release-notes-read-the-upgrade-guide.mp3"

    # A bare address is said as its site; chosen as plain text, it is read as written, and
    # the choice is kept.
    page.fill("#text", "See https://docs.example.com/start now")
    with page.expect_download() as info:
        page.click("#download", no_wait_after=True)
    assert info.value.suggested_filename == "see-docs-example-com-now.mp3"
    page.select_option("#text-format", "plain")
    with page.expect_download() as info:
        page.click("#download", no_wait_after=True)
    assert info.value.suggested_filename == "see-https-docs-example-com-start.mp3"
    page.reload()
    expect(page.locator("#text-format")).to_have_value("plain")


def test_a_kokoro_voice_can_be_mixed_with_another_of_its_language(
    server: Server, launch: Launch
) -> None:
    page = open_page(launch(), server.url)
    mixing = page.locator("#mix-field")
    choose_voice(page, "espeak:de")
    expect(mixing).to_be_hidden()  # only Kokoro's voices mix
    choose_voice(page, "kokoro:zf_xiaobei")
    expect(mixing).to_be_visible()
    offered = page.eval_on_selector_all("#mix option", "options => options.map(o => o.value)")
    assert "kokoro:zm_yunxi" in offered and "kokoro:af_sky" not in offered
    assert "kokoro:zf_xiaobei" not in offered
    choose_voice(page, "kokoro:af_bella")
    page.select_option("#mix", "kokoro:af_sky")
    page.eval_on_selector(
        "#mix-share",
        "e => { e.value = '40';"
        " for (const n of ['input', 'change']) { e.dispatchEvent(new Event(n)); } }",
    )
    expect(page.locator("#mix-share-shown")).to_have_text("40%")
    # The one field every request takes the voice from (the form post included).
    mixed = "kokoro:af_bella(60)+kokoro:af_sky(40)"
    assert page.input_value("#voice-sent") == mixed
    url = "/voices/kokoro%3Aaf_bella(60)%2Bkokoro%3Aaf_sky(40)/sample"
    with page.expect_response(lambda r: url in r.url, timeout=90_000) as sample:
        page.click("#voice-sample")
    assert sample.value.status in (200, 206)
    page.wait_for_function(
        "() => { const p = document.getElementById('preview');"
        " return p.src.includes('/sample') && p.readyState >= 1 && p.duration > 1; }",
        timeout=90_000,
    )
    # The mix is remembered for the next visit, like any voice.
    page.reload()
    expect(page.locator("#mix")).to_have_value("kokoro:af_sky")
    assert page.input_value("#voice") == "kokoro:af_bella"
    assert page.input_value("#voice-sent") == mixed
    # Back to one voice: the mix is dropped from what is sent.
    page.select_option("#mix", "")
    assert page.input_value("#voice-sent") == "kokoro:af_bella"
