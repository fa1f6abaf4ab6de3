"""An uploaded book's file, read once: refused by its first bytes when it is plainly something
else (a picture, a PDF, a program), and otherwise kept open for an archive reader or read whole
as text in the encoding it was written in; and the title a file's name gives a book."""

from __future__ import annotations

import io
import posixpath
import re
from typing import BinaryIO

from sayfile.errors import BookTooLong, InvalidBook, UnreadableText
from sayfile.text.encodings import Decoded, decode_text
from sayfile.text.sentences import normalize

# A text file is read whole, so one with more bytes than its character limit can take (four
# bytes a character, UTF-8's most) is refused from its size.
_MAX_BYTES_PER_CHAR = 4
# Files that are plainly something else, by their first bytes: refused by name rather than
# read as text that no encoding explains.
_NOT_BOOKS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV or AVI)"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
_READS = "sayfile reads books as EPUB, Markdown (.md) or plain text (.txt)."


def kind_of_other_file(head: bytes) -> str | None:
    """What a file that starts with `head` (16 bytes are enough) is, when its first bytes say it
    is a picture, a document or an archive that is no text ("a PNG image"); else None."""
    return next((what for magic, what in _NOT_BOOKS if head.startswith(magic)), None)


class BookFile:
    """A book's file, read once: as an archive (the open file itself), or as text (all its
    bytes, decoded), whose encoding is then kept."""

    def __init__(self, file: BinaryIO, name: str, max_chars: int | None) -> None:
        self.file = file
        self.name = name
        self.encoding: str | None = None
        # (and room for a byte-order mark)
        self._max_bytes = None if max_chars is None else _MAX_BYTES_PER_CHAR * max_chars + 4
        self._max_chars = max_chars
        file.seek(0)
        self.head = file.read(16)
        if what := kind_of_other_file(self.head):
            raise InvalidBook(f"{name!r} is {what}, not a book. {_READS}")

    def text(self) -> str:
        """The file's text, in the encoding it was written in."""
        size = self.file.seek(0, io.SEEK_END)
        if self._max_bytes is not None and self._max_chars is not None and size > self._max_bytes:
            raise BookTooLong(None, self._max_chars, size)
        self.file.seek(0)
        decoded = _decode(self.file.read(), self.name)
        self.encoding = decoded.encoding
        return decoded.text


def base_name(filename: str) -> str:
    """The file's own name, without the folders a browser or client may send (C:\\fakepath\\)."""
    return re.split(r"[\\/]", filename)[-1]


def title_from_name(name: str) -> str | None:
    """The title a file's own name gives its book ("War_and_Peace.epub": "War and Peace")."""
    return normalize(posixpath.splitext(name)[0].replace("_", " ")) or None


def _decode(data: bytes, name: str) -> Decoded:
    """The text of a text file in whatever encoding it was written in; raises InvalidBook
    naming the bytes no encoding explains."""
    try:
        return decode_text(data, what=repr(name), field="file")
    except UnreadableText as error:
        raise InvalidBook(f"{error.message} {_READS}") from None
