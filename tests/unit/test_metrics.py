"""Prometheus metrics: each build has its own registry, and observations show in render()."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from integration.events import Metrics
from tests.unit.test_events import FakeAttempt


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_render_shows_attempts_latency_breaker_and_cache() -> None:
    metrics = Metrics()
    metrics.observe_attempt(FakeAttempt(latency_ms=30))
    metrics.observe_attempt(FakeAttempt(latency_ms=700, outcome="timeout", attempt=2))
    metrics.observe_attempt(FakeAttempt(system="erp", operation="invoices", cache_hit=True))
    metrics.observe_attempt(FakeAttempt(hedge=True, latency_ms=8))
    metrics.observe_attempt(FakeAttempt(outcome="cancelled", latency_ms=3))  # a losing hedge
    metrics.observe_attempt(FakeAttempt(outcome="breaker_open", breaker_state="open"))
    _, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    got = samples(metrics)
    attempts = "switchboard_source_attempts_total"
    op, crm = ("operation", "find_contacts_by_phone"), ("system", "crm")
    assert got[(attempts, (op, ("outcome", "ok"), crm))] == 2
    assert got[(attempts, (op, ("outcome", "timeout"), crm))] == 1
    assert got[(attempts, (op, ("outcome", "breaker_open"), crm))] == 1
    # The refusal is counted but has no latency: three observations for crm, not four.
    assert got[("switchboard_source_latency_seconds_count", (crm,))] == 3
    assert got[("switchboard_source_latency_seconds_bucket", (("le", "0.01"), crm))] == 1
    assert got[("switchboard_breaker_state", (("system", "crm"),))] == 2
    assert got[("switchboard_breaker_state", (("system", "erp"),))] == 0
    assert got[("switchboard_cache_hits_total", (("system", "erp"),))] == 1
    assert got[("switchboard_source_latency_seconds_count", (("system", "erp"),))] == 0
    assert got[("switchboard_source_hedges_total", (("system", "crm"),))] == 1


def test_render_shows_lookups_and_calls_in_flight() -> None:
    metrics = Metrics()
    metrics.observe_lookup("carry_on", 0.12, past_deadline=False)
    metrics.observe_lookup("escalate", 0.95, past_deadline=True)
    metrics.calls_in_flight.set(1)  # counted from the store when /metrics is read
    got = samples(metrics)
    assert got[("switchboard_lookups_total", (("recommendation", "carry_on"),))] == 1
    assert got[("switchboard_lookups_total", (("recommendation", "escalate"),))] == 1
    assert got[("switchboard_lookup_latency_seconds_count", ())] == 2
    assert got[("switchboard_lookups_past_deadline_total", ())] == 1
    assert got[("switchboard_calls_in_flight", ())] == 1


def test_two_builds_do_not_share_series_or_touch_the_global_registry() -> None:
    first, second = Metrics(), Metrics()
    first.observe_attempt(FakeAttempt())
    assert b"find_contacts_by_phone" in first.render()[0]
    assert b"find_contacts_by_phone" not in second.render()[0]
    assert REGISTRY.get_sample_value("switchboard_calls_in_flight") is None


def test_breaker_state_can_be_set_between_attempts() -> None:
    metrics = Metrics()
    metrics.set_breaker_state("loans", "half_open")
    assert samples(metrics)[("switchboard_breaker_state", (("system", "loans"),))] == 1
