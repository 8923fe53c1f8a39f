"""Last-known-good cache (cache.py): age from the injected clock, staleness, LRU bound."""

from __future__ import annotations

from integration.policies.cache import CachedValue, LastKnownGood
from integration.policies.models import CachePolicy
from tests.unit._policy_fakes import ManualClock


def test_returns_the_value_with_its_age() -> None:
    clock = ManualClock()
    cache = LastKnownGood(CachePolicy(max_staleness_s=60, max_entries=10), clock)
    cache.store("find", "+14155550123", {"id": "003A"})
    clock.advance(42.5)
    assert cache.get("find", "+14155550123") == CachedValue({"id": "003A"}, 42.5)
    assert cache.get("find", "+14155550000") is None
    assert cache.get("other_operation", "+14155550123") is None  # keyed by operation too


def test_entry_older_than_max_staleness_is_not_returned_and_is_dropped() -> None:
    clock = ManualClock()
    cache = LastKnownGood(CachePolicy(max_staleness_s=60, max_entries=10), clock)
    cache.store("find", "k", 1)
    clock.advance(60.0)
    assert cache.get("find", "k") == CachedValue(1, 60.0)  # exactly at the limit: still good
    clock.advance(0.001)
    assert cache.get("find", "k") is None
    assert len(cache) == 0


def test_storing_again_resets_the_age() -> None:
    clock = ManualClock()
    cache = LastKnownGood(CachePolicy(max_staleness_s=60, max_entries=10), clock)
    cache.store("find", "k", 1)
    clock.advance(50)
    cache.store("find", "k", 2)
    clock.advance(50)
    assert cache.get("find", "k") == CachedValue(2, 50.0)


def test_lru_bound_evicts_the_least_recently_used() -> None:
    clock = ManualClock()
    cache = LastKnownGood(CachePolicy(max_staleness_s=60, max_entries=3), clock)
    for key in "abc":
        cache.store("op", key, key.upper())
    assert cache.get("op", "a") is not None  # "a" is now the most recently used
    cache.store("op", "d", "D")
    assert len(cache) == 3
    assert cache.get("op", "b") is None  # the least recently used went
    assert [cache.get("op", k) is not None for k in "acd"] == [True, True, True]


def test_disabled_cache_stores_nothing() -> None:
    cache = LastKnownGood(CachePolicy(enabled=False), ManualClock())
    cache.store("op", "k", 1)
    assert cache.get("op", "k") is None and len(cache) == 0
