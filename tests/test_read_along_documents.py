"""A long chapter of a read-along book is several content documents (a novel whose chapters
a reader does not find is one chapter of a million characters): cut at paragraphs, each with
its overlay on the chapter's one audio file, the overlays' durations adding up to it. Read
back as a reading system reads the EPUB (`test_read_along.read_along`)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest
from defusedxml import ElementTree

from sayfile.audio.formats import FORMATS
from sayfile.audio.joining import played
from sayfile.audio.timings import Timing, Timings
from sayfile.books.read_along import Layout
from sayfile.books.read_along_epub import BookAudio, ChapterAudio, job_identifier, write_read_along
from test_read_along import NS, decoded, epubcheck, read_along, seconds, tone_chapter

__all__ = ["epubcheck"]  # the fixture, shared

RATE = 22050
WORD_S = 0.25  # each word a beep this long, then as long a silence


def _paragraphs() -> list[list[str]]:
    """Twelve paragraphs of two to four sentences (each of three words)."""
    count = itertools.count(1)
    return [[f"Sentence {next(count)} here." for _ in range(2 + n % 3)] for n in range(12)]


def _chapter(folder: Path) -> ChapterAudio:
    """The chapter: its title, then the paragraphs, each word a beep the timings name (as the
    tone voice says them), in an mp3 joined as a book's chapters are."""
    sentences = ["Long Chapter.", *(s for p in _paragraphs() for s in p)]
    pieces: list[Timing] = []
    words: list[Timing] = []
    at = 0.0
    for index, sentence in enumerate(sentences):
        begins = at
        for word in sentence.split():
            words.append(Timing(at, at + WORD_S, word, sentence=index))
            at += 2 * WORD_S
        pieces.append(Timing(begins, at, sentence, "tone:beep"))
    audio = tone_chapter([(w.start, w.end) for w in words], at + 0.5, RATE, folder)
    heard = played(audio)
    # Where each paragraph begins, counted in characters other than white space.
    lengths = [sum(len(s.replace(" ", "")) for s in p) for p in _paragraphs()]
    starts = tuple(itertools.accumulate(lengths[:-1], initial=len("LongChapter.")))
    return ChapterAudio(
        "Long Chapter",
        audio,
        Timings(tuple(pieces), tuple(words), at + 0.5),
        heard.seconds,
        heard.lead_s(FORMATS["mp3"]),
        Layout((0, *starts)),
    )


def _book(folder: Path, document_chars: int) -> Path:
    book = BookAudio(
        title="A Long Chapter",
        author=None,
        language="en",
        narrator="tone:beep",
        identifier=job_identifier("y" * 32),
        chapters=[_chapter(folder)],
        audio_media_type="audio/mpeg",
    )
    target = folder / "long.epub"
    write_read_along(book, target, document_chars)
    return target


def test_a_long_chapter_is_documents_cut_at_paragraphs_that_play_its_one_audio_file(
    tmp_path: Path,
) -> None:
    epub = read_along(_book(tmp_path, document_chars=100).read_bytes())
    spine = epub.spine()
    assert len(spine) > 3
    shown: list[list[str]] = []
    clips = []
    for content in spine:
        xhtml = ElementTree.fromstring(epub.member(content.attrib["href"]))
        paragraphs = list(xhtml.iter(f"{{{NS['x']}}}p"))
        # Every document but the first starts with a paragraph, whole: none is cut.
        shown += [["".join(s.itertext()) for s in p.findall("x:span", NS)] for p in paragraphs]
        clips.append(epub.clips(content))
    assert shown == _paragraphs()
    # Each document is about 100 characters: the cut comes at the first paragraph past them.
    assert all(len(c) >= 2 for c in clips)
    # One audio file for the chapter; the clips run on across the documents, in order.
    flat = [clip for document in clips for clip in document]
    assert len({clip.audio for clip in flat}) == 1
    assert all(a.end <= b.begin for a, b in itertools.pairwise(flat))
    assert [c.text for c in flat] == ["Long", "Chapter"] + [
        w for p in _paragraphs() for s in p for w in s.split()
    ]
    samples, rate = decoded(epub.member(flat[0].audio))
    loud = np.abs(samples) > 0.1
    for clip in flat:
        first, last = round(clip.begin * rate), round(clip.end * rate)
        assert loud[first + rate * 3 // 1000 : last - rate * 3 // 1000].mean() > 0.5, clip
    # The overlays' durations tile the file: each from where the one before ends.
    durations = [
        seconds(epub.meta("media:duration", f"#{c.attrib['media-overlay']}")[0]) for c in spine
    ]
    assert sum(durations) == pytest.approx(len(samples) / rate, abs=0.01)
    ends = list(itertools.accumulate(durations))
    for document, start, end in zip(clips, [0.0, *ends], ends, strict=False):
        assert start - 0.002 <= document[0].begin and document[-1].end <= end + 0.002
    # The nav lists the chapter once, at its first document.
    nav = next(i for i in epub.items().values() if i.get("properties") == "nav")
    links = ElementTree.fromstring(epub.member(nav.attrib["href"])).iter(f"{{{NS['x']}}}a")
    assert [a.attrib["href"] for a in links] == [spine[0].attrib["href"]]


def test_a_short_chapter_stays_one_document(tmp_path: Path) -> None:
    epub = read_along(_book(tmp_path, document_chars=30_000).read_bytes())
    (content,) = epub.spine()
    assert content.attrib["href"] == "chapter-001.xhtml"


@pytest.mark.slow
def test_epubcheck_finds_nothing_wrong_with_a_chapter_in_many_documents(
    epubcheck: list[str], tmp_path: Path
) -> None:
    book = _book(tmp_path, document_chars=100)
    checked = subprocess.run(
        [*epubcheck, "--failonwarnings", str(book)], capture_output=True, text=True, check=False
    )
    report = checked.stdout + checked.stderr
    assert checked.returncode == 0 and "No errors or warnings detected" in report, report
