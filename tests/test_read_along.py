"""Read-along books (`format=epub`): an EPUB 3 whose Media Overlays play the chapters' audio
with the text. The package is read back as a reading system reads it (container, package
document, nav, content documents, SMIL), and every clip is checked against the audio file
decoded on its own: with the tone engine each word is a beep, so a word's clip must hold its
beep and start where it starts."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import subprocess
import wave
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from conftest import TONES, book_done, sayfile_cli, wait_done
from listening import Listener, word_error_rate
from sayfile.audio.formats import FORMATS, open_encoder
from sayfile.audio.joining import join_audio, played
from sayfile.audio.timings import Timing, Timings
from sayfile.books.read_along import read_along_chapter
from sayfile.books.read_along_epub import BookAudio, ChapterAudio, job_identifier, write_read_along
from sayfile.books.reading import read_book

DATA = Path(__file__).parent / "data"
MOBY = (DATA / "moby-dick-epub3.epub").read_bytes()
NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "s": "http://www.w3.org/ns/SMIL",
    "epub": "http://www.idpf.org/2007/ops",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CLOCK = re.compile(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)")


@dataclass
class Clip:
    """One `<par>` of an overlay: the element of the text it shows, and the audio it plays."""

    document: str
    fragment: str
    text: str
    audio: str
    begin: float
    end: float


@dataclass
class ReadAlong:
    """An EPUB as a reading system finds it."""

    archive: zipfile.ZipFile
    package: ElementTree.Element
    root: str

    def member(self, href: str) -> bytes:
        return self.archive.read(f"{self.root}{href}")

    def meta(self, prop: str, refines: str | None = None) -> list[str]:
        return [
            m.text or ""
            for m in self.package.iterfind("opf:metadata/opf:meta", NS)
            if m.get("property") == prop and m.get("refines") == refines
        ]

    def items(self) -> dict[str, ElementTree.Element]:
        return {i.attrib["id"]: i for i in self.package.iterfind("opf:manifest/opf:item", NS)}

    def spine(self) -> list[ElementTree.Element]:
        items = self.items()
        return [
            items[r.attrib["idref"]] for r in self.package.iterfind("opf:spine/opf:itemref", NS)
        ]

    def clips(self, content: ElementTree.Element) -> list[Clip]:
        """The overlay of a content document, each clip with the text of the element it names."""
        overlay = self.items()[content.attrib["media-overlay"]]
        smil = ElementTree.fromstring(self.member(overlay.attrib["href"]))
        document = content.attrib["href"]
        xhtml = ElementTree.fromstring(self.member(document))
        ids = {e.attrib["id"]: "".join(e.itertext()) for e in xhtml.iter() if "id" in e.attrib}
        found = []
        for par in smil.iter(f"{{{NS['s']}}}par"):
            text, audio = par.find("s:text", NS), par.find("s:audio", NS)
            assert text is not None and audio is not None
            name, fragment = text.attrib["src"].split("#")
            assert name == document and fragment in ids, text.attrib  # the id resolves
            found.append(
                Clip(
                    name,
                    fragment,
                    ids[fragment],
                    audio.attrib["src"],
                    float(audio.attrib["clipBegin"].removesuffix("s")),
                    float(audio.attrib["clipEnd"].removesuffix("s")),
                )
            )
        return found


def read_along(data: bytes) -> ReadAlong:
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    # A reading system knows the file by its first bytes: the mimetype, first and stored.
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert archive.read("mimetype") == b"application/epub+zip"
    container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
    rootfile = container.find("c:rootfiles/c:rootfile", NS)
    assert rootfile is not None
    path = rootfile.attrib["full-path"]
    package = ElementTree.fromstring(archive.read(path))
    return ReadAlong(archive, package, path.rsplit("/", 1)[0] + "/" if "/" in path else "")


def seconds(clock: str) -> float:
    match = _CLOCK.fullmatch(clock)
    assert match, clock
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])


def decoded(data: bytes) -> tuple[np.ndarray, int]:
    """The audio file's samples as FFmpeg decodes it (PyAV), mono float, and their rate."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
        return samples.astype(np.float64), stream.codec_context.sample_rate


