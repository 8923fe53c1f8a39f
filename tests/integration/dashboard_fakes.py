"""A stand-in for the integration service's write-path and scenario endpoints.

It answers exactly the shapes of ``/work/notes/outbox_contract.md`` (``GET /outbox``,
``/outbox/effects``, ``/outbox/dead``, the two replays) and of ``GET /scenarios/results``,
from a small in-memory state, so the dashboard's Write path and Scorecards pages can be
driven with data (and their replay buttons checked) before or without the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException

__all__ = ["FakeWriteSide", "fake_write_side_app"]

SYSTEMS = ("calendar", "crm", "messaging", "email", "slack", "analytics", "payments", "loans")


def _effect(effect_id: int, system: str, status: str, **extra: Any) -> dict[str, Any]:
    created = datetime.now(UTC) - timedelta(seconds=30 + effect_id)
    call_id = f"call_{effect_id:016x}"
    return {
        "id": effect_id,
        "call_id": call_id,
        "name": f"{system}_1",
        "system": system,
        "kind": f"{system}.send",
        "status": status,
        "attempts": 3 if status == "dead" else 1,
        "idempotency_key": f"sb:{call_id}:{system}_1",
        "depends_on": [],
        "created_at": created.isoformat(),
        "next_attempt_at": None,
        "delivered_at": None,
        "age_s": 30.0 + effect_id,
        "last_error": None,
        "dead_reason": None,
        "result": None,
        **extra,
    }


@dataclass
class FakeWriteSide:
    effects: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def seeded(cls) -> FakeWriteSide:
        effects = [_effect(i, SYSTEMS[i % len(SYSTEMS)], "delivered") for i in range(1, 41)]
        effects += [_effect(41 + i, SYSTEMS[i % 3], "pending") for i in range(6)]
        effects += [
            _effect(60, "crm", "dead", dead_reason="rejected", last_error="400 INVALID_FIELD"),
            _effect(61, "slack", "dead", dead_reason="max_attempts", last_error="429 ratelimited"),
            _effect(62, "slack", "dead", dead_reason="max_attempts", last_error="503"),
        ]
        results = [
            {
                "name": "crm-brownout",
                "started_at": "2026-11-25T10:00:00+00:00",
                "passed": True,
                "scorecard": {
                    "calls": 240,
                    "escalated_share": 0.02,
                    "lookup_p95_ms": 412.0,
                    "duplicates": 0,
                    "lost_effects": 0,
                    "checks": [
                        {"name": "p95 under 800 ms", "passed": True, "value": 412.0},
                        {"name": "no effect lost", "passed": True, "value": 0},
                    ],
                },
            },
            {
                "name": "payments-outage",
                "started_at": "2026-11-25T10:05:00+00:00",
                "passed": False,
                "scorecard": {
                    "calls": 180,
                    "escalated_share": 0.11,
                    "lookup_p95_ms": 380.0,
                    "duplicates": 0,
                    "lost_effects": 2,
                    "checks": [{"name": "no effect lost", "passed": False, "value": 2}],
                },
            },
        ]
        return cls(effects, [], results)

    def summary(self) -> dict[str, Any]:
        def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {s: 0 for s in ("pending", "in_flight", "delivered", "dead")}
            for row in rows:
                out[row["status"]] += 1
            ages = [r["age_s"] for r in rows if r["status"] == "pending"]
            out["oldest_pending_age_s"] = max(ages) if ages else None
            return out

        systems = {
            s: {**counts([e for e in self.effects if e["system"] == s]), "breaker": "closed"}
            for s in SYSTEMS
        }
        return {
            **counts(self.effects),
            "systems": systems,
            "delivery_latency_ms": {"p50": 42.0, "p95": 180.0},
            "attempts_per_delivery": 1.2,
        }

    def replay(self, effect_ids: list[int]) -> list[int]:
        for effect in self.effects:
            if effect["id"] in effect_ids:
                effect.update(status="pending", dead_reason=None)
        self.replayed += effect_ids
        return effect_ids


def fake_write_side_app(state: FakeWriteSide) -> FastAPI:
    app = FastAPI()

    def newest(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda e: e["id"], reverse=True)[:limit]

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/outbox")
    def outbox() -> dict[str, Any]:
        return state.summary()

    @app.get("/outbox/effects")
    def effects(status: str | None = None, system: str | None = None, limit: int = 100) -> Any:
        rows = [e for e in state.effects if status in (None, e["status"])]
        rows = [e for e in rows if system in (None, e["system"])]
        return {"effects": newest(rows, limit)}

    @app.get("/outbox/dead")
    def dead(system: str | None = None, limit: int = 100) -> dict[str, Any]:
        rows = [e for e in state.effects if e["status"] == "dead"]
        return {"effects": newest([e for e in rows if system in (None, e["system"])], limit)}

    @app.post("/outbox/dead/{effect_id}/replay")
    def replay_one(effect_id: int) -> dict[str, Any]:
        found = [e for e in state.effects if e["id"] == effect_id]
        if not found:
            raise HTTPException(404, "no such effect")
        if found[0]["status"] != "dead":
            raise HTTPException(409, "not dead")
        return {"replayed": state.replay([effect_id])}

    @app.post("/outbox/dead/replay")
    def replay_system(system: str) -> dict[str, Any]:
        if system not in SYSTEMS:
            raise HTTPException(422, "unknown system")
        ids = [e["id"] for e in state.effects if e["status"] == "dead" and e["system"] == system]
        return {"replayed": state.replay(ids), "count": len(ids)}

    @app.get("/scenarios/results")
    def results() -> dict[str, Any]:
        return {"results": state.results}

    return app
