"""Fault profiles between the Chaos page's controls and the mocks' ``/_chaos`` JSON.

``build_profile`` turns what someone set on the page into the body of
``PUT /_chaos/systems/<s>`` (the mocks validate it and name a bad field in a 422);
``describe_profile`` says a profile back in a few words, for tables and the map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ERROR_KINDS",
    "LATENCY_KINDS",
    "PRESETS",
    "FaultControls",
    "build_profile",
    "controls_from_profile",
    "describe_profile",
]

ERROR_KINDS = (
    "500",
    "502",
    "503",
    "504",
    "429",
    "401",
    "revoked",
    "hang",
    "drop",
    "malformed",
    "slow_body",
)
LATENCY_KINDS = ("none", "fixed", "uniform", "lognormal")
ERROR_WORDS = {
    "429": "429 rate limited",
    "401": "401 expired credentials",
    "revoked": "revoked credentials",
    "hang": "hang (no answer)",
    "drop": "drop (connection cut)",
    "malformed": "malformed JSON",
    "slow_body": "slow body",
}


@dataclass(frozen=True)
class FaultControls:
    """The page's controls for one system; every number in the units shown on the page."""

    latency: str = "none"
    latency_ms: float = 200.0  # fixed: the delay; lognormal: the median; uniform: the low end
    latency_high_ms: float = 800.0  # uniform: the high end; lognormal: the p99
    error_pct: float = 0.0
    error_kinds: tuple[str, ...] = ("503",)
    retry_after_s: float = 1.0
    quota: bool = False
    quota_requests: int = 10
    quota_per_s: float = 1.0
    routes: tuple[Mapping[str, Any], ...] = field(default=())  # kept as they were


def build_profile(c: FaultControls) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if c.latency == "fixed":
        profile["latency"] = {"kind": "fixed", "ms": c.latency_ms}
    elif c.latency == "uniform":
        low, high = sorted((c.latency_ms, c.latency_high_ms))
        profile["latency"] = {"kind": "uniform", "min_ms": low, "max_ms": high}
    elif c.latency == "lognormal":
        p50 = max(c.latency_ms, 1.0)
        profile["latency"] = {
            "kind": "lognormal",
            "p50_ms": p50,
            "p99_ms": max(c.latency_high_ms, p50),
        }
    if c.error_pct > 0:
        kinds = c.error_kinds or ("500",)
        profile["errors"] = {
            "rate": round(min(c.error_pct, 100.0) / 100, 4),
            "kinds": {kind: 1 for kind in kinds},
            "retry_after_s": c.retry_after_s,
        }
    if c.quota:
        profile["rate_limit"] = {"requests": c.quota_requests, "per_s": c.quota_per_s}
    if c.routes:
        profile["routes"] = [dict(r) for r in c.routes]
    return profile


def controls_from_profile(profile: Mapping[str, Any] | None) -> FaultControls:
    """The controls that show ``profile`` (so the page starts from what is active)."""
    if not profile:
        return FaultControls()
    values: dict[str, Any] = {}
    latency = profile.get("latency") or {}
    kind = latency.get("kind")
    if kind == "fixed":
        values.update(latency="fixed", latency_ms=latency.get("ms") or 0.0)
    elif kind == "uniform":
        values.update(
            latency="uniform",
            latency_ms=latency.get("min_ms") or 0.0,
            latency_high_ms=latency.get("max_ms") or 0.0,
        )
    elif kind in ("lognormal", "normal"):
        values.update(
            latency="lognormal",
            latency_ms=latency.get("p50_ms") or 1.0,
            latency_high_ms=latency.get("p99_ms") or 1.0,
        )
    errors = profile.get("errors") or {}
    if errors.get("rate"):
        values.update(
            error_pct=float(errors["rate"]) * 100,
            error_kinds=tuple(k for k in errors.get("kinds", {}) if k in ERROR_KINDS) or ("500",),
            retry_after_s=float(errors.get("retry_after_s", 1.0)),
        )
    quota = profile.get("rate_limit") or {}
    if quota:
        values.update(
            quota=True,
            quota_requests=int(quota.get("requests", 10)),
            quota_per_s=float(quota.get("per_s", 1.0)),
        )
    values["routes"] = tuple(profile.get("routes") or ())
    return FaultControls(**values)


def describe_profile(profile: Mapping[str, Any] | None, *, down_now: bool = False) -> str:
    """A profile in words: "lognormal p50 120 / p99 900 ms · 10% errors (503, 429)"."""
    parts: list[str] = []
    if down_now:
        parts.append("DOWN (outage)")
    if not profile:
        return " · ".join(parts) or "no faults"
    latency = profile.get("latency") or {}
    kind = latency.get("kind")
    if kind == "fixed":
        parts.append(f"+{latency.get('ms', 0):g} ms")
    elif kind == "uniform":
        parts.append(f"+{latency.get('min_ms', 0):g}–{latency.get('max_ms', 0):g} ms")
    elif kind in ("normal", "lognormal"):
        parts.append(f"+p50 {latency.get('p50_ms', 0):g} / p99 {latency.get('p99_ms', 0):g} ms")
    errors = profile.get("errors") or {}
    if errors.get("rate"):
        # exclude_defaults drops the default kinds ({"500": 1}) from /_chaos's description
        kinds = ", ".join(_kinds(errors.get("kinds") or {"500": 1}))
        parts.append(f"{float(errors['rate']):.0%} errors ({kinds})")
    quota = profile.get("rate_limit") or {}
    if quota:
        parts.append(f"quota {quota.get('requests')} per {quota.get('per_s', 1):g} s")
    outages = profile.get("outages") or ()
    if outages and not down_now:
        parts.append(f"{len(outages)} outage window(s)")
    routes = profile.get("routes") or ()
    if routes:
        parts.append(f"{len(routes)} route rule(s)")
    return " · ".join(parts) or "no faults"


def _kinds(kinds: Mapping[str, Any] | Iterable[str]) -> list[str]:
    return [str(k) for k in kinds]


# One click to a story people recognise (system, profile, outage seconds or 0).
PRESETS: dict[str, tuple[str, dict[str, Any], float]] = {
    "Slow CRM (p50 250 ms, long tail)": (
        "crm",
        {"latency": {"kind": "lognormal", "p50_ms": 250, "p99_ms": 1200}},
        0,
    ),
    "Flaky eligibility (30% 503)": (
        "eligibility",
        {"errors": {"rate": 0.3, "kinds": {"503": 1}}},
        0,
    ),
    "ERP down for 60 s": ("erp", {}, 60),
    "Telephony quota (5 requests/s)": ("telephony", {"rate_limit": {"requests": 5, "per_s": 1}}, 0),
    "Payments timing out (hang 50%)": (
        "payments",
        {"errors": {"rate": 0.5, "kinds": {"hang": 1}}},
        0,
    ),
    "Calendar rate limited (429 40%)": (
        "calendar",
        {"errors": {"rate": 0.4, "kinds": {"429": 1}, "retry_after_s": 2}},
        0,
    ),
}
