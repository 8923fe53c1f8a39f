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

from sqlalchemy import Connection, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from integration.outbox._schema import effect_deps, effect_row, effects
from integration.outbox.model import DEAD_REASONS, EffectRow
from integration.store.database import Database
from integration.store.sql import Sql

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


def _undelivered_dependency() -> Any:
    parent = aliased(effects)
    return exists(
        select(1)
        .select_from(effect_deps.join(parent, parent.c.id == effect_deps.c.depends_on_id))
        .where(effect_deps.c.effect_id == _e.id, parent.c.status != "delivered")
    )


# Statements are built once, with bound parameters: composing them for every claim and
# verdict cost more CPU than running them (as in the database client), and that Python
# work, done in the store's worker threads, holds the GIL the event loop needs.
_UNDELIVERED_DEPENDENCY = _undelivered_dependency()


def due_filter(now: Any) -> Any:
    """Pending, its time come, not under a live lease, every dependency delivered.
    ``now``: a number, or a ``bindparam`` for a statement built once."""
    return and_(
        _e.status == "pending",
        or_(_e.next_attempt_at.is_(None), _e.next_attempt_at <= now),
        or_(_e.lease_until.is_(None), _e.lease_until <= now),
        ~_UNDELIVERED_DEPENDENCY,
    )


_DUE = due_filter(bindparam("now"))
# On PostgreSQL the candidates are locked as they are read, skipping rows another worker's
# claim holds: workers claiming at once take different effects instead of queueing on
# each other's rows (SQLite ignores the clause: its one writer claims alone).
_DUE_OF_SYSTEM = (
    select(_e.id)
    .where(_DUE, _e.system == bindparam("system"))
    .order_by(func.coalesce(_e.next_attempt_at, _e.created_at), _e.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=effects)
)
# Compare-and-set in one statement: each row is leased only if still due as it is written
# (another database may have let a second dispatcher take or settle it since the select).
_TAKE = (
    update(effects)
    .where(_e.id.in_(bindparam("ids", expanding=True)), _DUE)
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
)
# What this claim took: a due effect's lease had run out (or there was none), so only the
# rows just written carry this owner and this lease's end.
_TAKEN = (
    select(effects)
    .where(
        _e.id.in_(bindparam("ids", expanding=True)),
        _e.lease_owner == bindparam("owner"),
        _e.lease_until == bindparam("until"),
    )
    .order_by(_e.id)
)


# -- claiming and verdicts ------------------------------------------------------------------


def claim(
    db: Database, clock: Clock, owner: str, limits: Mapping[str, int], lease_s: float
) -> list[EffectRow]:
    if lease_s <= 0:
        raise ValueError("lease_s must be above zero")
    with db.write() as conn:
        now = clock()
        candidates: list[int] = []
        for system, limit in limits.items():
            if limit > 0:
                found = conn.execute(
                    _DUE_OF_SYSTEM, {"now": now, "system": system, "limit": limit}
                ).scalars()
                candidates.extend(found)
        if not candidates:
            return []
        lease = {"ids": candidates, "owner": owner, "until": now + lease_s, "now": now}
        if conn.execute(_TAKE, lease).rowcount == 0:
            return []
        return [effect_row(r) for r in conn.execute(_TAKEN, lease)]


def _held(effect_id: int, owner: str) -> Any:
    return and_(_e.id == effect_id, _e.lease_owner == owner, _e.status == "pending")


_MARK_DELIVERED = Sql("""
    UPDATE outbox_effects SET status = 'delivered', delivered_at = :at,
        attempts = attempts + 1, result = :result, next_attempt_at = NULL,
        lease_owner = NULL, lease_until = NULL
    WHERE id = :id AND lease_owner = :owner AND status = 'pending'
""")

After = Callable[[Connection, EffectRow, dict[str, Any], float], None]


def mark_delivered(
    db: Database,
    clock: Clock,
    row: EffectRow,
    owner: str,
    result: dict[str, Any],
    after: After | None,
) -> bool:
    """Delivered, fenced on ``owner``'s lease; ``after`` (the kind's own step) in the same
    transaction. False when the lease had moved on (nothing changes)."""
    with db.write() as conn:
        now = clock()
        result_json = json.dumps(result, default=str)
        verdict = {"id": row.id, "owner": owner, "at": now, "result": result_json}
        if _MARK_DELIVERED.count(conn, verdict) != 1:
            return False
        if after is not None:
            after(conn, row, result, now)
        return True