def assert_on_beeps(clips: list[Clip], samples: np.ndarray, rate: int) -> None:
    """Each word's beep (the tone engine's) is heard from its clip's start (within 3 ms) to
    its end, and not in the 20 ms before it."""
    loud = np.abs(samples) > 0.1
    for clip in clips:
        first, last = round(clip.begin * rate), round(clip.end * rate)
        assert loud[first + rate * 3 // 1000 : last - rate * 3 // 1000].mean() > 0.5, clip
        assert not loud[first - rate // 50 : first - rate * 3 // 1000].any(), clip


def _book(client: TestClient) -> tuple[dict[str, Any], ReadAlong, bytes]:
    job = book_done(client, "moby.epub", MOBY, "application/epub+zip", format="epub")
    download = client.get(job["audio_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/epub+zip"
    assert 'filename="moby-dick.epub"' in download.headers["content-disposition"]
    return job, read_along(download.content), download.content


def test_a_book_as_epub_holds_its_text_its_chapters_audio_and_overlays_that_match_them(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    listed = client.post(
        "/books/chapters",
        files={"file": ("moby.epub", MOBY, "application/epub+zip")},
        data={"format": "epub"},
    ).json()
    assert (listed["format"], listed["bitrates"]) == ("epub", [32, 48, 64, 96])  # mp3's
    job, book, _ = _book(client)
    assert job["format"] == "epub"
    assert book.package.attrib["version"] == "3.0"
    title = book.package.find("opf:metadata/dc:title", NS)
    language = book.package.find("opf:metadata/dc:language", NS)
    assert title is not None and title.text == "Moby-Dick"
    assert language is not None and language.text == "en-US"
    assert book.meta("media:active-class") == ["read-along-active"]
    assert b".read-along-active" in book.member("read-along.css")
    made = [c["title"] for c in job["chapters"] if not c["skipped"]]
    nav = next(i for i in book.items().values() if i.get("properties") == "nav")
    nav_doc = ElementTree.fromstring(book.member(nav.attrib["href"]))
    assert ["".join(a.itertext()) for a in nav_doc.iter(f"{{{NS['x']}}}a")] == made
    words = client.get(job["timings_url"]).json()["words"]
    spine = book.spine()
    assert len(spine) == len(made) == 2
    total = 0.0
    heard_words: list[str] = []
    for content in spine:
        xhtml = ElementTree.fromstring(book.member(content.attrib["href"]))
        assert xhtml.attrib[XML_LANG] == "en-US"
        clips = book.clips(content)
        overlay = content.attrib["media-overlay"]
        duration = seconds(book.meta("media:duration", f"#{overlay}")[0])
        total += duration
        (audio,) = {clip.audio for clip in clips}  # one audio file per chapter
        audio_item = next(i for i in book.items().values() if i.attrib["href"] == audio)
        assert audio_item.attrib["media-type"] == "audio/mpeg"
        samples, rate = decoded(book.member(audio))
        assert duration == pytest.approx(len(samples) / rate, abs=0.01)
        # Clips follow each other, each within the file.
        assert all(c.begin < c.end <= len(samples) / rate for c in clips)
        assert all(a.end <= b.begin for a, b in itertools.pairwise(clips))
        assert_on_beeps(clips, samples, rate)
        heard_words += [clip.text for clip in clips]
    # Every word the engine timed is a clip of its own, in order, its text the word.
    assert heard_words == [w["text"] for w in words]
    assert seconds(book.meta("media:duration")[0]) == pytest.approx(total, abs=0.002)
    assert_paragraphs_kept(book, MOBY, "moby.epub")


def assert_paragraphs_kept(book: ReadAlong, source: bytes, name: str) -> None:
    """Each chapter's paragraphs are <p>s of its sentences, in order, as the book wrote them
    (but for a heading shown as an <h1>): spaced as written, without the stops its reader
    added to what is said."""
    chapters = [c for c in read_book(source, name) if not c.skipped]
    for content, chapter in zip(book.spine(), chapters, strict=True):
        xhtml = ElementTree.fromstring(book.member(content.attrib["href"]))
        shown = ["".join(p.itertext()) for p in xhtml.iter(f"{{{NS['x']}}}p")]
        ends = [*chapter.paragraphs[1:], len(chapter.text) + 1]
        letters = list(chapter.text)
        for offset, in_place in chapter.endings:
            letters[offset] = in_place
        written = [
            "".join(letters[a : b - 1]) for a, b in zip(chapter.paragraphs, ends, strict=True)
        ]
        headings = len(list(xhtml.iter(f"{{{NS['x']}}}h1")))
        assert shown == written[headings:]


def test_a_books_paragraphs_stay_paragraphs_of_its_sentences(
    make_client: Callable[..., TestClient],
) -> None:
    story = (
        b"# The Calm\n\nThe sea was quiet. The gulls slept on the water.\n\n"
        b"Nobody spoke on deck. The sails hung loose.\n\nThen a bell rang below.\n\n"
        b"# The Storm\n\nThe wind rose at noon. Rain came after it.\n\n"
        b"By night the waves were high. The ship rolled.\n"
    )
    client = make_client(**TONES)
    job = book_done(client, "story.md", story, "text/markdown", format="epub")
    book = read_along(client.get(job["audio_url"]).content)
    assert_paragraphs_kept(book, story, "story.md")
    first = ElementTree.fromstring(book.member(book.spine()[0].attrib["href"]))
    paragraphs = list(first.iter(f"{{{NS['x']}}}p"))
    assert len(paragraphs) == 3
    # Each sentence is an element of its own inside its paragraph, named by the overlay.
    sentences = [[span.attrib["id"] for span in p.findall("x:span", NS)] for p in paragraphs]
    assert sentences == [["s2", "s3"], ["s4", "s5"], ["s6"]]
    smil = ElementTree.fromstring(book.member("chapter-001.smil"))
    named = {
        seq.attrib[f"{{{NS['epub']}}}textref"].split("#")[1]
        for seq in smil.iter()
        if f"{{{NS['epub']}}}textref" in seq.attrib
    }
    assert {"s2", "s3", "s4", "s5", "s6"} <= named


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("lu-xun-nahan.gb18030.txt", "text/plain"),
        ("nahan-calibre-epub2.epub", "application/epub+zip"),
        ("blog-post-links.md", "text/markdown"),
    ],
)
def test_real_books_keep_their_paragraphs(
    make_client: Callable[..., TestClient], name: str, media_type: str
) -> None:
    """Real files people have (a GB18030 text, a Calibre EPUB 2, a Markdown article): each
    paragraph as the book has it, Chinese ones included (whose sentences have no space
    between them in the text)."""
    data = (DATA / name).read_bytes()
    client = make_client(**TONES)
    job = book_done(client, name, data, media_type, format="epub")
    assert_paragraphs_kept(read_along(client.get(job["audio_url"]).content), data, name)


def test_a_chinese_text_as_epub_is_a_book_in_chinese_whatever_its_length(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(**TONES)
    text = "第一章 风起\n\n风越来越大。树都弯了腰。\n\n第二章 雨落\n\n雨也下起来了。"
    r = client.post("/jobs", json={"text": text, "format": "epub"})
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"])
    assert job["status"] == "done" and job["format"] == "epub", job
    book = read_along(client.get(job["audio_url"]).content)
    language = book.package.find("opf:metadata/dc:language", NS)
    assert language is not None and language.text == "zh"
    texts = []
    for content in book.spine():
        xhtml = ElementTree.fromstring(book.member(content.attrib["href"]))
        assert xhtml.attrib[XML_LANG] == "zh"
        heading = xhtml.find(".//x:h1", NS)
        assert heading is not None
        texts.append("".join(xhtml.itertext()))
    assert "风越来越大。" in texts[0] and "雨也下起来了。" in texts[1]
    assert texts[0].count("第一章 风起") == 2  # the document's title and its heading
    assert "第一章 风起。" not in texts[0]  # the heading as written, not as said


def test_epub_is_refused_where_no_book_is_made(make_client: Callable[..., TestClient]) -> None:
    client = make_client(**TONES)
    r = client.post("/speech", json={"text": "Hello there.", "format": "epub"})
    assert r.status_code == 422
    detail = str(r.json())
    assert "book" in detail and "mp3" in detail and "opus" in detail
    ssml = {"text": "<speak>Hello.</speak>", "format": "epub"}
    assert client.post("/jobs", json=ssml).status_code == 422
    r = client.post(
        "/jobs",
        files={"file": ("moby.epub", MOBY, "application/epub+zip")},
        data={"format": "epub", "package": "zip"},
    )
    assert r.status_code == 422 and "package" in str(r.json())


@pytest.fixture(scope="session")
def epubcheck() -> list[str]:
    """Debian's epubcheck, run by the JRE (its /usr/bin entry is the jar itself, which only
    a registered binfmt handler would run)."""
    found, java = shutil.which("epubcheck"), shutil.which("java")
    if found is None or java is None:
        pytest.fail("epubcheck or java missing: run `make test`, which installs epubcheck")
    return [java, "-jar", str(Path(found).resolve())]


@pytest.mark.slow
def test_epubcheck_finds_nothing_wrong_with_a_read_along_book(
    make_client: Callable[..., TestClient], epubcheck: list[str], tmp_path: Path
) -> None:
    client = make_client(**TONES)
    _, _, data = _book(client)
    book = tmp_path / "moby.epub"
    book.write_bytes(data)
    checked = subprocess.run(
        [*epubcheck, "--failonwarnings", str(book)], capture_output=True, text=True, check=False
    )
    report = checked.stdout + checked.stderr
    assert checked.returncode == 0 and "No errors or warnings detected" in report, report


def test_a_mark_said_with_no_sound_has_no_clip() -> None:
    # The full stop after a word a lexicon says (Kokoro) is a piece of its own, of no time;
    # its clip, clipBegin the same as clipEnd, was an error to epubcheck (MED-009).
    timings = Timings(
        (Timing(0.0, 1.2, "I like Nguyen"), Timing(1.2, 1.2, "."), Timing(1.5, 2.5, "He is.")),
        None,
        2.5,
    )
    (document,) = read_along_chapter("One", 1, timings, "a.mp3", "en", 2.5)
    assert 'clipBegin="1.200s" clipEnd="1.200s"' not in document.smil
    assert document.smil.count("<par ") == 2 and "Nguyen" in document.xhtml


ENGLISH_BOOK = """# The Harbour

The boats came back before the storm. Every sailor tied his rope twice.

# The Lighthouse

An old keeper climbed the stairs at dusk. His lamp burned all night long.
"""


def _wav(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


@pytest.mark.slow
def test_kokoros_book_as_epub_overlays_each_word_and_a_sentences_clips_say_it(
    make_client: Callable[..., TestClient], listener: Listener
) -> None:
    """A Markdown text of two short chapters by Kokoro: a clip per word, and the clips of one
    sentence in each chapter, cut from the chapter's audio decoded on its own, are heard by
    Whisper as that sentence and nothing of its neighbours."""
    client = make_client(engines=["kokoro"], default_voice="kokoro:af_heart", book_above_chars=50)
    r = client.post(
        "/jobs", json={"text": ENGLISH_BOOK, "format": "epub", "text_format": "markdown"}
    )
    assert r.status_code == 202, r.text
    job = wait_done(client, r.json()["status_url"], timeout=300)
    assert job["status"] == "done", job
    book = read_along(client.get(job["audio_url"]).content)
    timed = client.get(job["timings_url"]).json()["words"]
    spine = book.spine()
    assert len(spine) == 2
    clips = [book.clips(content) for content in spine]
    assert [c.text for chapter in clips for c in chapter] == [w["text"] for w in timed]
    for content, chapter in zip(spine, clips, strict=True):
        samples, rate = decoded(book.member(chapter[0].audio))
        assert all(a.begin < a.end <= b.begin for a, b in itertools.pairwise(chapter))
        assert chapter[-1].end <= len(samples) / rate
        xhtml = ElementTree.fromstring(book.member(content.attrib["href"]))
        # The chapter's second sentence (its first is its heading): its words' clips together.
        sentence = xhtml.find(".//x:p/x:span[@id]", NS)
        assert sentence is not None
        words = [c for c in chapter if c.fragment.startswith(sentence.attrib["id"] + "w")]
        said = "".join(sentence.itertext())
        cut = samples[round(words[0].begin * rate) : round(words[-1].end * rate)]
        # Heard with a quarter second of silence around it, as a sentence is said: a cut
        # that begins right at a word's onset sways Whisper ("An old" heard as "and old").
        heard = listener.hear(_wav(np.pad(cut, round(0.25 * rate)), rate), "en")
        print(f"{said!r} heard as {heard!r}")
        assert word_error_rate(said, heard) <= 0.2, (said, heard)


def tone_chapter(bursts: list[tuple[float, float]], length: float, rate: int, folder: Path) -> Path:
    """A chapter's mp3, joined as a book's chapters are: `length` seconds, a 440 Hz tone at
    each (start, end) of `bursts` and silence between."""
    samples = np.zeros(int(length * rate), dtype=np.int16)
    for start, end in bursts:
        span = np.arange(int(start * rate), int(end * rate))
        samples[span] = (12000 * np.sin(2 * np.pi * 440 * span / rate)).astype(np.int16)
    part = folder / "part.mp3"
    with part.open("wb") as sink:
        encoder = open_encoder(FORMATS["mp3"], rate, sink)
        encoder.write(samples)
        encoder.close()
    chapter = folder / "chapter.mp3"
    join_audio([part], FORMATS["mp3"], chapter)
    return chapter


def test_without_word_timings_each_sentence_is_one_clip_of_its_own_sound(tmp_path: Path) -> None:
    """As for Kokoro's Japanese voices (and espeak-ng through its command), which time no
    words: a `<par>` per sentence, its clip on its sound in the chapter's file (joined as a
    book's chapters are, then decoded)."""
    rate = 22050
    bursts = [(0.3, 1.1), (1.6, 2.9)]
    chapter = tone_chapter(bursts, 3.4, rate, tmp_path)
    texts = ["Chapter One.", "It was a dark and\x0c stormy night."]
    timings = Timings(
        tuple(Timing(s, e, t, "piper:x") for (s, e), t in zip(bursts, texts, strict=True)),
        None,
        3.4,
        "piper: no word timings",
    )
    heard = played(chapter)
    book = BookAudio(
        title="A Night",
        author=None,
        language="en",
        narrator="piper:x",
        identifier=job_identifier("x" * 32),
        chapters=[
            ChapterAudio(
                "Chapter One", chapter, timings, heard.seconds, heard.lead_s(FORMATS["mp3"])
            )
        ],
        audio_media_type="audio/mpeg",
    )
    target = tmp_path / "night.epub"
    write_read_along(book, target)
    epub = read_along(target.read_bytes())
    (content,) = epub.spine()
    clips = epub.clips(content)
    # The title is the heading, as written; the stray form feed XML cannot hold is gone.
    assert [(c.fragment, c.text) for c in clips] == [
        ("s1", "Chapter One"),
        ("s2", "It was a dark and stormy night."),
    ]
    decoded_samples, decoded_rate = decoded(epub.member(clips[0].audio))
    loud = np.abs(decoded_samples) > 0.2
    for clip in clips:
        first, last = round(clip.begin * decoded_rate), round(clip.end * decoded_rate)
        assert loud[first + decoded_rate // 100 : last - decoded_rate // 100].mean() > 0.3
        assert not loud[first - decoded_rate // 20 : first - decoded_rate // 200].any()


@pytest.mark.slow
def test_the_command_line_writes_a_book_as_a_read_along_epub(tmp_path: Path) -> None:
    (tmp_path / "moby.epub").write_bytes(MOBY)
    tone = {"engines": "tone", "voice": "tone:beep", "cwd": tmp_path}
    result = sayfile_cli("say", "-f", "moby.epub", "-o", "moby-read.epub", **tone)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stderr
    assert "read-along EPUB: 2 chapters" in result.stderr
    book = read_along((tmp_path / "moby-read.epub").read_bytes())
    title = book.package.find("opf:metadata/dc:title", NS)
    assert title is not None and title.text == "Moby-Dick"
    spine = book.spine()
    assert len(spine) == 2
    for content in spine:
        clips = book.clips(content)
        samples, rate = decoded(book.member(clips[0].audio))
        # The chapter's file as LAME wrote it (no header saying what to drop): clips still
        # land on their beeps.
        assert_on_beeps(clips, samples, rate)
    text = sayfile_cli("say", "Hello there.", "--format", "epub", **tone)  # type: ignore[arg-type]
    assert text.returncode == 2 and "needs a book" in text.stderr
