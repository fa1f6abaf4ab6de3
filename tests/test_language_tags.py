"""Language tags as people and programs write them: one reading of a tag's primary language,
and which tags are Mandarin."""

from __future__ import annotations

import pytest

from sayfile.text.language_tags import is_mandarin, primary


@pytest.mark.parametrize(
    ("tag", "first"),
    [("zh-CN", "zh"), ("zh_cn", "zh"), (" ZH ", "zh"), ("en_GB", "en"), ("cmn-Hans-CN", "cmn"),
     ("es-419", "es"), ("yue", "yue"), ("", "")],
)  # fmt: skip
def test_a_tags_primary_language_is_read_however_it_is_written(tag: str, first: str) -> None:
    assert primary(tag) == first


@pytest.mark.parametrize(
    ("tag", "mandarin"),
    [("zh", True), ("zh-TW", True), ("zh_Hans", True), ("cmn", True), ("CMN-Hant", True),
     ("yue", False), ("ja", False), ("en-US", False), ("zu", False)],
)  # fmt: skip
def test_mandarin_is_zh_and_cmn_in_any_region_or_script(tag: str, mandarin: bool) -> None:
    assert is_mandarin(tag) is mandarin
