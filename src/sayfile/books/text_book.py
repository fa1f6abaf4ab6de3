"""Plain-text books read into chapters: a chapter at each heading line ("Chapter 1",
"CHAPTER IV. The Storm", "第一章"), paragraphs between blank lines (or one a line), wrapped
lines joined with a space except between Chinese or Japanese characters."""

from __future__ import annotations

import re

from sayfile.books.book_file import BookFile, title_from_name
from sayfile.books.chapters import ChapterDraft
from sayfile.text.sentences import normalize

# A line longer than this is a paragraph, whatever it starts with.
MAX_HEADING_CHARS = 100
# Chinese and Japanese characters, between which wrapped lines join without a space.
_CJK = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_CARDINAL = (
    rf"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:{_UNITS}))?"
    rf"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|{_UNITS}"
)
_ORDINAL_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_ORDINAL = (
    r"(?:the\s+)?(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    rf"[- ](?:{_ORDINAL_UNITS})"
    r"|twentieth|thirtieth|fortieth|fiftieth|sixtieth|seventieth|eightieth|ninetieth|tenth"
    r"|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
    rf"|nineteenth|{_ORDINAL_UNITS})"
)
_ROMAN = r"(?=[mdclxvi])m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
# Chapter heading lines, each with whether its title may follow without a space or mark
# ("第一章风暴"); the `mark` and `title` groups are judged by `_is_heading`.
_HEADINGS = (
    (
        re.compile(
            rf"(?:(?:chapter|part|book)\s+(?:\d{{1,4}}|{_ROMAN}|{_CARDINAL}|{_ORDINAL})"
            r"|prologue|epilogue|preface|foreword|afterword)"
            r"(?P<mark>[\s:.\-–—]*)(?P<title>.*)",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        re.compile(
            r"第[\d零〇一二三四五六七八九十百千万两]{1,9}[章回卷部篇集]"
            r"(?P<mark>[\s：:、.．·\-—]*)(?P<title>.*)"
        ),
        True,
    ),
    (
        re.compile(
            r"(?:序章|序言|序|前言|楔子|引子|尾声|尾聲|后记|後記|终章|終章|番外)"
            r"(?P<mark>[\s：:、.．·\-—]*)(?P<title>.*)"
        ),
        False,
    ),
)
# A title after only a space, like "Chapter 1 The Storm", must not end like a sentence or a
# clause does, which tells it from a paragraph such as "Part 2 of the plan was to wait."
_CLAUSE_END = re.compile(r"[.,;!?。，；！？、]$")
_BLANK_LINE = re.compile(r"\n\s*\n")


def read_text(source: BookFile) -> ChapterDraft:
    """Chapters at heading lines; paragraphs between blank lines, or one a line in files that
    have no blank lines; an indented line starts a paragraph too."""
    text = source.text().replace("\r\n", "\n").replace("\r", "\n")
    one_per_line = not _BLANK_LINE.search(text.strip())
    draft = ChapterDraft()
    draft.start(title_from_name(source.name))
    headings: list[str] = []
    last = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            draft.end_paragraph()
        elif _is_heading(stripped):
            headings.append(stripped)
        else:
            if headings:
                _start_chapter(draft, headings)
                headings = []
            elif one_per_line or line[0].isspace():
                draft.end_paragraph()
            # Lines wrapped inside a paragraph join with a space, except between CJK characters.
            if draft.in_paragraph and not (_CJK.match(last) and _CJK.match(stripped[0])):
                draft.write(" ")
            draft.write(stripped)
            last = stripped[-1]
    if headings:
        _start_chapter(draft, headings)
    return draft


def _is_heading(line: str) -> bool:
    if len(line) > MAX_HEADING_CHARS:
        return False
    for pattern, title_may_touch in _HEADINGS:
        if found := pattern.fullmatch(line):
            mark, title = found["mark"], found["title"]
            if not title or mark.strip():
                return True
            return bool(mark or title_may_touch) and not (
                title[0].islower() or _CLAUSE_END.search(title)
            )
    return False


def _start_chapter(draft: ChapterDraft, headings: list[str]) -> None:
    """Start the chapter of the last of `headings`, lines with nothing but blank lines between.

    Three or more in a row are a table of contents: all but the last are read as text of the
    chapter before. Two are the heading of a larger division ("Part Two", "第一卷") and its first
    chapter's: both are read at the start of the chapter, which the second names.
    """
    *before, last = headings
    if len(before) > 1:
        for line in before:
            draft.paragraph(line)
        before = []
    draft.start(normalize(last))
    for line in [*before, last]:
        draft.paragraph(line)
