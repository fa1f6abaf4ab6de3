"""Text as a reader sees it: which format a text is in (`text_format`, `auto` by its signals),
Markdown and HTML read without their syntax, and bare web and e-mail addresses said briefly
(the site's name), in English or Chinese as the text around them is.

Everything here runs in time linear in the text: it comes from users."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# lxml ships no type information; mypy sees these modules as Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from markdown_it import MarkdownIt
from markdown_it.token import Token

from sayfile.errors import InvalidInput
from sayfile.text.front_matter import opens_with_front_matter, without_front_matter
from sayfile.text.sentences import CJK_ENDS
from sayfile.text.ssml import looks_like_ssml


class TextFormat(enum.StrEnum):
    """What a request's text is: `auto` decides by the text; `plain` is spoken as written."""

    auto = "auto"
    plain = "plain"
    markdown = "markdown"
    ssml = "ssml"


TEXT_FORMATS = tuple(TextFormat)

# Auto-detection looks at the start of a text only: Markdown shows itself early, and a long
# book-sized text is not scanned twice.
_DETECT_CHARS = 20_000
# One of these alone makes a text Markdown (or HTML): syntax that ordinary prose never has.
_STRONG = (
    # [text](target) and ![alt](image); bounded, so a text full of "[" stays linear.
    re.compile(r"\[[^\[\]\n]{0,300}\]\([^()\s]{1,500}(?:[ \t]+\"[^\"\n]{0,200}\")?\)"),
    re.compile(r"^ {0,3}\[[^\[\]\n]{1,300}\]:[ \t]*\S", re.MULTILINE),  # [1]: https://...
    re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE),  # "# Title", not "#1" or "C#"
    re.compile(r"^ {0,3}(?:`{3,}|~{3,})[^\n]*\n(?:.*\n)*? {0,3}(?:`{3,}|~{3,})", re.MULTILINE),
    # A table's delimiter row: |---|:---:| with two columns at least.
    re.compile(r"^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M),
    re.compile(r"(?<![\w*])\*\*(?=[^\s*])[^*\n]{1,200}(?<=[^\s*])\*\*(?![\w*])"),  # **bold**
    re.compile(r"<https?://[^\s<>]{1,500}>"),  # autolink
    # HTML: a closing tag, a line break, a link or an image (never "a<b and c>d").
    re.compile(
        r"</(?:p|div|a|b|i|em|strong|span|h[1-6]|ul|ol|li|table|tr|td|th|blockquote|pre|code"
        r"|section|article|sup|sub|small|u|s)>|<br\s*/?>|<a\s[^<>]{0,300}href=|<img\s[^<>]{0,300}src=",
        re.IGNORECASE,
    ),
)
# Markdown-ish on their own but not in prose: two of these kinds make a text Markdown.
_WEAK = (
    re.compile(r"(?:^ {0,3}[-*+][ \t]+\S.*\n){2}", re.MULTILINE),  # a list of two items
    re.compile(r"(?:^ {0,3}\d{1,9}[.)][ \t]+\S.*\n?){2}", re.MULTILINE),  # 1. 2.
    re.compile(r"(?<![\w*])\*(?=[^\s*])[^*\n]{1,100}(?<=[^\s*])\*(?![\w*])"),  # *emphasis*
    re.compile(r"(?<![\w_])__?(?=[^\s_])[^_\n]{1,100}(?<=[^\s_])__?(?![\w_])"),  # _emphasis_
    re.compile(r"(?<!`)`[^`\n]{1,100}`(?!`)"),  # `code`
    re.compile(r"^ {0,3}>[ \t]?\S", re.MULTILINE),  # > quote
    re.compile(r"^ {0,3}(?:-{3,}|\*{3,}|_{3,}|={3,})[ \t]*$", re.MULTILINE),  # rule, setext
)

# A web address: with a scheme, or starting "www."; ends before white space, CJK text or
# punctuation that closes the sentence around it.
_URL = re.compile(
    r"(?<![\w@/.])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`，。、；：！？（）【】「」《》\u3000-\u303f"
    r"\u4e00-\u9fff]{1,2000}",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.+-])(?:mailto:)?([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
    r"((?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24})(?![\w-])"
)
_CJK_BREAK = re.compile(
    r"(?<=[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef])\n"
    r"(?=[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef])"
)
_LINE_BREAK = re.compile(r"<br\b", re.IGNORECASE)
_URL_TRAILERS = ".,;:!?'\")]}*_"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# How far from an address the letter is looked for whose language it is named in.
_NEAR = 40

# What stands for a left-out code block, in the language of the text around it.
CODE_OMITTED = {"en": "Code omitted.", "zh": "此处省略代码。"}
# What a bare web address and an e-mail address become.
_LINK = {"en": "{host}", "zh": "链接：{host}"}
_MAIL = {"en": "{name} at {host}", "zh": "{name} 艾特 {host}"}

# Tags whose content no reader sees as text.
_HTML_SILENT = frozenset(
    {"head", "script", "style", "template", "svg", "math", "audio", "video", "object", "iframe"}
)
_HTML_CODE = frozenset({"pre"})
_HTML_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div"),
        *("dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hr", "li", "main", "nav", "ol", "p", "section", "summary", "table", "tr"),
        *("ul", "tbody", "thead", "tfoot"),
    }
)
_HTML_CELLS = frozenset({"td", "th"})


