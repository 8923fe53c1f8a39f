"""Prometheus metrics of the write path, registered beside the layer's own.

Depth, oldest age and dead letters are gauges set from the store's counts whenever
``/metrics`` or ``/outbox`` is read (the store is the truth, and it survives restarts);
delivery latency and attempts are histograms observed as each effect is delivered;
Twilio's status callbacks are counted as they arrive.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["OutboxMetrics"]

# From a delivery on the first try (tens of ms) to one that waited out an outage (hours).
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400)
ATTEMPT_BUCKETS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50)


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry, namespace: str = "switchboard") -> None:
        on: dict[str, Any] = {"namespace": namespace, "registry": registry}
        by_system = ["system"]
        # Set from the store's counts: the same truth in every worker, the newest wins.
        newest: dict[str, Any] = {**on, "multiprocess_mode": "mostrecent"}
        self.depth = Gauge(
            "outbox_depth", "Effects not yet delivered (dead excluded)", by_system, **newest
        )
        self.oldest_age = Gauge(
            "outbox_oldest_pending_age_seconds", "Age of the oldest undelivered effect", **newest
        )
        self.dead = Gauge(
            "outbox_dead_letters", "Effects in the dead-letter list", by_system, **newest
        )
        self.delivered = Counter(
            "outbox_delivered", "Effects delivered by this process", by_system, **on
        )
        self.delivery_latency = Histogram(
            "outbox_delivery_latency_seconds",
            "From the call's end to the effect applied",
            by_system,
            buckets=DELIVERY_BUCKETS,
            **on,
        )
        self.attempts = Histogram(
            "outbox_attempts_per_delivery",
            "Delivery attempts an effect took",
            by_system,
            buckets=ATTEMPT_BUCKETS,
            **on,
        )
        self.retries = Counter(
            "outbox_retries",
            "Delivery attempts that failed and were rescheduled",
            ["system", "reason"],
            **on,
        )

        # Twilio's message status callbacks (integration/service/webhook_routes.py).
        self.callbacks_received = Counter(
            "message_status_callbacks",
            "Signed, well-formed status callbacks, by status",
            ["status"],
            **on,
        )
        self.callbacks_duplicated = Counter(
            "message_status_callbacks_duplicated", "Callbacks for a status already recorded", **on
        )
        self.callbacks_out_of_order = Counter(
            "message_status_callbacks_out_of_order",
            "Callbacks behind the recorded status (ignored: status never moves back)",
            **on,
        )
        self.callbacks_unmatched = Counter(
            "message_status_callbacks_unmatched",
            "Callbacks for a message no delivered effect has sent (yet)",
            **on,
        )
        self.callbacks_refused = Counter(
            "message_status_callbacks_refused",
            "Callbacks refused: bad_signature (403) or bad_request (400)",
            ["reason"],
            **on,
        )

    def observe_callback(self, status: str, verdict: str, matched: bool) -> None:
        self.callbacks_received.labels(status).inc()
        if verdict == "duplicate":
            self.callbacks_duplicated.inc()
        elif verdict == "out_of_order":
            self.callbacks_out_of_order.inc()
        if not matched:
            self.callbacks_unmatched.inc()

    def observe_delivery(self, system: str, latency_s: float, attempts: int) -> None:
        self.delivered.labels(system).inc()
        self.delivery_latency.labels(system).observe(latency_s)
        self.attempts.labels(system).observe(attempts)

    def observe_retry(self, system: str, reason: str) -> None:
        self.retries.labels(system, reason).inc()

    def set_counts(self, stats: dict[str, Any]) -> None:
        """Gauges from ``OutboxStore.stats()``."""
        self.oldest_age.set(stats.get("oldest_pending_age_s") or 0.0)
        for system, counts in stats.get("systems", {}).items():
            self.depth.labels(system).set(counts.get("pending", 0) + counts.get("in_flight", 0))
            self.dead.labels(system).set(counts.get("dead", 0))
