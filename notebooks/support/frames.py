"""The service's answers as pandas DataFrames, ready to sort, group and plot.

Each function reads one public API (the integration service's or the mocks'), never a
store's files, so a notebook learns the same endpoints the dashboard reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import pandas as pd

from integration.lookup.view import FIELDS

__all__ = [
    "FIELDS",
    "events_cursor",
    "events_frame",
    "ledger_check",
    "provenance_frame",
    "steps_frame",
]


def events_cursor(api: httpx.Client) -> int:
    """The newest event's ``seq``: pass it as ``cursor`` later to see only what came after."""
    cursor = 0
    while True:
        page = api.get("/events", params={"cursor": cursor, "limit": 5000})
        page.raise_for_status()
        body = page.json()
        if not body["events"] or body["next_cursor"] == cursor:
            return cursor
        cursor = int(body["next_cursor"])


def events_frame(
    api: httpx.Client, *, call_id: str | None = None, kind: str | None = None, cursor: int = 0
) -> pd.DataFrame:
    """Every event after ``cursor`` (``GET /events``), one row each, paging to the end."""
    rows: list[dict[str, Any]] = []
    while True:
        params = {"cursor": cursor, "limit": 5000, "call_id": call_id, "kind": kind}
        page = api.get("/events", params={k: v for k, v in params.items() if v is not None})
        page.raise_for_status()
        body = page.json()
        rows.extend(body["events"])
        if not body["events"] or body["next_cursor"] == cursor:
            break
        cursor = body["next_cursor"]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["at"] = pd.to_datetime(frame["at"])
    return frame


def steps_frame(view: Mapping[str, Any]) -> pd.DataFrame:
    """The lookup's steps (one row per source): start, duration, provenance, attempts."""
    frame = pd.DataFrame(view["steps"])
    frame["ended_ms"] = frame["started_ms"] + frame["duration_ms"]
    return frame


def provenance_frame(views: Iterable[Mapping[str, Any]], **labels: Any) -> pd.DataFrame:
    """One row per field of each caller view: where it came from and why not live.

    ``labels`` become constant columns (``fault="crm down"``), for stacking runs together.
    """
    rows = []
    for view in views:
        for name in FIELDS:
            part = view.get(name) or {}
            prov = part.get("provenance") or {}
            rows.append(
                {
                    **labels,
                    "phone": view["phone"],
                    "field": name,
                    "status": prov.get("status"),
                    "system": prov.get("system"),
                    "age_s": prov.get("age_s"),
                    "reason": prov.get("reason"),
                    "latency_ms": prov.get("latency_ms"),
                    "action": view["recommendation"]["action"],
                    "elapsed_ms": view["elapsed_ms"],
                }
            )
    return pd.DataFrame(rows)


def ledger_check(chaos: Any, acknowledged: Mapping[str, str]) -> pd.DataFrame:
    """Each acknowledged write (idempotency key -> system) against the mocks' ledgers:
    how many times the target system applied it. Once is right; 0 is lost (or not yet
    delivered); 2 or more is a duplicate. ``chaos`` is a ``notebooks.support.Chaos``."""
    applied: dict[str, dict[str, int]] = {}
    for system in sorted(set(acknowledged.values())):
        # One request may apply several operations under its key (a payment is created,
        # then confirmed): the same operation twice under one key is what a duplicate is.
        per_operation: dict[tuple[str, str], int] = {}
        for entry in chaos.ledger(system)["entries"]:
            if entry["idempotency_key"] is not None:
                slot = (entry["idempotency_key"], entry["operation"])
                per_operation[slot] = per_operation.get(slot, 0) + 1
        counts: dict[str, int] = {}
        for (key, _), n in per_operation.items():
            counts[key] = max(counts.get(key, 0), n)
        applied[system] = counts
    rows = [
        {"idempotency_key": key, "system": system, "applied": applied[system].get(key, 0)}
        for key, system in acknowledged.items()
    ]
    frame = pd.DataFrame(rows, columns=["idempotency_key", "system", "applied"])
    frame["verdict"] = frame["applied"].map(
        lambda n: "applied once" if n == 1 else ("lost" if n == 0 else "duplicate")
    )
    return frame
