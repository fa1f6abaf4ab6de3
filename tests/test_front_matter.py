"""A Markdown post's YAML front matter (Hugo, Jekyll, Pandoc) names the book, its author and
language in everything made of it, and is never read aloud or shown; front matter that does
not parse is still left unread."""

# mutagen declares itself typed (py.typed) but leaves most functions unannotated.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from defusedxml import ElementTree
from fastapi.testclient import TestClient
from mutagen.id3 import ID3

from conftest import TONES, book_done, wait_done
from sayfile.books.reading import open_book, read_book
from sayfile.cli.input_text import read_input
from sayfile.text.front_matter import front_matter
from sayfile.text.markup import TextFormat, spoken, text_format
from test_read_along import NS, read_along

DATA = Path(__file__).parent / "data"
POST = DATA / "autumn-walk-front-matter.md"
# What the front matter says, none of which is text to read.
UNREAD = ("title", "author", "lang", "tags", "2023", "林小雨", "Alex Reed", "essay", "---")


def test_a_posts_front_matter_is_its_books_title_author_language_and_year() -> None:
    book = open_book(POST.read_bytes(), POST.name)
    info = book.info
    assert (info.title, info.author, info.language, info.year) == (
        "秋天的散步",
        "林小雨, Alex Reed",
        "zh",
        "2023",
    )
    assert [c.title for c in book.chapters] == ["第一章 出门", "第二章 回家"]
    text = " ".join(c.text for c in book.chapters)
    assert text.startswith("第一章 出门。 我很好。")
    assert not [word for word in UNREAD if word in text]


def test_a_post_without_a_heading_first_is_named_by_its_front_matter() -> None:
    post = b"---\ntitle: 'Notes: on walking'\nauthor: {name: Ann Lee}\n---\nWe walked.\n"
    (chapter,) = read_book(post, "2024-05-01-notes.md")
    assert (chapter.title, chapter.text) == ("Notes: on walking", "We walked.")
    assert open_book(post, "notes.md").info.author == "Ann Lee"


def test_front_matter_that_is_not_yaml_is_left_unread_and_unused() -> None:
    # A colon in an unquoted title: a typo YAML refuses.
    post = b"---\ntitle: Part 2: the lake\nlang: zh\n---\n# The lake\n\nIt was calm.\n"
    book = open_book(post, "lake.md")
    assert (book.info.title, book.info.language) == (None, None)
    assert [c.text for c in book.chapters] == ["The lake. It was calm."]
    assert front_matter("---\ndate: 2023-13-45\n---\nText.\n") is not None  # no such day


def test_a_rule_above_a_heading_is_markdown_not_front_matter() -> None:
    text = "---\nIntroduction\n---\n\nIt begins here.\n"
    assert front_matter(text) is None
    assert [c.text for c in read_book(text.encode(), "intro.md")] == [
        "Introduction. It begins here."
    ]


def test_a_text_that_opens_with_front_matter_is_markdown_and_its_front_matter_unsaid() -> None:
    text = "---\ntitle: Notes\nauthor: Ann\n---\n\nJust prose here, nothing else.\n"
    fmt = text_format(None, text)
    assert fmt is TextFormat.markdown
    assert spoken(text, fmt) == "Just prose here, nothing else."
    marked = "\ufeff" + text  # a byte order mark before it
    assert spoken(marked, text_format(None, marked)) == "Just prose here, nothing else."


def test_a_posts_read_along_book_carries_its_title_author_and_language(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    job = book_done(client, POST.name, POST.read_bytes(), "text/markdown", format="epub")
    download = client.get(job["audio_url"])
    assert (
        "%E7%A7%8B%E5%A4%A9%E7%9A%84%E6%95%A3%E6%AD%A5.epub"
        in download.headers["content-disposition"]
    )  # 秋天的散步.epub
    book = read_along(download.content)
    metadata = book.package.find("opf:metadata", NS)
    assert metadata is not None
    found = {
        name: [e.text for e in metadata.findall(f"dc:{name}", NS)]
        for name in ("title", "creator", "language")
    }
    assert found == {"title": ["秋天的散步"], "creator": ["林小雨, Alex Reed"], "language": ["zh"]}
    shown = "".join(
        text for content in book.spine() for text in _texts(book.member(content.attrib["href"]))
    )
    assert "我很好。" in shown
    assert not [word for word in UNREAD if word in shown]


def _texts(xhtml: bytes) -> list[str]:
    body = ElementTree.fromstring(xhtml).find("x:body", NS)
    assert body is not None
    return list(body.itertext())


def test_a_posts_audiobook_is_tagged_with_its_front_matter(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    job = book_done(client, POST.name, POST.read_bytes(), "text/markdown", format="mp3")
    download = client.get(job["audio_url"])
    assert (
        "%E7%A7%8B%E5%A4%A9%E7%9A%84%E6%95%A3%E6%AD%A5.mp3"
        in download.headers["content-disposition"]
    )
    tags = ID3(io.BytesIO(download.content))
    assert [str(tags[frame]) for frame in ("TIT2", "TALB", "TPE1", "TLAN", "TDRC")] == [
        "秋天的散步",
        "秋天的散步",
        "林小雨, Alex Reed",
        "zh",
        "2023",
    ]


def test_a_markdown_text_job_with_front_matter_is_named_after_its_title(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    r = client.post("/jobs", json={"text": POST.read_text("utf-8"), "format": "epub"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    download = client.get(job["audio_url"])
    assert (
        "%E7%A7%8B%E5%A4%A9%E7%9A%84%E6%95%A3%E6%AD%A5.epub"
        in download.headers["content-disposition"]
    )
    title = read_along(download.content).package.find("opf:metadata/dc:title", NS)
    assert title is not None and title.text == "秋天的散步"


def test_the_command_line_names_and_tags_a_post_by_its_front_matter() -> None:
    content, book = read_input(None, POST)
    assert book is not None and book.title == "秋天的散步"
    assert book.book.info.author == "林小雨, Alex Reed"
    assert not [word for word in UNREAD if word in content]


def test_a_short_post_is_named_after_its_title_not_its_first_words(
    make_client: Callable[..., TestClient],
) -> None:
    post = "---\ntitle: 'Autumn: a walk'\n---\n\nWe walked to the lake.\n"
    client = make_client(**TONES)
    r = client.post("/jobs", json={"text": post, "format": "mp3"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    named = "attachment; filename=\"autumn-a-walk.mp3\"; filename*=UTF-8''Autumn%20a%20walk.mp3"
    assert client.get(job["audio_url"]).headers["content-disposition"] == named
    timings = client.get(job["timings_url"]).json()
    assert [piece["text"] for piece in timings["pieces"]] == ["We walked to the lake."]
    spoken_now = client.post("/speech", json={"text": post, "format": "mp3"})
    assert spoken_now.status_code == 200
    assert spoken_now.headers["content-disposition"] == named
