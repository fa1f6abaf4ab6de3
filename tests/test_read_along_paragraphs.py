"""Read-along paragraphs where the plan and the speech disagree with the book: a book
planned by the version before paragraphs were kept (its manifest has none), and a lexicon
alias said in place of a word of a different length. The EPUB is read back as a reading
system reads it (`test_read_along.read_along`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from defusedxml import ElementTree
from fastapi.testclient import TestClient

from conftest import TONES, wait_done
from sayfile.books.parts import BookManifest
from test_read_along import NS, ReadAlong, read_along

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
    (`json.dumps(asdict(manifest), ensure_ascii=False)`) without `paragraphs`, put in place
    whole as `BookFolder` puts it."""
    data = json.loads(path.read_text("utf-8"))
    assert data.pop("paragraphs") == [[0, 8, 47, 83], [0, 9, 43]]  # the new plan kept them
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
