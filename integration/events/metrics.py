"""Prometheus metrics of the layer, in a registry of their own.

Each ``Metrics`` owns its ``CollectorRegistry`` (not the process-wide default), so tests
and several builds in one process never collide over metric names. When the service runs
as several workers, prometheus-client's multiprocess mode keeps each worker's values in
files under ``PROMETHEUS_MULTIPROC_DIR`` and ``render`` adds them up, so any worker
answers for all of them (gauges read from the store take the most recent value; the
breaker gauge the highest among live workers). Label children are
cached per label tuple: ``labels()`` takes a lock and a dict lookup in prometheus-client,
and ``observe_attempt`` runs once per source attempt.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from integration.events.model import AttemptLike

__all__ = ["BREAKER_STATE_VALUES", "REFUSALS", "Metrics"]

BREAKER_STATE_VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
# Outcomes of attempts that never reached the source: they have no latency worth a bucket.
REFUSALS = frozenset(
    {"breaker_open", "bulkhead_full", "retry_budget_exhausted", "deadline_exceeded"}
)

# Attempts whose latency says nothing about the source: refused, or cut short by a hedge.
_NO_LATENCY = REFUSALS | {"cancelled"}

# From a cached answer (~5 ms) to a hanging vendor cut off by its timeout (seconds).
SOURCE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LOOKUP_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.5, 5.0)


class Metrics:
    def __init__(self, namespace: str = "switchboard") -> None:
        self.registry = reg = CollectorRegistry(auto_describe=True)
        on: dict[str, Any] = {"namespace": namespace, "registry": reg}
        by_system = ["system"]
        self.source_attempts = Counter(
            "source_attempts",
            "Attempts at a source system, refusals included",
            ["system", "operation", "outcome"],
            **on,
        )
        self.source_latency = Histogram(
            "source_latency_seconds",
            "Time of attempts that reached the source",
            by_system,
            buckets=SOURCE_BUCKETS,
            **on,
        )
        self.breaker_state = Gauge(
            "breaker_state",
            "Circuit breaker per system: 0 closed, 1 half-open, 2 open",
            by_system,
            multiprocess_mode="livemax",
            **on,
        )
        self.cache_hits = Counter(
            "cache_hits",
            "Answers served from the last good value instead of the source",
            by_system,
            **on,
        )
        self.hedges = Counter(
            "source_hedges", "Hedged (parallel second) attempts started", by_system, **on
        )
        self.lookups = Counter(
            "lookups",
            "Caller lookups by the recommendation given to the agent",
            ["recommendation"],
            **on,
        )
        self.lookup_latency = Histogram(
            "lookup_latency_seconds",
            "Caller lookup time, start to caller view",
            buckets=LOOKUP_BUCKETS,
            **on,
        )
        self.lookups_past_deadline = Counter(
            "lookups_past_deadline", "Lookups that answered after their deadline", **on
        )
        self.refusals = Counter(
            "admission_refusals",
            "Call starts turned away at once because the worker was too "
            "busy to answer them in time, by route and reason (queue, limit)",
            ["route", "reason"],
            **on,
        )
        self.admission_limit = Gauge(
            "admission_limit",
            "Call starts the workers would take in flight now (summed)",
            multiprocess_mode="livesum",
            **on,
        )
        self.loop_lag = Gauge(
            "event_loop_lag_seconds",
            "How late the busiest worker's event loop runs",
            multiprocess_mode="livemax",
            **on,
        )
        self.calls_in_flight = Gauge(
            "calls_in_flight",
            "Calls started and not yet ended",
            multiprocess_mode="mostrecent",
            **on,
        )
        self._attempt_children: dict[tuple[str, str, str], Any] = {}
        self._system_children: dict[str, tuple[Any, Any, Any, Any]] = {}
        # The breaker changes state rarely; setting the gauge only on a change saves a lock.
        self._breaker_seen: dict[str, str] = {}

    def observe_attempt(self, record: AttemptLike) -> None:
        key = (record.system, record.operation, record.outcome)
        counter = self._attempt_children.get(key)
        if counter is None:
            counter = self._attempt_children[key] = self.source_attempts.labels(*key)
        counter.inc()
        system = self._system_children.get(record.system)
        if system is None:
            system = self._system_children[record.system] = (
                self.source_latency.labels(record.system),
                self.breaker_state.labels(record.system),
                self.cache_hits.labels(record.system),
                self.hedges.labels(record.system),
            )
        latency, breaker, cache_hits, hedges = system
        if record.cache_hit:
            cache_hits.inc()
        elif record.outcome not in _NO_LATENCY:
            latency.observe(record.latency_ms / 1000)
        if record.hedge:
            hedges.inc()
        if self._breaker_seen.get(record.system) != record.breaker_state:
            state = BREAKER_STATE_VALUES.get(record.breaker_state)
            if state is not None:
                breaker.set(state)
                self._breaker_seen[record.system] = record.breaker_state

    def observe_cache_hit(self, system: str) -> None:
        """A lookup answered from the last good value because the source did not."""
        self.cache_hits.labels(system).inc()

    def set_breaker_state(self, system: str, state: str) -> None:
        """For a breaker that changes state between attempts (say, open → half-open)."""
        self.breaker_state.labels(system).set(BREAKER_STATE_VALUES[state])
        self._breaker_seen[system] = state

    def observe_lookup(self, recommendation: str, seconds: float, past_deadline: bool) -> None:
        self.lookups.labels(recommendation).inc()
        self.lookup_latency.observe(seconds)
        if past_deadline:
            self.lookups_past_deadline.inc()

    @staticmethod
    def process_gone(pid: int) -> None:
        """A worker of this host died: its live-only gauges stop counting."""
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            multiprocess.mark_process_dead(pid)

    def observe_refusal(self, route: str, reason: str) -> None:
        self.refusals.labels(route, reason).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for a ``/metrics`` endpoint: every
        worker's, added up, when several share the port."""
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
