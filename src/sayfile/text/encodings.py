"""Text read in the encoding it was written in: the one decoder for text files, standard input
and HTTP bodies. A byte order mark decides first, then a charset the sender declared, then
valid UTF-8; then, for short text, the common code page whose reading is most plausible;
otherwise charset-normalizer's detector, biased towards the code pages people have files in."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

from sayfile.errors import UnreadableText

# Byte order marks, longest first (UTF-32's little-endian mark begins with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
)
# The codec that reads each detected encoding, where a superset reads more of the files that
# carry its name: GBK and GB2312 files are read as GB18030, Shift-JIS as Windows-932,
# EUC-KR as Windows-949, Big5 with the Hong Kong additions; ISO-8859-1 is read as
# Windows-1252, which browsers do too.
_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
}
# The name a job reports for each codec (WHATWG labels, as browsers and editors show them).
_LABELS = {
    "utf_8": "utf-8",
    "utf_16_le": "utf-16le",
    "utf_16_be": "utf-16be",
    "utf_32_le": "utf-32le",
    "utf_32_be": "utf-32be",
    "gb18030": "gb18030",
    "big5hkscs": "big5",
    "cp932": "shift_jis",
    "euc_jp": "euc-jp",
    "cp949": "euc-kr",
    "koi8_r": "koi8-r",
    "koi8_u": "koi8-u",
}
# Old Mac, DOS, EBCDIC and printer code pages: the detector sometimes finds them as likely as
# a Windows or ISO code page on short Latin text (German with „quotes“ as Mac Turkish), but
# almost nobody has a file in them today. One is taken only when no other reads the bytes as
# nearly as well.
_RARE = re.compile(
    r"mac_.*|cp(?:037|273|424|437|500|7\d\d|8\d\d|1006|1026|1125|1140)|hp_.*|ptcp154"
)
# How much more "mess" (charset-normalizer's chaos, 0 to 1) a common code page may show than a
# rare one and still be preferred.
_RARE_MARGIN = 0.1
# Bytes of context shown around bytes no encoding explains.
_SHOWN = 4
# Below this many bytes outside ASCII the detector has too little to go on: 你好 in GBK came
# back as Big5, 打开空调 as EUC-KR, café in Windows-1252 as UTF-16. Short text is read instead
# in the code page whose reading is most made of the characters such text is made of
# (`_plausible`): each code page's common characters, as its standard orders them.
_SHORT = 512
# The code pages tried for short text, in the order that breaks a tie: Chinese first (GBK and
# EUC-KR readings of the same bytes are often both plausible), Korean first where a space stands
# between two characters of two bytes, as between Korean words and seldom Chinese ones.
_SHORT_CODECS = ("gb18030", "big5hkscs", "cp932", "cp949", "cp1252", "cp1251", "cp1253", "cp1250")
# How plausible the best reading must be to be taken: half its characters common for a code
# page of two-byte characters, most of them for one of single bytes, which reads nearly any
# bytes as some letters (%81 %FF %FE as Windows-1251's "Ѓяю").
_LEAST_PLAUSIBLE = 0.5
_LEAST_PLAUSIBLE_SINGLE = 0.8
_DOUBLE_BYTE = frozenset({"gb18030", "big5hkscs", "cp932", "cp949"})
_HIGH_BYTES = bytes(range(0x80, 0x100))
_OUTSIDE_ASCII = re.compile(r"[^\x00-\x7f]")
# How far a word is looked for either side of a letter (words are shorter).
_WORD_REACH = 40
_KOREAN_SPACING = re.compile(rb"[\xa1-\xfe]{2} [\xa1-\xfe]{2}")
# Each double-byte code page's common characters: where its standard puts the first level of
# ideographs (GB2312 B0-D7, Big5 A4-C6, JIS X 0208 88-9F), or Korean's syllables (KS X 1001).
_COMMON_LEADS = {"gb18030": ("gb2312", 0xB0, 0xD7), "big5hkscs": ("big5", 0xA4, 0xC6)}
_COMMON_LEADS |= {"cp932": ("shift_jis", 0x88, 0x9F)}
_CJK_MARKS = frozenset("、。，！？：；“”‘’（）《》〈〉「」『』【】…—·～　")
_TYPOGRAPHY = frozenset("’‘“”„‚‹›–—…«»¿¡€°·•™")
# The letters of the script each single-byte code page is for, where it is not Latin: Russian's
# and Ukrainian's Cyrillic, modern Greek's (Latin letters count in words that also have ASCII
# letters, Cyrillic and Greek ones in words all of these).
_RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ"
_GREEK = "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ"
_ALPHABETS = {
    "cp1251": frozenset(_RUSSIAN + _RUSSIAN.upper()),
    "cp1253": frozenset(_GREEK + _GREEK.upper()),
}
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text and the encoding it was read in (a WHATWG label such as `utf-8`, `gb18030`)."""

    text: str
    encoding: str


