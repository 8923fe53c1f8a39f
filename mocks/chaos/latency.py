"""Sampling the configured latency distributions from a seeded random source."""

from __future__ import annotations

import math
import random

from mocks.chaos.models import LatencySpec

__all__ = ["sample_latency_ms"]

# exp() of more overflows a float: a lognormal with a tiny median and a wide tail can draw
# that far, and the gateway cuts every delay at the hang limit anyway.
_MAX_EXPONENT = 700.0


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
    # lognormvariate(mu, sigma) is exp(normalvariate(mu, sigma)): the same draws, bounded.
    return math.exp(min(rng.normalvariate(mu, sigma), _MAX_EXPONENT))
