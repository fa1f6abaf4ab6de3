"""Lengths of time as people read them: `17:19` and `1:02:03`, never `1,038.8 s`."""

from __future__ import annotations

import math


def clock(seconds: float) -> str:
    """`m:ss` under an hour, else `h:mm:ss` (whole seconds, rounded down; never negative)."""
    whole = 0 if not math.isfinite(seconds) else max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
