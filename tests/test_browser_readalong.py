"""Read-along on the page in a real browser (Debian's chromium driven by Playwright) against a
real `sayfile serve`: the text typed is shown under the job's player with the word being said
marked (Kokoro, in English and Mandarin) or the sentence (espeak-ng through its command), and a
word moves the player to its start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import test_browser
from conftest import Server
from test_browser import Launch, choose_voice, job_created, open_page

# The browser, its contexts and the page's server, as test_browser.py makes them (one server
# and one Chromium for this module).
playwright = test_browser.playwright
chromium = test_browser.chromium
launch = test_browser.launch
server = test_browser.server

pytestmark = [pytest.mark.usefixtures("ffmpeg"), pytest.mark.slow]

# Typed as people type: a line break and a double space, which the server reads as one space;
# the page must still show (and mark) the text as typed.
ENGLISH = "Read along with me.\nEvery  word is marked while it is said."
MANDARIN = "今天天气很好。我们一起去公园散步吧。"
SENTENCES = [
    "The first sentence of this text is marked while it is spoken.",
    "Then the second sentence takes the mark from the first one.",
]
MARKED = "#read-along-text [aria-current]"


def made(page: Page, text: str, voice: str) -> dict[str, Any]:
    """The timings of a job made with Get link for `text`, once the page has the player's
    metadata and the read-along's spans."""
    page.fill("#text", text)
    choose_voice(page, voice)
    with (
        job_created(page),
        page.expect_response(lambda r: r.url.endswith("/timings"), timeout=120_000) as answer,
    ):
        page.click("#get-link")
    timings: dict[str, Any] = answer.value.json()
    expect(page.locator("#read-along")).to_be_visible()
    expect(page.locator("#read-along-text .spoken").first).to_be_attached()
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    return timings


def spoken_at(starts: list[float], at: float, words: list[dict[str, Any]] | None = None) -> int:
    """The index of the item being said at `at`: the last one started by then; with its
    `words`, -1 in a pause (0.08 s or more) after a word once the word's sound has ended."""
    found = max(i for i, start in enumerate(starts) if start <= at)
    if words is None:
        return found
    following = words[found + 1]["start"] if found + 1 < len(words) else float("inf")
    paused = following - words[found]["end"] >= 0.08 and at >= words[found]["end"]
    return -1 if paused else found


def seek(page: Page, at: float) -> None:
    page.eval_on_selector("#player", "(player, at) => { player.currentTime = at; }", at)


def marked_at(page: Page, index: int) -> None:
    if index < 0:
        expect(page.locator(MARKED)).to_have_count(0)
        return
    page.wait_for_function(
        "([selector, i]) => { const node = document.querySelector(selector);"
        " return node !== null && node.dataset.i === String(i); }",
        arg=[MARKED, index],
    )


def mark_covers_marked(page: Page) -> bool:
    """Whether the highlight drawn behind the text lies on the marked item, line by line."""
    covers: bool = page.evaluate(
        """(selector) => {
          const lines = Array.from(document.querySelector(selector).getClientRects());
          const boxes = Array.from(document.querySelectorAll(".read-along-mark"))
            .filter((box) => !box.hidden).map((box) => box.getBoundingClientRect());
          const near = (a, b) => Math.abs(a - b) < 1;
          return lines.length > 0 && lines.length === boxes.length && lines.every((line, k) =>
            near(line.left, boxes[k].left) && near(line.top, boxes[k].top) &&
            near(line.width, boxes[k].width) && near(line.height, boxes[k].height));
        }""",
        MARKED,
    )
    return covers


