"""Kokoro's mixed voices: a voice record for a weighted mix of Kokoro voices, and the mix's
style table, the voices' style vectors summed by their shares.

A mix's locator (engine-private) is `af_bella(67)+af_sky(33)`: the voices' own locators with
their shares in percent, the largest first. The first voice leads: its language letter picks
the phonemiser (so `b…` first reads British English), and its language is the mix's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from sayfile.models import Voice

_PART = re.compile(r"([a-z]{2}_[a-z_]+)\((\d+)\)")


def blend_locator(parts: Sequence[tuple[Voice, int]]) -> str:
    """The locator of the mix of `parts` (Kokoro voices with their shares in percent)."""
    return "+".join(f"{voice.locator}({share})" for voice, share in parts)


def is_blend(locator: str) -> bool:
    return "+" in locator


def blended_voice(parts: Sequence[tuple[Voice, int]]) -> Voice:
    """The record of the mix of `parts` (largest share first, shares summing to 100): the
    leading voice's language, rate and credit; a gender only where all the voices share it;
    never chosen by language alone (`auto` False), and not graded by the recognizer."""
    lead = parts[0][0]
    locator = blend_locator(parts)
    genders = {voice.gender for voice, _ in parts}
    return replace(
        lead,
        id=f"{lead.engine}:{locator}",
        name=" + ".join(f"{voice.name} {share}%" for voice, share in parts),
        gender=lead.gender if len(genders) == 1 else None,
        aliases=(),
        auto=False,
        grade=None,
        heard=None,
        hard_to_understand=False,
        locator=locator,
    )


def blended_style(model: Any, locator: str) -> Any:
    """The style table (510×1×256 float32) of the voice `locator` names: a voice's own, or
    for a mix the sum of its voices' tables, each times its share."""
    if not is_blend(locator):
        return model.get_voice_style(locator)
    total: Any = None
    for part in locator.split("+"):
        found = _PART.fullmatch(part)
        if found is None:
            raise ValueError(f"not a Kokoro mix: {locator!r}")
        name, share = found.groups()
        style = np.asarray(model.get_voice_style(name), dtype=np.float32) * (int(share) / 100)
        total = style if total is None else total + style
    return total.astype(np.float32)