def text_format(asked: str | None, text: str) -> TextFormat:
    """The format `text` is read in: `asked` (None or "" is `auto`), with `auto` decided by
    the text: `ssml` for an SSML `<speak>` document, `markdown` for Markdown or HTML by their
    signs, else `auto` itself (plain text whose addresses are said briefly, unlike `plain`).
    Raises InvalidInput naming the allowed values for an unknown format."""
    name = (asked or TextFormat.auto).strip().lower()
    try:
        chosen = TextFormat(name)
    except ValueError:
        raise InvalidInput(
            f"text_format {asked!r} is not known; allowed: {', '.join(TEXT_FORMATS)}.",
            field="text_format",
        ) from None
    if chosen is not TextFormat.auto:
        return chosen
    if looks_like_ssml(text):
        return TextFormat.ssml
    return TextFormat.markdown if looks_like_markdown(text) else TextFormat.auto


def looks_like_markdown(text: str) -> bool:
    """Whether `text` shows Markdown (or HTML) syntax: one sign prose never has (YAML front
    matter, a link, an image, a `# heading`, a fenced code block, a table, **bold**, an HTML
    tag), or two kinds of weaker ones (lists, *emphasis*, `code`, quotes, rules). `#1`, `C#`,
    one `*`, dates and 3*4 are prose."""
    sample = text[:_DETECT_CHARS].replace("\r\n", "\n")
    if opens_with_front_matter(sample) or any(p.search(sample) for p in _STRONG):
        return True
    return sum(1 for pattern in _WEAK if pattern.search(sample)) >= 2


def spoken(text: str, fmt: TextFormat) -> str:
    """What is said for `text` in format `fmt` (not SSML): Markdown and HTML as a reader sees
    them, each block a sentence; with `auto` (plain text), bare addresses said briefly; with
    `plain`, the text as written."""
    if fmt is TextFormat.markdown:
        return " ".join(markdown_sentences(text))
    if fmt is TextFormat.plain:
        return text
    return say_addresses(text)


# Markdown


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a Markdown document as a reader sees it: a heading (`level` 1 to 6), a
    paragraph, list item or table row (`level` 0), or code or raw HTML (`kind`), whose `text`
    is the source."""

    text: str
    kind: str = "text"  # "text", "code" or "html"
    level: int = 0


def markdown_blocks(source: str) -> Iterator[Block]:
    """The blocks of Markdown `source` in reading order: headings, paragraphs and list items
    without their syntax (link text without its target, no images, inline code as its text),
    each table row as one block with its cells between commas, code and HTML blocks as they
    are (the caller decides what to say for them)."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(source)
    level = 0
    cells: list[str] | None = None
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "heading_close":
            level = 0
        elif token.type == "tr_open":
            cells = []
        elif token.type == "tr_close" and cells is not None:
            row = [cell for cell in cells if cell]
            yield Block(("，" if _is_chinese(" ".join(row)) else ", ").join(row))
            cells = None
        elif token.type == "inline":
            words = inline_text(token)
            if cells is not None:
                cells.append(" ".join(words.split()))
            else:
                yield Block(words, level=level)
        elif token.type in ("fence", "code_block"):
            yield Block(token.content, kind="code")
        elif token.type == "html_block":
            yield Block(token.content, kind="html")


def inline_text(token: Token) -> str:
    """The words of a line of Markdown: no markers, link targets, images or HTML tags; an
    autolink as its address."""
    words: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or (
            child.type == "html_inline" and _LINE_BREAK.match(child.content)
        ):
            words.append("\n")
    # A line break is a space, except between Chinese or Japanese characters, which have none.
    return _CJK_BREAK.sub("", "".join(words)).replace("\n", " ")