@pytest.mark.parametrize(
    ("text", "voice"),
    [(ENGLISH, "kokoro:af_heart"), (MANDARIN, "kokoro:zf_xiaobei")],
    ids=["english", "mandarin"],
)
def test_the_word_being_said_is_marked_in_the_typed_text_and_a_word_moves_the_player(
    server: Server, launch: Launch, text: str, voice: str
) -> None:
    page = open_page(launch(), server.url)
    timings = made(page, text, voice)
    words = timings["words"]
    assert words, timings
    box = page.locator("#read-along-text")
    # The text shown is the one typed (its line break and double space too), every word of
    # the timings a span of it, in order.
    assert box.evaluate("node => node.textContent") == text
    spans = box.locator(".spoken")
    assert spans.all_text_contents() == [word["text"] for word in words]
    expect(box).to_have_attribute("role", "group")

    # Seeking the player anywhere marks the word the timings give for that time, and only it.
    starts = [word["start"] for word in words]
    for index in sorted({1, len(words) // 2, len(words) - 1}):
        word = words[index]
        at = (word["start"] + word["end"]) / 2
        seek(page, at)
        marked_at(page, spoken_at(starts, at))
        expect(page.locator(MARKED)).to_have_count(1)
        expect(page.locator(MARKED)).to_have_text(words[spoken_at(starts, at)]["text"])
        assert mark_covers_marked(page)
    # In the pause after a sentence the word before it is marked while its sound lasts only.
    pause = next(i for i in range(len(words) - 1) if words[i + 1]["start"] - words[i]["end"] > 0.09)
    seek(page, words[pause]["end"] - 0.03)
    marked_at(page, pause)
    seek(page, (words[pause]["end"] + words[pause + 1]["start"]) / 2)
    marked_at(page, -1)

    # A click on a word moves the player to its start (and marks it); so do the arrow keys
    # and Enter from there, without a mouse.
    spans.nth(2).click()
    moved = page.eval_on_selector("#player", "player => player.currentTime")
    assert moved == pytest.approx(words[2]["start"], abs=0.01)
    marked_at(page, 2)
    expect(spans.nth(2)).to_have_attribute("tabindex", "0")
    page.keyboard.press("ArrowRight")
    expect(spans.nth(3)).to_be_focused()
    page.keyboard.press("Enter")
    moved = page.eval_on_selector("#player", "player => player.currentTime")
    assert moved == pytest.approx(words[3]["start"], abs=0.01)
    marked_at(page, 3)
    assert page.locator("#read-along-text [tabindex]").count() == 1  # one tab stop

    # Played (muted, which headless Chromium allows), the mark follows the audio: paused
    # past the middle, it is on the word being said then.
    page.eval_on_selector("#player", "p => { p.muted = true; p.currentTime = 0; return p.play(); }")
    page.wait_for_function(
        "(at) => document.getElementById('player').currentTime > at",
        arg=words[len(words) // 2]["end"],
    )
    now = page.eval_on_selector("#player", "p => { p.pause(); return p.currentTime; }")
    marked_at(page, spoken_at(starts, now, words))


def test_a_voice_without_word_times_marks_the_sentence_being_said(
    server_factory: Callable[..., Server], launch: Launch
) -> None:
    # espeak-ng through its command, which does not time words.
    server = server_factory(espeak_library="false")
    page = open_page(launch(locale="zh-CN"), server.url)
    text = " ".join(SENTENCES)
    timings = made(page, text, "espeak:en-us")
    assert timings["words"] is None
    expect(page.locator("#read-along h3")).to_have_text("跟读")
    sentences = page.locator("#read-along-text .spoken.sentence")
    assert sentences.all_text_contents() == SENTENCES
    pieces = timings["pieces"]
    assert [piece["text"] for piece in pieces] == SENTENCES
    second = pieces[1]
    seek(page, (second["start"] + second["end"]) / 2)
    marked_at(page, 1)
    assert mark_covers_marked(page)
    sentences.nth(0).click()
    assert page.eval_on_selector("#player", "p => p.currentTime") == pytest.approx(
        pieces[0]["start"], abs=0.01
    )
    marked_at(page, 0)


# A read-along of its own on the page, for a text of `chars` Chinese characters cut into
# two-character words a quarter of a second each, driven by a stand-in for the player: how
# long building its spans takes (the layout included), and where the mark is after a seek
# near the end.
LONG_TEXT = """async (chars) => {
  const paragraph = "春天来了，山上的花都开了。孩子们在河边放风筝，笑声传得很远。";
  let typed = "";
  while (typed.length < chars) { typed += paragraph; }
  typed = typed.slice(0, chars);
  const words = [];
  for (let i = 0; i < typed.length;) {
    if ("，。".includes(typed[i])) { i += 1; continue; }
    const end = Math.min(i + 2, typed.length);
    const at = words.length * 0.25;
    words.push({ text: typed.slice(i, end), start: at, end: at + 0.25,
                 start_char: i, end_char: end });
    i = end;
  }
  const box = document.createElement("div");
  const text = document.createElement("div");
  text.className = "read-along-text";
  box.append(text);
  document.querySelector("main").append(box);
  const player = new EventTarget();
  Object.assign(player, { currentTime: 0, paused: true, ended: false });
  const readAlong = window.SayfileReadAlong({ box, text, player });
  window.scrollTo(0, 0);
  const began = performance.now();
  readAlong.show(typed, "zh");
  const plain = text.scrollHeight;
  const middle = performance.now();
  readAlong.load({ words, pieces: [] });
  void text.offsetHeight;
  const built = performance.now() - began;
  const spans = performance.now() - middle;
  const heights = [plain, text.scrollHeight];
  // A thousand seeks anywhere: each finds its word and moves the mark.
  const seeking = performance.now();
  for (let n = 0; n < 1000; n++) {
    player.currentTime = ((n * 7919) % words.length) * 0.25 + 0.1;
    player.dispatchEvent(new Event("seeked"));
  }
  const seek = (performance.now() - seeking) / 1000;
  const last = words.length - 3;
  player.currentTime = words[last].start + 0.1;
  player.dispatchEvent(new Event("seeked"));
  heights.push(text.scrollHeight);
  const marked = text.querySelectorAll("[aria-current]");
  const node = marked[0];
  return {
    built, spans, seek, heights, words: words.length,
    made: text.querySelectorAll(".spoken").length,
    marked: marked.length === 1 ? Number(node.dataset.i) : -1, last,
    inView: node.offsetTop >= text.scrollTop &&
      node.offsetTop + node.offsetHeight <= text.scrollTop + text.clientHeight,
    pageScrolled: window.scrollY,
    shown: text.textContent === typed,
  };
}"""


def test_a_long_chinese_text_is_built_once_and_the_mark_kept_in_view(
    server: Server, launch: Launch
) -> None:
    page = open_page(launch(), server.url)
    found = page.evaluate(LONG_TEXT, 20_000)
    print(
        f"read-along of 20,000 Chinese characters, {found['words']} words: shown and built in"
        f" {found['built']:.0f} ms (the spans {found['spans']:.0f} ms),"
        f" a seek {found['seek']:.3f} ms"
    )
    assert found["shown"] and found["made"] == found["words"] > 9_000
    # Neither the spans nor the mark move a line: the text is as high as the plain text was.
    assert len(set(found["heights"])) == 1, found["heights"]
    assert found["marked"] == found["last"]
    assert found["inView"] and found["pageScrolled"] == 0  # the box scrolled, not the page


def test_a_read_along_epub_is_chosen_in_the_format_picker_and_made_by_download(
    server: Server, launch: Launch
) -> None:
    """epub is offered beside the audio formats; Download hands it to Get link (a form post
    cannot make a book), and the job's link gives an EPUB 3 with the text and its overlay,
    offered to save rather than played here."""
    import io
    import zipfile

    import httpx2 as httpx
    from defusedxml import ElementTree

    page = open_page(launch(), server.url)
    option = page.locator('#format option[value="epub"]')
    expect(option).to_be_enabled()
    page.fill("#text", SENTENCES[0] + " " + SENTENCES[1])
    choose_voice(page, "espeak:en-us")
    page.select_option("#format", "epub")
    expect(page.locator("#get-link")).to_have_class("primary")
    with job_created(page) as created:
        page.click("#download")
    job = created.value.json()
    assert job["format"] == "epub"
    expect(page.locator("#job-result")).to_be_visible(timeout=60_000)
    expect(page.locator("#job-status")).to_contain_text("EPUB")
    expect(page.locator("#player")).to_be_hidden()
    expect(page.locator("#read-along")).to_be_hidden()

    answer = httpx.get(server.url + job["audio_url"], timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/epub+zip")
    with zipfile.ZipFile(io.BytesIO(answer.content)) as book:
        assert book.read("mimetype") == b"application/epub+zip"
        names = book.namelist()
        documents = [n for n in names if n.endswith(".xhtml") and not n.endswith("nav.xhtml")]
        text = "".join("".join(ElementTree.fromstring(book.read(n)).itertext()) for n in documents)
        assert SENTENCES[1] in text
        assert any(n.endswith(".smil") for n in names)
        assert any(n.endswith(".mp3") for n in names)

    # Back to an audio format, the next link plays on the page again.
    page.select_option("#format", "mp3")
    expect(page.locator("#download")).to_have_class("primary")
