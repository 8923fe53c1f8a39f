"""Claims, verdicts and replays: the dispatcher's transactions (blocking SQL, run in the
store's worker threads).

Each function is one transaction. Verdicts on an effect are fenced on its lease owner: a
dispatcher whose lease was taken over changes nothing. Claims are compare-and-set
updates, so two dispatchers never hold one effect, even on a database without SQLite's
single writer lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from integration.outbox._schema import effect_deps, effect_row, effects, write
from integration.outbox.model import DEAD_REASONS, EffectRow

__all__ = [
    "claim",
    "due_filter",
    "mark_dead",
    "mark_delivered",
    "mark_retry",
    "release_leases",
    "replay",
    "replay_system",
]

Clock = Callable[[], float]
_NO_LEASE = {"lease_owner": None, "lease_until": None}
_e = effects.c


def due_filter(now: float) -> Any:
    """Pending, its time come, not under a live lease, every dependency delivered."""
    parent = aliased(effects)
    undelivered_dependency = exists(
        select(1)
        .select_from(effect_deps.join(parent, parent.c.id == effect_deps.c.depends_on_id))
        .where(effect_deps.c.effect_id == _e.id, parent.c.status != "delivered")
    )
    return and_(
        _e.status == "pending",
        or_(_e.next_attempt_at.is_(None), _e.next_attempt_at <= now),
        or_(_e.lease_until.is_(None), _e.lease_until <= now),
        ~undelivered_dependency,
    )


# -- claiming and verdicts ------------------------------------------------------------------


def claim(
    engine: Engine, clock: Clock, owner: str, limits: Mapping[str, int], lease_s: float
) -> list[EffectRow]:
    claimed: list[int] = []
    with write(engine) as conn:
        now = clock()
        for system, limit in limits.items():
            if limit <= 0:
                continue
            soonest = func.coalesce(_e.next_attempt_at, _e.created_at)
            candidates = conn.execute(
                select(_e.id).where(due_filter(now), _e.system == system)
                .order_by(soonest, _e.id).limit(limit)
            ).scalars().all()  # fmt: skip
            for effect_id in candidates:
                taken = conn.execute(
                    update(effects)
                    # Compare-and-set: still due as we write (another database may have let
                    # a second dispatcher take or settle it since the select).
                    .where(_e.id == effect_id, due_filter(now))
                    .values(lease_owner=owner, lease_until=now + lease_s)
                )
                if taken.rowcount == 1:
                    claimed.append(effect_id)
        if not claimed:
            return []
        rows = conn.execute(select(effects).where(_e.id.in_(claimed)).order_by(_e.id))
        return [effect_row(r) for r in rows]


def _held(effect_id: int, owner: str) -> Any:
    return and_(_e.id == effect_id, _e.lease_owner == owner, _e.status == "pending")


def mark_delivered(
    engine: Engine, clock: Clock, effect_id: int, owner: str, result: dict[str, Any]
) -> bool:
    with write(engine) as conn:
        payload = conn.execute(select(_e.payload).where(_held(effect_id, owner))).scalar()
        if payload is None:
            return False
        values: dict[str, Any] = {
            "status": "delivered", "delivered_at": clock(), "attempts": _e.attempts + 1,
            "result": json.dumps(result, default=str), "next_attempt_at": None, **_NO_LEASE,
        }  # fmt: skip
        fields = json.loads(payload)
        if fields.get("card_sealed"):
            # Charged: the sealed card has done its job and is not kept a moment longer.
            values["payload"] = json.dumps({**fields, "card_sealed": None}, sort_keys=True)
        done = conn.execute(update(effects).where(_held(effect_id, owner)).values(**values))
        return done.rowcount == 1


def mark_retry(
    engine: Engine,
    effect_id: int,
    owner: str,
    error: str,
    next_attempt_at: float,
    count_attempt: bool,
) -> bool:
    values: dict[str, Any] = {"next_attempt_at": next_attempt_at, "last_error": error, **_NO_LEASE}
    if count_attempt:
        values["attempts"] = _e.attempts + 1
    with write(engine) as conn:
        done = conn.execute(update(effects).where(_held(effect_id, owner)).values(**values))
        return done.rowcount == 1


def mark_dead(
    engine: Engine, effect_id: int, owner: str, error: str, reason: str, count_attempt: bool
) -> list[int]:
    if reason not in DEAD_REASONS:
        raise ValueError(f"dead reason must be one of {DEAD_REASONS}, not {reason!r}")
    values: dict[str, Any] = {
        "status": "dead", "dead_reason": reason, "last_error": error,
        "next_attempt_at": None, **_NO_LEASE,
    }  # fmt: skip
    if count_attempt:
        values["attempts"] = _e.attempts + 1
    with write(engine) as conn:
        name = conn.execute(select(_e.name).where(_held(effect_id, owner))).scalar()
        if name is None:
            return []
        done = conn.execute(update(effects).where(_held(effect_id, owner)).values(**values))
        if done.rowcount != 1:
            return []
        dead = [effect_id]
        why = f"depends on {name} (#{effect_id}), a dead letter: {reason}"
        frontier = [effect_id]
        while frontier:
            children = _dependents(conn, frontier, _e.status == "pending")
            if children:
                conn.execute(
                    update(effects).where(_e.id.in_(children)).values(
                        status="dead", dead_reason="dependency_dead", last_error=why,
                        next_attempt_at=None, **_NO_LEASE,
                    )
                )  # fmt: skip
            dead += children
            frontier = children
        return dead


def _dependents(conn: Connection, parents: Sequence[int], condition: Any) -> list[int]:
    child = effect_deps.c.effect_id
    query = (
        select(child)
        .distinct()
        .join(effects, _e.id == child)
        .where(effect_deps.c.depends_on_id.in_(parents), condition)
        .order_by(child)
    )
    return list(conn.execute(query).scalars())


def release_leases(engine: Engine, owner: str) -> int:
    with write(engine) as conn:
        done = conn.execute(
            update(effects)
            .where(_e.lease_owner == owner, _e.status == "pending")
            .values(**_NO_LEASE)
        )
        return int(done.rowcount)


# -- replaying dead letters -----------------------------------------------------------------


def replay(engine: Engine, clock: Clock, effect_id: int) -> list[int]:
    with write(engine) as conn:
        status = conn.execute(select(_e.status).where(_e.id == effect_id)).scalar()
        if status is None:
            raise KeyError(effect_id)
        if status != "dead":
            raise ValueError(f"effect {effect_id} is {status}, not dead: only dead letters replay")
        return _revive(conn, clock(), [effect_id])


def replay_system(engine: Engine, clock: Clock, system: str) -> list[int]:
    with write(engine) as conn:
        roots = conn.execute(
            select(_e.id).where(_e.system == system, _e.status == "dead",
                                _e.dead_reason != "dependency_dead").order_by(_e.id)
        ).scalars().all()  # fmt: skip
        revived = _revive(conn, clock(), list(roots))
        # Casualties in this system whose own failed dependency was replayed before.
        orphans = [
            i
            for i in conn.execute(
                select(_e.id).where(_e.system == system, _e.dead_reason == "dependency_dead",
                                    _e.status == "dead").order_by(_e.id)
            ).scalars()
            if not _has_dead_dependency(conn, i)
        ]  # fmt: skip
        return revived + _revive(conn, clock(), orphans)


def _revive(conn: Connection, now: float, roots: list[int]) -> list[int]:
    """Dead ``roots`` back to pending, then, level by level, every effect they took down
    whose dependencies are all alive again (one still dead would only strand it)."""
    revived: list[int] = []
    frontier = roots
    while frontier:
        conn.execute(
            update(effects).where(_e.id.in_(frontier), _e.status == "dead").values(
                status="pending", attempts=0, next_attempt_at=now, dead_reason=None, **_NO_LEASE
            )
        )  # fmt: skip
        revived += frontier
        casualties = _dependents(
            conn, frontier, and_(_e.status == "dead", _e.dead_reason == "dependency_dead")
        )
        frontier = [c for c in casualties if not _has_dead_dependency(conn, c)]
    return revived


def _has_dead_dependency(conn: Connection, effect_id: int) -> bool:
    parent = aliased(effects)
    query = (
        select(1)
        .select_from(effect_deps.join(parent, parent.c.id == effect_deps.c.depends_on_id))
        .where(effect_deps.c.effect_id == effect_id, parent.c.status == "dead")
        .limit(1)
    )
    return conn.execute(query).first() is not None
