"""What a read-along book shows is the text as its file wrote it: sentences a space apart only
where the text has one (Chinese and Japanese ones have none), and without the full stop a
heading or list item is said with. The EPUB the job makes is read back as a reading system
reads it (`test_read_along.read_along`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from conftest import TONES, book_done
from sayfile.books.reading import read_book
from test_read_along import NS, ReadAlong, read_along

DATA = Path(__file__).parent / "data"


def _shown(book: ReadAlong, chapter: int) -> list[tuple[str, str]]:
    """A chapter's blocks as a reader sees them: each one's tag and text."""
    xhtml = ElementTree.fromstring(book.member(book.spine()[chapter].attrib["href"]))
    section = xhtml.find(".//x:section", NS)
    assert section is not None
    return [(block.tag.rsplit("}", 1)[1], "".join(block.itertext())) for block in section]


def _epub(client: TestClient, name: str, data: bytes) -> ReadAlong:
    job = book_done(client, name, data, "text/markdown", format="epub")
    return read_along(client.get(job["audio_url"]).content)


def test_chinese_sentences_are_shown_together_as_written_and_english_ones_a_space_apart(
    make_client: Callable[..., TestClient],
) -> None:
    story = (
        "# 第一章 狂人日记\n\n我很好。你呢？他说：“走吧。”\n\n今天天气很好。 我们出去。\n\n"
        "# Chapter Two\n\nThe sea was quiet. The gulls slept.\n"
    )
    book = _epub(make_client(**TONES), "story.md", story.encode())
    assert _shown(book, 0) == [
        ("h1", "第一章 狂人日记"),
        ("p", "我很好。你呢？他说：“走吧。”"),
        # A space the text has between Chinese sentences stays.
        ("p", "今天天气很好。 我们出去。"),
    ]
    assert _shown(book, 1) == [("h1", "Chapter Two"), ("p", "The sea was quiet. The gulls slept.")]


def test_a_mixed_chinese_and_english_paragraph_is_spaced_as_written(
    make_client: Callable[..., TestClient],
) -> None:
    data = (DATA / "autumn-walk-front-matter.md").read_bytes()
    book = _epub(make_client(**TONES), "autumn-walk.md", data)
    assert _shown(book, 0) == [
        ("h1", "第一章 出门"),
        ("p", "我很好。你呢？今天我们去公园散步。"),
        (
            "p",
            "我用Python写了一个小程序。It reads the weather for us. 它说今天不会下雨！Good news.",
        ),
        # A heading inside the chapter, shown without the stop it is said with.
        ("p", "湖边"),
        ("p", "We walked to the lake. 湖边很安静。"),
    ]
    assert _shown(book, 1) == [("h1", "第二章 回家"), ("p", "天黑了，我们回家。")]


def test_headings_and_list_items_are_shown_without_the_stop_they_are_said_with(
    make_client: Callable[..., TestClient],
) -> None:
    story = (
        b"# Chapter 1. Loomings\n\nCall me Ishmael. Some years ago, never mind how long.\n\n"
        b"What he packed:\n\n- a harpoon\n- a hat\n\n## Ashore\n\nThe town slept.\n\n"
        b"# Chapter 2. The Carpet-Bag\n\nI stuffed a shirt or two into my old carpet-bag.\n"
    )
    book = _epub(make_client(**TONES), "moby.md", story)
    first = _shown(book, 0)
    assert first == [
        ("h1", "Chapter 1. Loomings"),
        ("p", "Call me Ishmael. Some years ago, never mind how long."),
        # The colon the stop replaced in speech is shown.
        ("p", "What he packed:"),
        ("p", "a harpoon"),
        ("p", "a hat"),
        ("p", "Ashore"),
        ("p", "The town slept."),
    ]
    assert _shown(book, 1)[0] == ("h1", "Chapter 2. The Carpet-Bag")
    # The heading the sentence cutter cut in two is one heading of two sentences, each its
    # own element for the overlay.
    xhtml = ElementTree.fromstring(book.member(book.spine()[0].attrib["href"]))
    heading = xhtml.find(".//x:h1", NS)
    assert heading is not None
    assert [span.attrib["id"] for span in heading.findall("x:span", NS)] == ["s1", "s2"]
    said = {clip.fragment.split("w")[0] for clip in book.clips(book.spine()[0])}
    assert {"s1", "s2"} <= said  # each word of both is heard
    # What is said keeps each stop, so each heading and item is a sentence with its pause.
    text = read_book(story, "moby.md")[0].text
    assert text.startswith("Chapter 1. Loomings. Call me Ishmael.")
    assert "What he packed. a harpoon. a hat. Ashore." in text


@pytest.mark.slow
def test_a_heading_said_with_the_next_sentence_shows_on_a_line_of_its_own(
    make_client: Callable[..., TestClient],
) -> None:
    """espeak-ng is given short sentences together (its start-up cost): the heading and the
    sentences after it are one piece of the overlay, whose text breaks its line where the
    book begins a paragraph, the heading shown without its stop."""
    story = b"# Chapter 1. Loomings\n\nCall me Ishmael. Some years ago, never mind how long.\n"
    client = make_client(engines=["espeak"], default_voice="espeak:en-us")
    book = _epub(client, "moby.md", story)
    xhtml = ElementTree.fromstring(book.member(book.spine()[0].attrib["href"]))
    first = xhtml.find(".//x:section/x:p/x:span", NS)
    assert first is not None and first.attrib["id"] == "s1"
    children = [(child.tag.rsplit("}", 1)[1], child.text) for child in first]
    # The heading's last word, then the line break where the book's next paragraph begins.
    at = children.index(("br", None))
    assert children[at - 1 : at + 2] == [("span", "Loomings"), ("br", None), ("span", "Call")]
    assert _shown(book, 0) == [
        ("p", "Chapter 1. LoomingsCall me Ishmael. Some years ago, never mind how long.")
    ]
