"""Reading the integration service's ``/metrics`` text (Prometheus exposition format)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Sample", "by_label", "histogram_quantile", "parse", "total"]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str) -> list[Sample]:
    """Every sample; an unreadable body gives none rather than an error on the page."""
    try:
        return [
            Sample(s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except (ValueError, TypeError):
        return []


def _matches(sample: Sample, name: str, match: dict[str, str]) -> bool:
    return sample.name == name and all(sample.labels.get(k) == v for k, v in match.items())


def total(samples: list[Sample], name: str, **match: str) -> float:
    return sum(s.value for s in samples if _matches(s, name, match))


def by_label(samples: list[Sample], name: str, label: str, **match: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in samples:
        if _matches(s, name, match) and label in s.labels:
            out[s.labels[label]] = out.get(s.labels[label], 0.0) + s.value
    return out


def histogram_quantile(samples: list[Sample], name: str, q: float, **match: str) -> float | None:
    """The q-quantile from cumulative ``<name>_bucket`` counts, interpolated as Prometheus does."""
    buckets: dict[float, float] = {}
    for s in samples:
        if _matches(s, f"{name}_bucket", match) and "le" in s.labels:
            bound = math.inf if s.labels["le"] == "+Inf" else float(s.labels["le"])
            buckets[bound] = buckets.get(bound, 0.0) + s.value
    if not buckets:
        return None
    ordered = sorted(buckets.items())
    count = ordered[-1][1]
    if count <= 0:
        return None
    rank = q * count
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in ordered:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its edge is all we know
            width = cumulative - lower_count
            fraction = (rank - lower_count) / width if width else 1.0
            return lower_bound + (bound - lower_bound) * fraction
        lower_bound, lower_count = bound, cumulative
    return lower_bound
