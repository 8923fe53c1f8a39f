"""The system map's policies and build_executors: the shipped values make sense."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from integration.policies.executor import SourceExecutor, build_executors
from integration.policies.models import load_policy_book
from tests.unit._policy_fakes import ManualClock, SleepLog

SYSTEMS = [
    "crm",
    "database",
    "eligibility",
    "telephony",
    "loans",
    "erp",
    "payments",
    "messaging",
    "email",
    "calendar",
    "slack",
    "analytics",
    "core",
    "middleware",  # the gateway: its steps run under their sources' policies
    "sheets",
    "docstore",
    "tracker",
]
READ_SOURCES = ["crm", "database", "eligibility", "telephony", "loans", "erp", "core"]


def test_every_system_has_its_policy() -> None:
    book = load_policy_book()
    assert sorted(book.systems) == sorted(SYSTEMS)


def test_read_sources_fit_a_voice_turn() -> None:
    book = load_policy_book()
    for system in READ_SOURCES:
        p = book.for_system(system)
        assert 150 <= p.timeout.per_attempt_ms <= 400, system
        assert p.retry.max_retry_after_s <= 1.0, system
        assert p.cache.enabled, system
    assert book.for_system("eligibility").hedge.enabled
    assert book.for_system("crm").rate_limit is not None


def test_slow_call_threshold_is_below_the_attempt_timeout_everywhere() -> None:
    # otherwise a slow call would time out first and the slow-call rate would never trip
    book = load_policy_book()
    for system in SYSTEMS:
        p = book.for_system(system)
        assert p.breaker.slow_call_ms < p.timeout.per_attempt_ms, system


def test_payments_are_never_served_from_a_cache() -> None:
    assert not load_policy_book().for_system("payments").cache.enabled


def test_build_executors_one_per_system_with_independent_seeded_jitter() -> None:
    book = load_policy_book()

    def build(seed: int) -> dict[str, SourceExecutor]:
        return build_executors(
            book,
            SYSTEMS,
            clock=ManualClock(),
            sleep=SleepLog(),
            rng=random.Random(seed),
            on_attempt=None,
        )

    first, again = build(1), build(1)
    assert list(first) == SYSTEMS
    assert first["crm"].policy == book.for_system("crm")
    assert first["crm"].rate_limit is not None and first["database"].rate_limit is None
    draws = {s: first[s].retry.backoff.delay_s(3) for s in SYSTEMS}
    assert draws == {s: again[s].retry.backoff.delay_s(3) for s in SYSTEMS}
    assert len(set(draws.values())) == len(SYSTEMS)  # each system its own stream


def test_unknown_system_falls_back_to_defaults() -> None:
    book = load_policy_book()
    (executor,) = build_executors(
        book, ["fax"], clock=ManualClock(), sleep=SleepLog(), rng=random.Random(0), on_attempt=None
    ).values()
    assert executor.policy == book.defaults


def test_a_bad_override_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "policies.yaml"
    path.write_text("systems:\n  crm:\n    timeout: {per_attempt_ms: -1}\n")
    with pytest.raises(ValueError, match=r"systems\.crm\.timeout\.per_attempt_ms"):
        load_policy_book(path)
