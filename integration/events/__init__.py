"""Events, metrics and their stores: what the layer did, for the dashboard, disk and Prometheus.

``EventSink`` is the one entry point the layer calls; it feeds the ``EventStream`` (recent
events in memory, paged by cursor), the ``EventStore`` (all events, on disk, written in the
background) and ``Metrics`` (Prometheus, in a registry of its own).
"""

from integration.events.metrics import Metrics
from integration.events.model import EVENT_KINDS, AttemptLike, Event, utc_now_iso
from integration.events.sink import EventSink
from integration.events.store import EventStore
from integration.events.stream import EventStream

__all__ = [
    "EVENT_KINDS",
    "AttemptLike",
    "Event",
    "EventSink",
    "EventStore",
    "EventStream",
    "Metrics",
    "utc_now_iso",
]