def markdown_sentences(source: str) -> Iterator[str]:
    """Markdown (or HTML) `source` as the sentences a reader sees, each block ending as one
    (YAML front matter left out): a code block is announced as left out (in the language of
    the text before it), an image is left out, addresses are said briefly."""
    source = without_front_matter(source)
    chinese = False
    omitted = False
    for block in markdown_blocks(source):
        if block.kind == "code":
            if not omitted:  # several code blocks in a row are one announcement
                yield CODE_OMITTED["zh" if chinese else "en"]
            omitted = True
            continue
        paragraphs = html_paragraphs(block.text) if block.kind == "html" else [block.text]
        for paragraph in paragraphs:
            words = " ".join(say_addresses(paragraph).split())
            if words:
                chinese = _is_chinese(words)
                omitted = False
                yield as_sentence(words)


def html_paragraphs(source: str) -> list[str]:
    """The text of an HTML fragment, a paragraph for each block element (table cells between
    commas), without scripts, styles, code blocks or images."""
    try:
        root = lxml.html.fragment_fromstring(source, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return []
    paragraphs: list[str] = []
    pieces: list[str] = []

    def end_paragraph() -> None:
        paragraph = " ".join("".join(pieces).split())
        pieces.clear()
        if paragraph:
            paragraphs.append(paragraph)

    def read(element: Any) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _HTML_SILENT or tag in _HTML_CODE or not tag:
            if tag in _HTML_CODE:
                end_paragraph()
        else:
            block = tag in _HTML_BLOCKS
            if block:
                end_paragraph()
            if tag in _HTML_CELLS and pieces and "".join(pieces).strip():
                pieces.append(", ")
            pieces.append(element.text or "")
            for child in element:
                read(child)
            if block:
                end_paragraph()
        pieces.append(element.tail or "")

    read(root)
    end_paragraph()
    return paragraphs


# Addresses


def say_addresses(text: str) -> str:
    """`text` with each bare web address said as its site's name (`https://github.com/a/b` →
    "github.com", or "链接：github.com" among Chinese) and each e-mail address as "name at
    host" ("name 艾特 host" among Chinese)."""
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return text
    text = _EMAIL.sub(lambda found: _mail(found, text), text)
    return _URL.sub(lambda found: _link(found, text), text)


def _mail(found: re.Match[str], text: str) -> str:
    language = "zh" if _chinese_near(text, found.start(), found.end()) else "en"
    return _MAIL[language].format(name=found.group(1), host=found.group(2).lower())


def _link(found: re.Match[str], text: str) -> str:
    address = found.group()
    kept = address.rstrip(_URL_TRAILERS)
    # A closing bracket that belongs to the address (Wikipedia's "Foo_(bar)") stays.
    while address[len(kept) :].startswith(")") and kept.count("(") > kept.count(")"):
        kept += ")"
    trailer = address[len(kept) :]
    if not kept.lower().startswith(("http", "ftp")):
        kept = f"http://{kept}"
    try:
        host = urlsplit(kept).hostname or ""
    except ValueError:
        host = ""
    host = host.removeprefix("www.")
    if not host:
        return trailer
    language = "zh" if _chinese_near(text, found.start(), found.end()) else "en"
    return _LINK[language].format(host=host) + trailer


def _chinese_near(text: str, start: int, end: int) -> bool:
    """Whether the letter nearest before the address (else after it) is Chinese or Japanese."""
    before = text[max(0, start - _NEAR) : start]
    after = text[end : end + _NEAR]
    for letter in (*reversed(before), *after):
        if letter.isalpha():
            return _CJK.match(letter) is not None
    return False


def _is_chinese(text: str) -> bool:
    """Whether `text` reads as Chinese: as many Han (or kana) characters as Latin words."""
    han = len(_CJK.findall(text))
    return han > 0 and han >= len(_LATIN_WORD.findall(text))


# Sentences

# A paragraph that does not end in one of these marks (before closing quotes or brackets) gets a
# full stop, so that sentence splitting ends a sentence there and the voice pauses.
_SENTENCE_MARKS = ".!?;।॥؟۔" + CJK_ENDS
_CLOSERS = "\"'”’)]」』）"
_SOFT_MARKS = ",，、:："
_CJK_STOP = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)


def as_sentence(paragraph: str) -> str:
    """`paragraph` ending as a sentence: a full stop ("。" after Chinese or Japanese) goes
    before its closing quotes or brackets, in place of a comma or colon the layout left at its
    end."""
    core = paragraph.rstrip(_CLOSERS)
    if core and core[-1] in _SENTENCE_MARKS:
        return paragraph
    closers = paragraph[len(core) :]
    core = core.rstrip(_SOFT_MARKS)
    stop = "。" if core and _CJK_STOP.match(core[-1]) else "."
    return f"{core}{stop}{closers}"