def mark_retry(
    db: Database,
    effect_id: int,
    owner: str,
    error: str,
    next_attempt_at: float,
    count_attempt: bool,
) -> bool:
    values: dict[str, Any] = {"next_attempt_at": next_attempt_at, "last_error": error, **_NO_LEASE}
    if count_attempt:
        values["attempts"] = _e.attempts + 1
    with db.write() as conn:
        done = conn.execute(update(effects).where(_held(effect_id, owner)).values(**values))
        return done.rowcount == 1


def mark_dead(
    db: Database, effect_id: int, owner: str, error: str, reason: str, count_attempt: bool
) -> list[int]:
    if reason not in DEAD_REASONS:
        raise ValueError(f"dead reason must be one of {DEAD_REASONS}, not {reason!r}")
    values: dict[str, Any] = {
        "status": "dead",
        "dead_reason": reason,
        "last_error": error,
        "next_attempt_at": None,
        **_NO_LEASE,
    }
    if count_attempt:
        values["attempts"] = _e.attempts + 1
    with db.write() as conn:
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
                    update(effects)
                    .where(_e.id.in_(children))
                    .values(
                        status="dead",
                        dead_reason="dependency_dead",
                        last_error=why,
                        next_attempt_at=None,
                        **_NO_LEASE,
                    )
                )
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


def release_leases(db: Database, owner: str) -> int:
    with db.write() as conn:
        done = conn.execute(
            update(effects)
            .where(_e.lease_owner == owner, _e.status == "pending")
            .values(**_NO_LEASE)
        )
        return int(done.rowcount)


# -- replaying dead letters -----------------------------------------------------------------


def replay(db: Database, clock: Clock, effect_id: int) -> list[int]:
    with db.write() as conn:
        status = conn.execute(select(_e.status).where(_e.id == effect_id)).scalar()
        if status is None:
            raise KeyError(effect_id)
        if status != "dead":
            raise ValueError(f"effect {effect_id} is {status}, not dead: only dead letters replay")
        reason = conn.execute(select(_e.dead_reason).where(_e.id == effect_id)).scalar()
        if reason == "superseded":
            raise ValueError(
                f"effect {effect_id} was taken on by manual processing: replaying it would "
                "apply it twice"
            )
        return _revive(conn, clock(), [effect_id])


def supersede(db: Database, effect_id: int) -> bool:
    """Mark a dead letter as taken on another way (it will never replay); False if it is
    not dead."""
    with db.write() as conn:
        done = conn.execute(
            update(effects)
            .where(_e.id == effect_id, _e.status == "dead")
            .values(dead_reason="superseded")
        )
        return bool(done.rowcount)


def replay_system(db: Database, clock: Clock, system: str) -> list[int]:
    with db.write() as conn:
        roots = (
            conn.execute(
                select(_e.id)
                .where(
                    _e.system == system,
                    _e.status == "dead",
                    _e.dead_reason.not_in(("dependency_dead", "superseded")),
                )
                .order_by(_e.id)
            )
            .scalars()
            .all()
        )
        revived = _revive(conn, clock(), list(roots))
        # Casualties in this system whose own failed dependency was replayed before.
        orphans = [
            i
            for i in conn.execute(
                select(_e.id)
                .where(
                    _e.system == system, _e.dead_reason == "dependency_dead", _e.status == "dead"
                )
                .order_by(_e.id)
            ).scalars()
            if not _has_dead_dependency(conn, i)
        ]
        return revived + _revive(conn, clock(), orphans)


def _revive(conn: Connection, now: float, roots: list[int]) -> list[int]:
    """Dead ``roots`` back to pending, then, level by level, every effect they took down
    whose dependencies are all alive again (one still dead would only strand it)."""
    revived: list[int] = []
    frontier = roots
    while frontier:
        conn.execute(
            update(effects)
            .where(_e.id.in_(frontier), _e.status == "dead")
            .values(
                status="pending", attempts=0, next_attempt_at=now, dead_reason=None, **_NO_LEASE
            )
        )
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
