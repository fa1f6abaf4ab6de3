"""State keyed by what clients send stays bounded: the LRU map the per-job bookkeeping uses,
and loudness targets rounded to a fixed set."""

from __future__ import annotations

from sayfile.jobs.events import JobEvent, LocalJobEvents
from sayfile.lru_map import LruMap
from sayfile.speech.plan import loudness_target


def test_an_lru_map_drops_the_least_recently_used_entry() -> None:
    kept: LruMap[str, int] = LruMap(3)
    for n, key in enumerate("abc"):
        kept[key] = n
    assert kept.get("a") == 0  # "a" is now the most recently used
    kept["d"] = 3
    assert "b" not in kept
    assert [kept.get(key) for key in "acd"] == [0, 2, 3]
    assert len(kept) == 3


def test_progress_of_jobs_whose_end_was_never_heard_is_not_kept_for_ever() -> None:
    """A final event lost (Redis restarting) used to leave each job's latest progress in
    every process for good."""
    events = LocalJobEvents()
    for n in range(20_000):
        events.deliver(JobEvent(f"job-{n}", "running", 0.5))
    assert events.latest("job-19999") is not None
    assert events.latest("job-0") is None


def testloudness_target_targets_are_rounded_to_half_an_lu() -> None:
    """Every distinct target keeps its own gains per voice: a client sending -16.01, -16.02
    and so on must not make a new one each time."""
    targets = {loudness_target(-16 - n / 1000, None) for n in range(1000)}
    assert targets == {-16.0, -16.5, -17.0}
    assert loudness_target("-23.74", None) == -23.5
    assert loudness_target("off", -16.0) is None
