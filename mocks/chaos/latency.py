"""Sampling the configured latency distributions from a seeded random source."""

from __future__ import annotations

import random

from mocks.chaos.models import LatencySpec

__all__ = ["sample_latency_ms"]


def sample_latency_ms(spec: LatencySpec, rng: random.Random) -> float:
    """One delay in milliseconds; never negative (a normal tail below zero is cut at zero)."""
    if spec.kind == "fixed":
        assert spec.ms is not None
        return spec.ms
    if spec.kind == "uniform":
        assert spec.min_ms is not None and spec.max_ms is not None
        return rng.uniform(spec.min_ms, spec.max_ms)
    if spec.kind == "normal":
        mean, sd = spec.normal_params()
        return max(0.0, rng.gauss(mean, sd))
    mu, sigma = spec.lognormal_params()
    return rng.lognormvariate(mu, sigma)
