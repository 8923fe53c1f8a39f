"""Calls over time: throughput, latency percentiles and outcomes in fixed buckets.

Input is ``GET /calls`` (at most the newest thousand); everything older is in the
service's Prometheus counters, which the Load page shows as totals. Bucketing happens
here with pandas so the page draws a few hundred points, never ten thousand rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["BUCKET_S", "bucket_calls", "calls_frame"]

BUCKET_S = 5


def calls_frame(calls: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per call: when (UTC), how long, what the agent was told."""
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(
                [c.get("started_at") for c in calls], utc=True, errors="coerce", format="ISO8601"
            ),
            "elapsed_ms": pd.to_numeric([c.get("elapsed_ms") for c in calls], errors="coerce"),
            "recommendation": [c.get("recommendation") or "unknown" for c in calls],
        }
    )
    return frame.dropna(subset=["at"])


def bucket_calls(frame: pd.DataFrame, bucket_s: int = BUCKET_S) -> pd.DataFrame:
    """Per bucket: calls/s, p50/p95 ms, and counts per recommendation.

    The newest bucket is dropped while it is still filling (it would always look like a
    dip in throughput).
    """
    columns = [
        "at",
        "calls_per_s",
        "p50_ms",
        "p95_ms",
        "carry_on",
        "use_cached_and_say_so",
        "escalate",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    keyed = frame.assign(bucket=frame["at"].dt.floor(f"{bucket_s}s"))
    grouped = keyed.groupby("bucket")
    out = pd.DataFrame(
        {
            "calls_per_s": grouped.size() / bucket_s,
            "p50_ms": grouped["elapsed_ms"].quantile(0.5),
            "p95_ms": grouped["elapsed_ms"].quantile(0.95),
        }
    )
    counts = keyed.pivot_table(
        index="bucket", columns="recommendation", values="elapsed_ms", aggfunc="count", fill_value=0
    )
    for name in ("carry_on", "use_cached_and_say_so", "escalate"):
        out[name] = counts.get(name, 0)
    # Empty buckets are real: no calls then. Fill them so a pause shows as a gap to zero.
    full = pd.date_range(out.index.min(), out.index.max(), freq=f"{bucket_s}s")
    out = out.reindex(full)
    out[["calls_per_s", "carry_on", "use_cached_and_say_so", "escalate"]] = out[
        ["calls_per_s", "carry_on", "use_cached_and_say_so", "escalate"]
    ].fillna(0)
    now = pd.Timestamp.now(tz="UTC")
    if len(out) > 1 and out.index[-1] + pd.Timedelta(seconds=bucket_s) > now:
        out = out.iloc[:-1]
    return out.rename_axis("at").reset_index()[columns]
