"""A read-along chapter's documents, made from its timings: XHTML content documents (each
sentence an element with an id in its paragraph, each timed word a span with an id; a long
chapter cut at paragraphs), each with its SMIL Media Overlay (a `<par>` per word where the
engine timed words, per sentence otherwise), whose clips are times in the chapter's own
audio file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr

from sayfile.audio.timings import Timing, Timings

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
SMIL_NS = "http://www.w3.org/ns/SMIL"
# The class a reading system puts on the element being read (the package's
# `media:active-class`); the style sheet shows it.
ACTIVE_CLASS = "read-along-active"
STYLE_SHEET = "read-along.css"
STYLE = f"""body {{ line-height: 1.5; }}
p {{ margin: 0 0 0.6em 0; }}
.{ACTIVE_CLASS} {{ background-color: #ffe27a; color: #000; border-radius: 0.15em; }}
"""
# The id of the element holding a chapter's text, which its overlay's outer `<seq>` names.
_SECTION = "text"
# A chapter is cut into content documents of about this many characters: a reading system
# loads a whole document and its overlay to show any page of it (a novel of a million
# characters that is one chapter would be a 4 MB document and a 40 MB overlay), and older
# ones refuse documents over 300 KB, which this many characters with word spans stay under.
DOCUMENT_CHARS = 30_000
# Sentence ends a heading is said with (the readers add one so it is said as a sentence).
_HEADING_ENDS = ".。!！?？:："
# The full stops a book's reader adds to end a paragraph as a sentence.
_STOPS = ".。"
# Where a paragraph begins inside a piece, in its text as shown (a line break in XHTML).
_NEW_PARAGRAPH = "\n"
# A heading is at most this many sentences as the sentence cutter cuts them.
_MAX_HEADING_PIECES = 4


@dataclass(frozen=True, slots=True)
class Layout:
    """How a chapter's text is shown beside what is said, each place counted in the
    characters of its text other than white space (what survives its cutting into sentences
    and pieces): where its paragraphs begin, where a sentence follows the one before with no
    space between (Chinese and Japanese ones), and the full stops its reader added to end a
    paragraph as a sentence (a heading, a list item), each with what was written in its place
    (nothing, or the comma or colon it replaced). `Chapter.layout` makes it."""

    paragraphs: tuple[int, ...] = ()
    joined: tuple[int, ...] = ()
    endings: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Clip:
    """The element `fragment` of a content document is heard from `begin` to `end` seconds
    into its audio file."""

    fragment: str
    begin: float
    end: float


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a chapter: its clip, and its words' clips (empty where the engine did
    not time words or none of them was found in the sentence's text)."""

    clip: Clip
    words: tuple[Clip, ...]


@dataclass(frozen=True, slots=True)
class ReadAlongDocument:
    """One content document of a read-along chapter: its file name without extension
    (`document_name`), its XHTML, its overlay, the clips the overlay plays, and its overlay's
    `media:duration`: from where the document before it ends (the file's start for the
    first) to where the next begins (the file's end for the last), so a chapter's documents
    last as long as its audio."""

    stem: str
    xhtml: str
    smil: str
    sentences: tuple[Sentence, ...]
    duration: float


def read_along_chapter(
    title: str,
    number: int,
    timings: Timings,
    audio_href: str,
    language: str,
    played_s: float,
    lead_s: float = 0.0,
    layout: Layout | None = None,
    document_chars: int = DOCUMENT_CHARS,
) -> Iterator[ReadAlongDocument]:
    """Chapter `number` (from 1) of a book, titled `title`, written from its `timings`: the
    XHTML text and the SMIL overlay that plays `audio_href`, which a player plays for
    `played_s` seconds. `lead_s` is how much later than the timings say a decoder plays the
    audio (an mp3 encoder's delay), added to every clip (which ends by `played_s`). The
    first sentences that are the title are the chapter's heading. Pieces are shown as
    written (a piece's `written`, where a lexicon alias was said), laid out as the chapter's
    `layout` says (its pieces as written tile the text it counts in): each paragraph a `<p>`
    of its sentences, a space between them only where the text has one, and without the
    stops its reader added (a piece said across paragraphs breaks its line where the next
    begins); without paragraphs, each sentence is a paragraph. A chapter
    longer than `document_chars` characters is several documents, each begun at the first
    paragraph past that many; they are made one at a time, as they are taken."""
    layout = layout or Layout()
    body = _Body(layout.paragraphs)
    sentences: list[Sentence] = []
    by_piece = _words_by_piece(timings)
    pieces = [(n, p) for n, p in enumerate(timings.pieces) if p.text.strip()]
    shown = list(_shown(pieces, layout))
    heading = _heading_pieces(title, [text for text, _, _ in shown])
    part, size, begun = 1, 0, 0.0

    def document(ends: float) -> ReadAlongDocument:
        stem = document_name(number, part)
        return ReadAlongDocument(
            stem=stem,
            xhtml=_xhtml(title, language, body.lines()),
            smil=_smil(f"{stem}.xhtml", audio_href, sentences),
            sentences=tuple(sentences),
            duration=ends - begun,
        )

    for place, ((index, piece), (text, length, joined)) in enumerate(
        zip(pieces, shown, strict=True), 1
    ):
        sentence_id = f"s{place}"
        if place == heading and text[-1:] in _HEADING_ENDS and not title.endswith(text[-1]):
            # A heading shows as its title was written, without the stop it was said with
            # (by a book planned before its reader's stops were kept).
            text = text[:-1]
        inner, word_clips = _marked_words(text, by_piece.get(index, ()), sentence_id, lead_s)
        # A piece the engine was given whole across paragraphs (espeak-ng joins short
        # sentences: a heading and the first sentence after it) breaks its line where the
        # next paragraph begins.
        inner = inner.replace(_NEW_PARAGRAPH, "<br/>")
        clip = Clip(sentence_id, piece.start + lead_s, min(piece.end + lead_s, played_s))
        new_paragraph = body.next_sentence(length)
        if new_paragraph and size >= document_chars:
            yield document(clip.begin)
            part, size, begun, sentences = part + 1, 0, clip.begin, []
        if place <= heading:
            body.add_heading(sentence_id, inner, joined, last=place == heading)
        else:
            body.add(sentence_id, inner, new_paragraph, joined)
        size += length
        words = tuple(replace(w, end=min(w.end, played_s)) for w in word_clips)
        sentences.append(Sentence(clip, words))
    yield document(played_s)


def _shown(pieces: Sequence[tuple[int, Timing]], layout: Layout) -> Iterator[tuple[str, int, bool]]:
    """Each of `pieces` as the text shows it (as `read_along_chapter` says), how many
    characters other than white space it has as said, and whether it follows the piece
    before with no space between."""
    joined = frozenset(layout.joined)
    endings = dict(layout.endings)
    paragraphs = frozenset(layout.paragraphs)
    at = 0
    for _, piece in pieces:
        # The text as written: a lexicon alias is heard, not shown (nor counted).
        written = piece.written or piece.text
        out: list[str] = []
        space = False
        begins = at
        for char in written:
            if char.isspace():
                space = True
                continue
            if out and at in paragraphs:
                out.append(_NEW_PARAGRAPH)
            elif space and out and at not in joined:
                out.append(" ")
            space = False
            out.append(endings.get(at, char) if char in _STOPS else char)
            at += 1
        yield "".join(out), at - begins, begins in joined


def _heading_pieces(title: str, shown: Sequence[str]) -> int:
    """How many of the first pieces, `shown` as the text shows them, are the title (a
    heading the sentence cutter cut, "Chapter 1." and "Loomings"), or 0."""
    wanted = "".join(title.split()).rstrip(_HEADING_ENDS)
    found = ""
    for count, text in enumerate(shown[:_MAX_HEADING_PIECES], 1):
        found += "".join(text.split())
        if found.rstrip(_HEADING_ENDS) == wanted:
            return count if wanted else 0
        if not wanted.startswith(found):
            return 0
    return 0


class _Body:
    """A chapter's XHTML body as its sentences come: the heading an `<h1>`, and each
    sentence a `<span>` in the `<p>` of the paragraph it begins in (or, with no paragraphs
    known, a `<p>` of its own), so the ids the overlay names are the sentences either way;
    taken a document at a time (`lines`)."""

    def __init__(self, paragraphs: Sequence[int]) -> None:
        self._starts = sorted(paragraphs)
        self._next = 0  # the first paragraph start not yet passed
        self._at = 0  # where the next sentence begins (characters but white space)
        self._done: list[str] = []
        self._open: list[str] = []
        self._heading: list[str] = []

    def next_sentence(self, length: int) -> bool:
        """Whether the next sentence, `length` characters of the chapter's text (white space
        not counted), begins a paragraph (a paragraph starts within it, or none are known)."""
        begins = False
        while self._next < len(self._starts) and self._starts[self._next] < self._at + length:
            self._next += 1
            begins = True
        self._at += length
        return begins or not self._starts

    def add(self, sentence_id: str, inner: str, new_paragraph: bool, joined: bool) -> None:
        """The sentence `next_sentence` was asked about, as XHTML `inner`, after the one
        before with no space between where `joined`."""
        if not self._starts:
            self._close()
            self._done.append(f'<p id="{sentence_id}">{inner}</p>')
            return
        if new_paragraph:
            self._close()
        space = "" if joined or not self._open else " "
        self._open.append(f'{space}<span id="{sentence_id}">{inner}</span>')

    def add_heading(self, sentence_id: str, inner: str, joined: bool, last: bool) -> None:
        """A sentence of the heading, as `add` takes one; the heading is shown at its `last`:
        an `<h1>` that is the sentence, or holds each of its sentences."""
        space = "" if joined or not self._heading else " "
        self._heading.append(f'{space}<span id="{sentence_id}">{inner}</span>')
        if not last:
            return
        self._close()
        if len(self._heading) == 1:
            self._done.append(f'<h1 id="{sentence_id}">{inner}</h1>')
        else:
            self._done.append("<h1>" + "".join(self._heading) + "</h1>")
        self._heading = []

    def lines(self) -> list[str]:
        """The blocks so far, the open paragraph closed; the next document starts empty."""
        self._close()
        done, self._done = self._done, []
        return done

    def _close(self) -> None:
        if self._open:
            self._done.append("<p>" + "".join(self._open) + "</p>")
            self._open = []


def chapter_name(number: int, extension: str) -> str:
    """The file name of chapter `number`'s (first) document (or audio) in the package."""
    return f"chapter-{number:03d}.{extension}"


def document_name(number: int, part: int) -> str:
    """The name, without extension, of document `part` (from 1) of chapter `number`."""
    return chapter_name(number, "")[:-1] + ("" if part == 1 else f"-{part}")


def clock(seconds: float) -> str:
    """A SMIL full clock value (`0:01:02.345`), as `media:duration` takes it."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _words_by_piece(timings: Timings) -> dict[int, list[Timing]]:
    found: dict[int, list[Timing]] = {}
    for word in timings.words or ():
        if word.sentence is not None:
            found.setdefault(word.sentence, []).append(word)
    return found


def _marked_words(
    text: str, words: Sequence[Timing], sentence_id: str, lead_s: float
) -> tuple[str, list[Clip]]:
    """`text` as XHTML with each of `words` found in it, in order, in a span of its own; the
    words' clips. A word not found after the one before (the engine said it otherwise) has no
    span: its time stays within its sentence's clip."""
    out: list[str] = []
    clips: list[Clip] = []
    cursor = 0
    for word in words:
        shown = word.text
        at = text.find(shown, cursor) if shown else -1
        if at < 0 and shown.rstrip(_HEADING_ENDS):
            # A paragraph's last word, said with the stop it is shown without (a heading).
            shown = shown.rstrip(_HEADING_ENDS)
            at = text.find(shown, cursor)
        if at < cursor:
            continue
        word_id = f"{sentence_id}w{len(clips) + 1}"
        out.append(escape(text[cursor:at]))
        out.append(f'<span id="{word_id}">{escape(shown)}</span>')
        cursor = at + len(shown)
        clips.append(Clip(word_id, word.start + lead_s, max(word.end, word.start) + lead_s))
    out.append(escape(text[cursor:]))
    return "".join(out), clips


def _xhtml(title: str, language: str, body: Sequence[str]) -> str:
    lang = quoteattr(language)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE html>",
        f'<html xmlns="{XHTML_NS}" xmlns:epub="{OPS_NS}" xml:lang={lang} lang={lang}>',
        "<head>",
        '<meta charset="UTF-8"/>',
        f"<title>{escape(title)}</title>",
        f'<link rel="stylesheet" type="text/css" href="{STYLE_SHEET}"/>',
        "</head>",
        "<body>",
        f'<section id="{_SECTION}" epub:type="chapter">',
        *body,
        "</section>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


def _heard(clip: Clip) -> bool:
    """Whether `clip` lasts, as the overlay writes its times (to the millisecond)."""
    return round(clip.end, 3) > round(clip.begin, 3)


def _smil(xhtml_name: str, audio_href: str, sentences: Sequence[Sentence]) -> str:
    """The overlay: a `<seq>` per sentence holding a `<par>` per word where words are timed
    (so reading systems highlight the word and know its sentence), else a `<par>` for the
    sentence."""
    audio = quoteattr(audio_href)

    def par(clip: Clip) -> str:
        src = quoteattr(f"{xhtml_name}#{clip.fragment}")
        return (
            f'<par id="p-{clip.fragment}"><text src={src}/>'
            f'<audio src={audio} clipBegin="{clip.begin:.3f}s" clipEnd="{clip.end:.3f}s"/></par>'
        )

    def entries() -> Iterator[str]:
        # A clip of no time (a mark said with no sound: the full stop after a word a lexicon
        # says) is no clip: EPUB 3 wants clipEnd after clipBegin (epubcheck's MED-009). Its
        # text stays in the chapter, unhighlighted.
        for sentence in sentences:
            words = [word for word in sentence.words if _heard(word)]
            if not words:
                if _heard(sentence.clip):
                    yield par(sentence.clip)
                continue
            ref = quoteattr(f"{xhtml_name}#{sentence.clip.fragment}")
            yield f'<seq id="q-{sentence.clip.fragment}" epub:textref={ref}>'
            yield from map(par, words)
            yield "</seq>"

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<smil xmlns="{SMIL_NS}" xmlns:epub="{OPS_NS}" version="3.0">',
        "<body>",
        f'<seq id="chapter" epub:textref={quoteattr(f"{xhtml_name}#{_SECTION}")} '
        'epub:type="chapter">',
        *entries(),
        "</seq>",
        "</body>",
        "</smil>",
    ]
    return "\n".join(lines) + "\n"
