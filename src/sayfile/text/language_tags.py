"""Language tags (BCP 47, as people and programs write them): the one place that reads a tag's
primary language, and the one table of the tags whose text is Mandarin."""

from __future__ import annotations

# Mandarin's primary tags: zh (which Kokoro's and Piper's Mandarin voices carry) and cmn
# (espeak-ng's, and ISO 639-3's own). Cantonese (yue) reads the same characters otherwise.
MANDARIN = frozenset({"zh", "cmn"})


def primary(tag: str) -> str:
    """The primary language of a tag, lower case, with `_` taken for `-`: `zh-CN`, `zh_cn` and
    ` ZH ` → `zh`."""
    return tag.strip().replace("_", "-").split("-", 1)[0].lower()


def is_mandarin(tag: str) -> bool:
    """Whether text in language `tag` is Mandarin (zh or cmn, with any region or script)."""
    return primary(tag) in MANDARIN
