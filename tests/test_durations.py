"""Durations as people read them."""

from __future__ import annotations

import pytest

from sayfile.durations import clock


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00"),
        (0.9, "0:00"),
        (59.99, "0:59"),
        (60, "1:00"),
        (1038.8, "17:18"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (3723.4, "1:02:03"),
        (26_000, "7:13:20"),
        (360_000, "100:00:00"),
        (-5, "0:00"),
        (float("nan"), "0:00"),
    ],
)
def test_a_duration_reads_as_minutes_and_seconds_or_hours(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown
