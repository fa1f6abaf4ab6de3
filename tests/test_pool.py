"""The ordered pool on its own: order, errors in place, early close, one bound for all callers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sayfile.pool import OrderedPool


class Work:
    """A function for the pool that sleeps as long as told, and counts what it ran."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: list[float] = []
        self.running = 0
        self.most = 0

    def __call__(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"negative: {seconds}")
        with self._lock:
            self.started.append(seconds)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(seconds)
            return seconds
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def pool() -> Iterator[OrderedPool]:
    pool = OrderedPool(2, "test-pool")
    yield pool
    pool.close()


def test_results_come_in_order_although_later_items_finish_first(pool: OrderedPool) -> None:
    items = [0.2, 0.01, 0.01, 0.1, 0.0, 0.05, 0.01]
    assert list(pool.map(Work(), items, ahead=4)) == items


def test_two_threads_take_about_half_the_time(pool: OrderedPool) -> None:
    started = time.perf_counter()
    list(pool.map(Work(), [0.1] * 10, ahead=4))
    assert time.perf_counter() - started < 0.8  # 1.0 s one after another


def test_an_error_is_raised_at_its_item_after_the_items_before_it(pool: OrderedPool) -> None:
    results = pool.map(Work(), [0.01, 0.02, -1.0, 0.01], ahead=4)
    assert next(results) == 0.01
    assert next(results) == 0.02
    with pytest.raises(ValueError, match=r"negative: -1\.0"):
        next(results)


def test_closing_early_cancels_what_is_queued(pool: OrderedPool) -> None:
    work = Work()
    results = pool.map(work, [0.05] * 100, ahead=4)
    next(results)
    started = time.perf_counter()
    results.close()
    assert time.perf_counter() - started < 0.05  # does not wait for running items
    time.sleep(0.3)
    assert work.running == 0
    assert len(work.started) <= 1 + 4


def test_every_caller_shares_one_bound(pool: OrderedPool) -> None:
    work = Work()
    outputs: list[list[float]] = [[] for _ in range(4)]

    def consume(out: list[float]) -> None:
        out.extend(pool.map(work, [0.02] * 10, ahead=4))

    threads = [threading.Thread(target=consume, args=(out,)) for out in outputs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == [[0.02] * 10] * 4
    assert work.most == 2


def test_close_stops_the_threads_and_a_later_map_starts_them_again(pool: OrderedPool) -> None:
    def alive() -> int:
        return sum(t.name.startswith("test-pool") for t in threading.enumerate())

    assert alive() == 0  # nothing started before the first use
    assert list(pool.map(Work(), [0.01] * 4, ahead=4)) == [0.01] * 4
    assert alive() > 0
    pool.close()
    assert alive() == 0
    assert list(pool.map(Work(), [0.01], ahead=4)) == [0.01]
