"""The cache of recent answers: served again until they expire (an injected `now`), the least
recently used forgotten first, never more audio than its size, large answers not kept."""

from __future__ import annotations

from sayfile.audio.formats import FORMATS
from sayfile.jobs.answers import Answer, AnswerCache


def answer(size: int, stem: str = "hello") -> Answer:
    return Answer(b"\1" * size, FORMATS["mp3"], stem, size / 1000)


def test_an_answer_is_served_again_until_it_expires() -> None:
    cache = AnswerCache(1000)
    kept = answer(100)
    cache.put("k", kept, expires_at=60)
    assert cache.get("k", now=59.9) is kept
    assert cache.get("other", now=0) is None
    assert cache.get("k", now=60) is None
    assert cache.get("k", now=0) is None  # forgotten once seen expired


def test_the_least_recently_used_answer_goes_first() -> None:
    cache = AnswerCache(1000)
    for key in "abcd":
        cache.put(key, answer(250, key), expires_at=60)
    assert cache.get("a", now=0) is not None  # a is used again: b is now the oldest
    cache.put("e", answer(250, "e"), expires_at=60)
    assert cache.get("b", now=0) is None
    assert [key for key in "acde" if cache.get(key, now=0) is not None] == list("acde")


def test_the_cache_never_holds_more_than_its_size() -> None:
    cache = AnswerCache(1000)
    for i in range(50):
        cache.put(str(i), answer(240), expires_at=60)
    kept = [i for i in range(50) if cache.get(str(i), now=0) is not None]
    assert kept == [46, 47, 48, 49]  # 4 x 240 fit in 1000, 5 do not


def test_an_answer_put_again_is_counted_once() -> None:
    cache = AnswerCache(1000)
    for _ in range(10):
        cache.put("same", answer(250), expires_at=60)
    for key in "abc":
        cache.put(key, answer(250, key), expires_at=60)
    assert all(cache.get(key, now=0) is not None for key in ["same", "a", "b", "c"])


def test_an_answer_larger_than_a_quarter_of_the_cache_is_not_kept() -> None:
    cache = AnswerCache(1000)
    cache.put("small", answer(100), expires_at=60)
    cache.put("big", answer(251), expires_at=60)
    assert cache.get("big", now=0) is None
    assert cache.get("small", now=0) is not None  # and nothing was evicted for it
    cache.put("quarter", answer(250), expires_at=60)
    assert cache.get("quarter", now=0) is not None


def test_an_expired_answer_gives_its_room_back() -> None:
    cache = AnswerCache(1000)
    for key in "abcd":
        cache.put(key, answer(250, key), expires_at=10 if key == "a" else 60)
    assert cache.get("a", now=20) is None
    cache.put("e", answer(250, "e"), expires_at=60)
    assert all(cache.get(key, now=20) is not None for key in "bcde")
