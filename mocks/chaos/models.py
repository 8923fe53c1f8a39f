"""Validated fault profiles: what people write in YAML or send to ``/_chaos``.

A profile is data, not code: the engine reads it on every request. Bad input is refused
by pydantic with the offending field named (a 422 over HTTP, a clear message from a file):
every number is finite, none is negative, and each has a ceiling, so no profile can make a
request sleep for ever or a quota divide by nothing. Latencies are also capped by the hang
limit of the running mocks (``latencies_over``), which a model alone does not know.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "ChaosProfile",
    "ErrorKind",
    "ErrorSpec",
    "FaultProfile",
    "LatencySpec",
    "OutageWindow",
    "RateLimitSpec",
    "RouteFault",
    "latencies_over",
    "load_profile_file",
]

Z_99 = 2.3263478740408408  # standard normal quantile at 0.99
MAX_SECONDS = 30 * 86_400  # the longest outage window, quota period or Retry-After
MAX_WEIGHT = 1_000_000.0  # fault kinds are weighed against each other; this is plenty
MAX_SEED = 2**63 - 1
Loc = tuple[str | int, ...]  # where a field is, from the profile's root


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ErrorKind(StrEnum):
    """Every fault the engine can inject; the value is what ``X-Injected-Fault`` says."""

    HTTP_500 = "500"
    HTTP_502 = "502"
    HTTP_503 = "503"
    HTTP_504 = "504"
    RATE_LIMITED = "429"
    EXPIRED_CREDENTIALS = "401"
    # Revoked at the vendor's end: no refresh brings it back, only someone renewing it.
    # Each vendor refuses it in its own words (``MockService.revoked_credentials``).
    REVOKED_CREDENTIALS = "revoked"
    HANG = "hang"
    DROP = "drop"
    MALFORMED = "malformed"
    SLOW_BODY = "slow_body"


class LatencySpec(_Strict):
    """Added latency. ``normal`` and ``lognormal`` are set by the p50 and p99 people think in."""

    kind: Literal["fixed", "uniform", "normal", "lognormal"]
    ms: float | None = Field(None, ge=0, description="fixed: the delay")
    min_ms: float | None = Field(None, ge=0, description="uniform: lower bound")
    max_ms: float | None = Field(None, ge=0, description="uniform: upper bound")
    p50_ms: float | None = Field(None, gt=0, description="normal/lognormal: median")
    p99_ms: float | None = Field(None, gt=0, description="normal/lognormal: 99th percentile")

    @model_validator(mode="after")
    def _needs_its_parameters(self) -> LatencySpec:
        needed = {
            "fixed": ("ms",),
            "uniform": ("min_ms", "max_ms"),
            "normal": ("p50_ms", "p99_ms"),
            "lognormal": ("p50_ms", "p99_ms"),
        }[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"latency kind {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "uniform" and self.max_ms < self.min_ms:  # type: ignore[operator]
            raise ValueError("max_ms must be >= min_ms")
        if self.kind in ("normal", "lognormal") and self.p99_ms < self.p50_ms:  # type: ignore[operator]
            raise ValueError("p99_ms must be >= p50_ms")
        return self

    def lognormal_params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal, so that median and p99 come out as configured."""
        assert self.p50_ms is not None and self.p99_ms is not None
        mu = math.log(self.p50_ms)
        return mu, (math.log(self.p99_ms) - mu) / Z_99

    def normal_params(self) -> tuple[float, float]:
        assert self.p50_ms is not None and self.p99_ms is not None
        return self.p50_ms, (self.p99_ms - self.p50_ms) / Z_99


class ErrorSpec(_Strict):
    """A share of requests that fail, and how (weights need not sum to one)."""

    rate: float = Field(..., ge=0, le=1, description="share of requests that get a fault")
    kinds: dict[ErrorKind, Annotated[float, Field(gt=0, le=MAX_WEIGHT)]] = Field(
        default_factory=lambda: {ErrorKind.HTTP_500: 1.0}
    )
    retry_after_s: float = Field(
        1.0, ge=0, le=MAX_SECONDS, description="Retry-After sent with injected 429s"
    )


class OutageWindow(_Strict):
    """Down from ``start_s`` after the profile is applied, for ``duration_s`` seconds."""

    start_s: float = Field(0.0, ge=0, le=MAX_SECONDS)
    duration_s: float = Field(..., gt=0, le=MAX_SECONDS)


class RateLimitSpec(_Strict):
    """A token-bucket quota, like the vendor's: ``requests`` per ``per_s`` seconds, per key."""

    requests: int = Field(..., gt=0, le=1_000_000_000)
    # At least a millisecond: a period near zero makes the refill rate infinite.
    per_s: float = Field(..., ge=0.001, le=MAX_SECONDS)
    key: Literal["credential", "ip", "global"] = "credential"


class _Faults(_Strict):
    latency: LatencySpec | None = None
    errors: ErrorSpec | None = None
    outages: tuple[OutageWindow, ...] = ()
    rate_limit: RateLimitSpec | None = None


class RouteFault(_Faults):
    """Faults for the requests of one system that match ``match``: ``"METHOD /glob"``.

    The glob is matched against the path below the system's prefix, e.g.
    ``"GET /services/data/*/query*"``; ``*`` as method matches any.
    """

    match: str = Field(..., pattern=r"^(\*|[A-Z]+) /\S*$", max_length=500)


class FaultProfile(_Faults):
    """The faults of one system; the first matching route entry overrides the system's own."""

    routes: tuple[RouteFault, ...] = ()


class ChaosProfile(_Strict):
    """A whole fault profile, as loaded from YAML at start (``--faults FILE``)."""

    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    systems: dict[str, FaultProfile] = Field(default_factory=dict)


_LATENCY_FIELDS = ("ms", "min_ms", "max_ms", "p50_ms", "p99_ms")


def latencies_over(profile: FaultProfile, max_ms: float) -> Iterator[tuple[Loc, str]]:
    """(where, why) for each latency in ``profile`` above ``max_ms``, the hang limit: no
    injected delay may hold a request longer than a hang does."""
    owners: list[tuple[Loc, LatencySpec | None]] = [(("latency",), profile.latency)]
    owners += [(("routes", i, "latency"), r.latency) for i, r in enumerate(profile.routes)]
    for where, latency in owners:
        for name in _LATENCY_FIELDS:
            value = getattr(latency, name, None) if latency is not None else None
            if value is not None and value > max_ms:
                yield (*where, name), f"must be at most {max_ms:g} ms, the hang limit (max_hang_s)"


def load_profile_file(path: Path) -> ChaosProfile:
    """Read a YAML profile; a bad file names the field that is wrong and the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read fault profile {path}: {exc}") from exc
    try:
        return ChaosProfile.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(f"invalid fault profile {path}:\n{exc}") from exc