def decode_text(
    data: bytes, declared: str | None = None, *, what: str = "The text", field: str = "text"
) -> Decoded:
    """Read `data` as text.

    A byte order mark (UTF-8, UTF-16, UTF-32) decides; then `declared` (an HTTP charset), if
    the bytes are valid in it; then UTF-8, whenever the bytes are valid UTF-8; otherwise the
    encoding charset-normalizer finds (GB18030, Big5, Shift-JIS, EUC-KR, Windows-1252 and the
    other single-byte code pages...). Raises UnreadableText (naming `what`, the offset of the
    first byte that is not UTF-8, and `field`) when no encoding explains the bytes, or when
    they decode to text holding NUL characters (a binary file).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data[len(bom) :].decode(codec), codec, what, field)
            except UnicodeDecodeError as error:
                raise _unreadable(data, len(bom) + error.start, codec, what, field) from None
    if declared and (named := _codec(declared)) is not None:
        try:
            return _checked(data.decode(named), named, what, field)
        except UnicodeDecodeError:
            pass  # the label was wrong: the bytes say what they are
    try:
        return _checked(data.decode("utf-8"), "utf_8", what, field)
    except UnicodeDecodeError as error:
        not_utf8 = error.start
    if len(data) - len(data.translate(None, _HIGH_BYTES)) < _SHORT and (
        short := _short_reading(data)
    ):
        return _checked(*short, what, field)
    for codec in _detected(data):
        try:
            return _checked(data.decode(codec), codec, what, field)
        except UnicodeDecodeError:
            continue  # the detector reads samples; a later byte can still be invalid
    raise _unreadable(data, not_utf8, None, what, field)


def _short_reading(data: bytes) -> tuple[str, str] | None:
    """The most plausible reading of short `data` in a common code page (text and codec), or
    None when none is plausible enough, or the bytes have NULs (which the detector's path
    names as a binary file or UTF-16)."""
    if b"\x00" in data:
        return None
    order = list(_SHORT_CODECS)
    if _KOREAN_SPACING.search(data):
        order.remove("cp949")
        order.insert(0, "cp949")
    best: tuple[float, str, str] | None = None
    for codec in order:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _plausible(text, codec)
        if best is None or score > best[0]:
            best = (score, text, codec)
    if best is None:
        return None
    score, text, codec = best
    least = _LEAST_PLAUSIBLE if codec in _DOUBLE_BYTE else _LEAST_PLAUSIBLE_SINGLE
    return (text, codec) if score >= least else None


def _plausible(text: str, codec: str) -> float:
    """The share of the characters outside ASCII in `text`, read in `codec`, that are common
    in text of that code page (typography aside); 1 when there are none. Linear in the text,
    however long its runs of ASCII or of letters."""
    outside = common = 0
    for found in _OUTSIDE_ASCII.finditer(text):
        at, char = found.start(), found.group()
        if char in _TYPOGRAPHY:
            continue  # typography says little: Windows-1252 has it where others have letters
        outside += 1
        # An ideograph beside a Latin letter and between it and another or the text's edge is a
        # Latin mark and the letter after it read as one character of two bytes (d’environ and
        # ’était in Shift-JIS: d弾nviron, 帝tait).
        before = _latin(text[at - 1]) if at else None
        after = _latin(text[at + 1]) if at + 1 < len(text) else None
        beside = before is not False and after is not False and (before or after)
        common += not (beside and char >= "\u3000") and _common(char, codec, _word(text, at))
    return common / outside if outside else 1.0


def _word(text: str, at: int) -> str:
    """The letters around `text[at]` (within _WORD_REACH), or "" when it is no letter."""
    start = at
    while start > max(0, at - _WORD_REACH) and text[start - 1].isalpha():
        start -= 1
    found = _WORD.match(text, start, at + _WORD_REACH + 1)
    return found.group() if found and found.end() > at else ""


def _latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _common(char: str, codec: str, word: str) -> bool:
    if codec in _DOUBLE_BYTE:
        if char in _CJK_MARKS:
            return True
        if codec == "cp949":
            return "\uac00" <= char <= "\ud7a3" and _two_bytes(char, "euc_kr") is not None
        if codec == "cp932" and "\u3041" <= char <= "\u30fa":
            return True  # kana
        standard, low, high = _COMMON_LEADS[codec]
        lead = _two_bytes(char, standard)
        return "\u4e00" <= char <= "\u9fff" and lead is not None and low <= lead <= high
    if not word or not char.isalpha():
        return False
    if char.isupper() and not (word[0] == char or word.isupper()):
        return False  # a capital inside a word of small letters
    alphabet = _ALPHABETS.get(codec)
    if alphabet is None:
        return len(word) == 1 or any(c.isascii() for c in word)
    return all(c in alphabet for c in word)


def _two_bytes(char: str, standard: str) -> int | None:
    """The lead byte of `char` in a double-byte `standard`, or None where it has none."""
    try:
        encoded = char.encode(standard)
    except UnicodeEncodeError:
        return None
    return encoded[0] if len(encoded) == 2 else None


def _detected(data: bytes) -> list[str]:
    """The codecs worth trying, most likely first."""
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return []
    best = matches[0]
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if best.encoding != "cp1252" and any(m.encoding == "cp1252" for m in tied[1:]):
        # Short Latin text often reads equally well in several code pages (French as
        # Windows-1250 "trčs"); Windows-1252, by far the commonest, breaks the tie.
        best = next(m for m in tied if m.encoding == "cp1252")
        matches = [best, *(m for m in matches if m is not best)]
    if _RARE.fullmatch(best.encoding):
        common = [
            match
            for match in matches
            if not _RARE.fullmatch(match.encoding) and match.chaos <= best.chaos + _RARE_MARGIN
        ]
        matches = common + [match for match in matches if match not in common]
    codecs_in_order: list[str] = []
    for match in matches:
        codec = _SUPERSET.get(match.encoding, match.encoding)
        if codec not in codecs_in_order:
            codecs_in_order.append(codec)
    return codecs_in_order


def _codec(label: str) -> str | None:
    """The codec for a charset label, or None for labels Python does not know."""
    try:
        name = codecs.lookup(label.strip().strip('"')).name
    except LookupError:
        return None
    normal = name.replace("-", "_")
    return _SUPERSET.get(normal, normal)


def _checked(text: str, codec: str, what: str, field: str) -> Decoded:
    if "\x00" in text:
        raise UnreadableText(
            f"{what} contains NUL characters, so it is not text: it is a binary file, or "
            "UTF-16 without a byte order mark. Save it as UTF-8 and send it again.",
            offset=None,
            field=field,
        )
    return Decoded(text, _label(codec, text))


def _label(codec: str, text: str) -> str:
    normal = codecs.lookup(codec).name.replace("-", "_")
    if normal.startswith("cp125") and normal != "cp1252" and not text.isascii():
        # Central European, Turkish and Baltic Windows code pages read German and much other
        # Western text exactly as Windows-1252 does: name the one such a file most likely is.
        try:
            if text.encode(normal) == text.encode("cp1252"):
                return "windows-1252"
        except UnicodeEncodeError:
            pass
    if normal.startswith("cp125"):
        return f"windows-{normal[2:]}"
    if normal.startswith("iso8859_"):
        return f"iso-8859-{normal[8:]}"
    return _LABELS.get(normal, normal.replace("_", "-"))


def _unreadable(
    data: bytes, offset: int, codec: str | None, what: str, field: str
) -> UnreadableText:
    shown = data[offset : offset + _SHOWN].hex(" ")
    if codec is not None:
        label = _label(codec, "")
        message = (
            f"{what} starts with a {label} byte order mark, but the bytes at offset {offset} "
            f"({shown}) are not valid {label}."
        )
    else:
        message = (
            f"{what} cannot be read as text: the bytes at offset {offset} ({shown}) are not "
            "UTF-8, and no other encoding (GB18030, Big5, Shift-JIS, EUC-KR, Windows-1252 and "
            "the other code pages) explains them."
        )
    return UnreadableText(message, offset=offset, field=field)
