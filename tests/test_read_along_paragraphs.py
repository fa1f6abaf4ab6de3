"""Read-along paragraphs where the plan and the speech disagree with the book: a book
planned by the version before paragraphs were kept (its manifest has none), and a lexicon
alias said in place of a word of a different length. The EPUB is read back as a reading
system reads it (`test_read_along.read_along`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from conftest import TONES, wait_done
from sayfile.books.parts import BookManifest
from test_read_along import NS, ReadAlong, decoded, read_along

STORY = (
    b"# The Calm\n\nThe sea was quiet. The gulls slept on the water.\n\n"
    b"Nobody spoke on deck. The sails hung loose.\n\nThen a bell rang below.\n\n"
    b"# The Storm\n\nThe wind rose at noon. Rain came after it.\n\n"
    b"By night the waves were high. The ship rolled.\n"
)


def _blocks(book: ReadAlong, chapter: int) -> list[tuple[str, str | None, list[str]]]:
    """A chapter's body as shown: each block's tag, id, and the ids of its sentence spans."""
    xhtml = ElementTree.fromstring(book.member(book.spine()[chapter].attrib["href"]))
    section = xhtml.find(".//x:section", NS)
    assert section is not None
    return [
        (
            block.tag.rsplit("}", 1)[1],
            block.get("id"),
            [s.attrib["id"] for s in block.findall("x:span", NS) if "w" not in s.attrib["id"]],
        )
        for block in section
    ]


def _write_as_the_old_version(path: Path) -> None:
    """The manifest as the version before paragraphs wrote it: the same JSON object
    (`json.dumps(asdict(manifest), ensure_ascii=False)`) without `paragraphs` (nor the
    layout kept since), put in place whole as `BookFolder` puts it."""
    data = json.loads(path.read_text("utf-8"))
    assert data.pop("paragraphs") == [[0, 8, 47, 83], [0, 9, 43]]  # the new plan kept them
    # Nor how the text is shown: English sentences a space apart, each heading's stop added.
    assert (data.pop("joined"), data.pop("endings")) == ([[], []], [[[7, ""]], [[8, ""]]])
    staged = path.with_name("manifest.old.json")
    staged.write_bytes(json.dumps(data, ensure_ascii=False).encode())
    staged.replace(path)


def test_a_book_planned_before_paragraphs_were_kept_joins_a_sentence_a_paragraph(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """The book's manifest is rewritten in the old shape as soon as it is planned (a part a
    turn, its sentences slow, so the book is joined turns later): the EPUB is made, each
    sentence a `<p>` of its own with the id its overlay names, as that version made them."""
    client = make_client(
        **{**TONES, "default_voice": "tone:slow"},
        parallel_sentences=1,
        book_turns=1,
    )
    r = client.post(
        "/jobs", files={"file": ("story.md", STORY, "text/markdown")}, data={"format": "epub"}
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    manifest = tmp_path / "data" / "books" / job_id / "manifest.json"
    _write_as_the_old_version(manifest)
    assert BookManifest.from_json(json.loads(manifest.read_text("utf-8"))).paragraphs == ()
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    book = read_along(client.get(job["audio_url"]).content)
    first, second = _blocks(book, 0), _blocks(book, 1)
    assert first == [("h1", "s1", [])] + [("p", f"s{n}", []) for n in range(2, 7)]
    assert second == [("h1", "s1", [])] + [("p", f"s{n}", []) for n in range(2, 6)]
    # Each <p> is one sentence of the book, in order, and its overlay plays it.
    text = ElementTree.fromstring(book.member(book.spine()[0].attrib["href"]))
    shown = ["".join(p.itertext()) for p in text.iter(f"{{{NS['x']}}}p")]
    assert shown == [
        "The sea was quiet.",
        "The gulls slept on the water.",
        "Nobody spoke on deck.",
        "The sails hung loose.",
        "Then a bell rang below.",
    ]
    clips = book.clips(book.spine()[0])
    assert {c.fragment.split("w")[0] for c in clips} == {f"s{n}" for n in range(1, 7)}


@pytest.mark.parametrize(
    ("text", "text_format", "lexicon", "written"),
    [
        (
            "# The Meeting\n\nThe W3C met in Paris. Everyone came.\n\n"
            "Then the W3C left. Rain fell.\n\nNobody stayed.\n",
            "markdown",
            [{"term": "W3C", "replacement": "World Wide Web Consortium"}],
            [
                "The W3C met in Paris. Everyone came.",
                "Then the W3C left. Rain fell.",
                "Nobody stayed.",
            ],
        ),
        (
            # An alias shorter than its term by more than the sentence after it.
            "# The Meeting\n\nThe World Wide Web Consortium met. Rain fell.\n\n"
            "Then it left. Nobody stayed.\n",
            "markdown",
            [{"term": "World Wide Web Consortium", "replacement": "W3C"}],
            ["The World Wide Web Consortium met. Rain fell.", "Then it left. Nobody stayed."],
        ),
        (
            "第一章 开会\n\n我们在 WHO 开会。大家都来了。\n\n"
            "后来 WHO 走了。下雨了。\n\n没有人留下。",
            "plain",
            [{"term": "WHO", "replacement": "世界 卫生 组织"}],
            ["我们在 WHO 开会。大家都来了。", "后来 WHO 走了。下雨了。", "没有人留下。"],
        ),
    ],
    ids=["longer-alias", "shorter-alias", "chinese"],
)
def test_a_lexicon_alias_leaves_the_paragraphs_and_the_text_as_written(
    make_client: Callable[..., TestClient],
    text: str,
    text_format: str,
    lexicon: list[dict[str, str]],
    written: list[str],
) -> None:
    """The tone voice beeps each word it is given, the alias's words included: the book shows
    its text as written (the term, not its alias), in its own paragraphs, and the term is a
    word of its own whose clip holds all its alias's beeps."""
    client = make_client(**TONES)
    r = client.post(
        "/jobs",
        json={"text": text, "format": "epub", "text_format": text_format, "lexicon": lexicon},
    )
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done", job
    book = read_along(client.get(job["audio_url"]).content)
    (content,) = book.spine()
    xhtml = ElementTree.fromstring(book.member(content.attrib["href"]))
    shown = ["".join(p.itertext()) for p in xhtml.iter(f"{{{NS['x']}}}p")]
    # Chinese sentences are shown a space apart (each its own element).
    assert [re.sub(r"\s", "", p) for p in shown] == [re.sub(r"\s", "", p) for p in written]
    term = lexicon[0]["term"]
    clips = book.clips(content)
    terms = [c for c in clips if c.text == term]
    assert len(terms) == sum(p.count(term) for p in written)
    samples, rate = decoded(book.member(clips[0].audio))
    for word in terms:
        cut = samples[round(word.begin * rate) : round(word.end * rate)]
        assert beeps(cut, rate) == len(lexicon[0]["replacement"].split())
    # The timings keep both: the piece as said (the alias), and as written.
    pieces = client.get(job["timings_url"]).json()["pieces"]
    aliased = [p for p in pieces if "written" in p]
    assert aliased and all(term in p["written"] and term not in p["text"] for p in aliased)


def beeps(samples: np.ndarray, rate: int) -> int:
    """How many beeps of the tone voice decoded audio holds (runs of loud 5 ms frames)."""
    size = rate // 200
    frames = np.abs(samples[: samples.size // size * size]).reshape(-1, size)
    loud = frames.max(axis=1) > 0.2
    return int(np.count_nonzero(loud & ~np.concatenate([[False], loud[:-1]])))
