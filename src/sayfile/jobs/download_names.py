"""File names for audio made from the first words of its text, safe in any file system and in
HTTP headers (an ASCII fallback plus the UTF-8 original)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from anyascii import anyascii

from sayfile.audio.joining import chapter_file_stem

_MAX_WORDS = 6
_MAX_ASCII = 80
_MAX_CHARS = 40
# Letters, digits and marks of any script survive; everything else separates words.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def stem_for(text: str, fallback: str = "speech") -> str:
    """A short name from the first words of `text` ("你好世界", "hello-there")."""
    words: list[str] = []
    length = 0
    # finditer, not findall: only the first few words of a text of any length are looked at.
    for match in _WORD.finditer(unicodedata.normalize("NFC", text)):
        word = match.group()
        if _CJK.search(word):
            # Chinese and Japanese have no spaces: keep a few characters rather than one
            # sentence-long "word".
            word = word[: _MAX_CHARS // 3]
        if length + len(word) > _MAX_CHARS:
            break
        words.append(word)
        length += len(word) + 1
        if len(words) == _MAX_WORDS:
            break
    stem = "-".join(words).lower()
    return stem or fallback


def speech_stem(words: str, title: str | None) -> str:
    """A file's name: its text's `title` where it gives one (a Markdown text's front matter),
    written as a book's is (`title_stem`), else its first `words` (`stem_for`)."""
    return title_stem(title, stem_for(words)) if title else stem_for(words)


# Characters that file systems (Windows, above all) refuse in names, and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def title_stem(title: str, fallback: str = "book") -> str:
    """A book's file name from its title, as people write it ("Moby-Dick", "呐喊"): characters
    file systems refuse become spaces, and it is cut to 80 characters."""
    cleaned = " ".join(_UNSAFE.sub(" ", unicodedata.normalize("NFC", title)).split())
    return cleaned[:_MAX_ASCII].strip(" .") or fallback


def chapter_stem(book_stem: str, number: int, title: str, count: int) -> str:
    """A book's chapter's file name: the book's, then the chapter's as a book's ZIP names it
    ("Moby-Dick 03-Loomings"), its number padded to the digits of `count`."""
    width = max(2, len(str(count)))
    return f"{book_stem} {chapter_file_stem(number, title, width)}"


def ascii_stem(stem: str, fallback: str = "speech") -> str:
    """The stem in ASCII, for clients that ignore `filename*` (curl -OJ): every script
    transliterated (你好-世界 -> ni-hao-shi-jie, Привет -> privet, Ça va -> ca-va)."""
    # anyascii writes each Chinese syllable capitalised (NiHao); stems are lower case, so a
    # capital marks where a syllable starts.
    spelled = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", anyascii(stem))
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", spelled).strip("-").lower()
    return cleaned[:_MAX_ASCII].rstrip("-") or fallback


def content_disposition(stem: str, extension: str) -> str:
    """`attachment` with an ASCII `filename` and the RFC 5987 `filename*` for the real name."""
    fallback = f"{ascii_stem(stem)}.{extension}"
    utf8 = quote(f"{stem}.{extension}", safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{utf8}"
