"""The transactional outbox: a call's end and the effects it owes, committed together.

``end_call`` writes the call, its effects, their dependency edges and any manual payment in
one transaction, so once it returns nothing the caller was promised can be lost, and a
crash before it returns leaves nothing half-written. Dispatchers ``claim`` due effects
under a lease and report each verdict fenced on that lease; dead letters can be replayed.

Written by hand (no library keeps a fenced, dependency-aware outbox); SQLAlchemy Core does
the SQL, so SQLite and PostgreSQL both work, and all blocking work runs in the database's
own threads (``integration.store.database``), never on the event loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, case, func, or_, select

from integration.outbox import _end_call, _leases
from integration.outbox._end_call import CallEnded, Lease, call_view, manual_payment_views
from integration.outbox._leases import due_filter
from integration.outbox._schema import effect_row, effects, metadata
from integration.outbox.model import EFFECT_STATUSES, EffectRow, EffectSpec
from integration.outbox.vault import ManualPaymentIn
from integration.store.database import Database

__all__ = ["CallEnded", "EndResult", "OutboxStore"]

T = TypeVar("T")
_e = effects.c
_COUNTED = ("pending", "in_flight", "delivered", "dead")


@dataclass(frozen=True)
class EndResult:
    created: bool  # False: this call had already ended (its effects are returned)
    conflict: bool  # ended before with a different outcome
    effects: list[EffectRow]
    manual_payment: dict[str, Any] | None  # never the sealed card itself


class OutboxStore:
    def __init__(self, db: Database, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._wall = wall_clock

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database (if nobody has yet) and create the outbox's tables."""
        await self.db.start(metadata)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(db, *args)`` in the database's threads, for tables kept beside the outbox's."""
        return await self.db.run(fn, *args)

    async def run_write(self, fn: Callable[..., T], *args: Any) -> T:
        """As ``run``, for a function that writes (committed before this returns)."""
        return await self.db.run_write(fn, *args)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.db.run(fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any, durable: bool = False) -> T:
        return await self.db.run_write(fn, *args, durable=durable)

    # -- the write path ---------------------------------------------------------------

    async def end_call(
        self,
        call_id: str,
        *,
        phone: str | None,
        customer_id: str | None,
        fingerprint: str,
        outcome_json: dict[str, Any],
        effects: Sequence[EffectSpec],
        manual_payment: ManualPaymentIn | None,
        lease: Lease | None = None,
        with_it: Callable[[Connection], None] | None = None,
    ) -> EndResult:
        """Commit the call's end with its effects; for a call already ended, what it had.
        ``outcome_json`` must already be redacted (``outcome.redacted_outcome``).
        ``lease``: (owner, seconds) leases the effects that wait for nothing to that
        dispatcher as they are written; ``with_it``, more the caller writes in the same
        transaction when the call ends now (the call's own record, marked ended)."""
        created, conflict, rows, manual = await self._write(
            _end_call.end_call,
            self._wall,
            call_id,
            phone,
            customer_id,
            fingerprint,
            outcome_json,
            tuple(effects),
            manual_payment,
            lease,
            with_it,
            durable=True,
        )
        return EndResult(created, conflict, rows, manual)

    async def add_effects(
        self,
        call_id: str,
        effects: Sequence[EffectSpec],
        *,
        phone: str | None,
        customer_id: str | None,
        manual_payment: ManualPaymentIn | None = None,
        lease: Lease | None = None,
    ) -> list[EffectRow]:
        """A live call's tool writes, committed before this returns (the call's row is made
        if need be; ``end_call`` adds to it later). CallEnded after the end, ValueError for
        a name already used, InvalidInput (``payment``) for a second manual card."""
        return await self._write(
            _end_call.add_effects,
            self._wall,
            call_id,
            phone,
            customer_id,
            tuple(effects),
            manual_payment,
            lease,
            durable=True,
        )

    async def due_counts(self) -> dict[str, int]:
        """Per system, how many effects could be claimed now."""
        return await self._run(_due_counts, self._wall())

    async def claim(
        self, owner: str, *, limits: Mapping[str, int], lease_s: float
    ) -> list[EffectRow]:
        """Lease up to ``limits[system]`` due effects of each system to ``owner``."""
        return await self._write(_leases.claim, self._wall, owner, dict(limits), lease_s)

    async def mark_delivered(
        self,
        row: EffectRow,
        owner: str,
        result: dict[str, Any],
        after: _leases.After | None = None,
    ) -> bool:
        """Delivered (fenced on ``owner``'s lease); ``after``, the kind's own step beside it
        (``deliveries.AFTER_DELIVERY``), in the same transaction."""
        return await self._write(_leases.mark_delivered, self._wall, row, owner, result, after)

    async def mark_retry(
        self,
        effect_id: int,
        owner: str,
        *,
        error: str,
        next_attempt_at: float,
        count_attempt: bool = True,
    ) -> bool:
        return await self._write(
            _leases.mark_retry, effect_id, owner, error, next_attempt_at, count_attempt
        )

    async def mark_dead(
        self, effect_id: int, owner: str, *, error: str, reason: str, count_attempt: bool = True
    ) -> list[int]:
        """Dead letter, and every pending effect that waits on it (transitively); the ids.

        ``count_attempt=False`` when no request was sent (expired before trying)."""
        return await self._write(_leases.mark_dead, effect_id, owner, error, reason, count_attempt)

    async def release_leases(self, owner: str) -> int:
        return await self._write(_leases.release_leases, owner)

    async def replay(self, effect_id: int) -> list[int]:
        """Dead → pending (attempts 0, due now), with what it took down; KeyError, ValueError."""
        return await self._write(_leases.replay, self._wall, effect_id)

    async def replay_system(self, system: str) -> list[int]:
        return await self._write(_leases.replay_system, self._wall, system)

    async def supersede(self, effect_id: int) -> bool:
        """A dead letter taken on another way (a charge a person processes): never replayed."""
        return await self._write(_leases.supersede, effect_id)

    # -- reading ----------------------------------------------------------------------

    async def get(self, effect_id: int) -> EffectRow | None:
        return await self._run(_get, effect_id)

    async def effects(
        self,
        *,
        status: str | None = None,
        system: str | None = None,
        call_id: str | None = None,
        limit: int = 100,
    ) -> list[EffectRow]:
        """Newest first. ``status`` is as shown: pending excludes those in flight."""
        if status is not None and status not in EFFECT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(EFFECT_STATUSES)}")
        return await self._run(_effects, self._wall(), status, system, call_id, limit)

    async def named(self, call_id: str, name: str) -> EffectRow | None:
        """The call's effect of that name, if it has one."""
        return await self._run(_named, call_id, name)

    async def names(self, call_id: str) -> list[str]:
        """The names of every effect the call has, in no particular order."""
        return await self._run(_names, call_id)

    async def retrying(self, system: str) -> bool:
        """Whether an effect for ``system`` is waiting to be tried again after an error."""
        return await self._run(_retrying, system)

    async def results_for(self, call_id: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What the delivered effects among ``names`` returned, by name."""
        return await self._run(_results_for, call_id, tuple(names))

    async def stats(self) -> dict[str, Any]:
        return await self._run(_stats, self._wall())

    async def manual_payments(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self._run(manual_payment_views, limit)

    async def call(self, call_id: str) -> dict[str, Any] | None:
        return await self._run(call_view, call_id)


# -- in the worker threads ------------------------------------------------------------------


def _due_counts(db: Database, now: float) -> dict[str, int]:
    query = select(_e.system, func.count()).where(due_filter(now)).group_by(_e.system)
    with db.read() as conn:
        return {system: int(n) for system, n in conn.execute(query)}


def _get(db: Database, effect_id: int) -> EffectRow | None:
    with db.read() as conn:
        row = conn.execute(select(effects).where(_e.id == effect_id)).first()
    return effect_row(row) if row is not None else None


def _effects(
    db: Database,
    now: float,
    status: str | None,
    system: str | None,
    call_id: str | None,
    limit: int,
) -> list[EffectRow]:
    query = select(effects)
    if status == "in_flight":
        query = query.where(_e.status == "pending", _e.lease_until > now)
    elif status == "pending":
        query = query.where(
            _e.status == "pending", or_(_e.lease_until.is_(None), _e.lease_until <= now)
        )
    elif status is not None:
        query = query.where(_e.status == status)
    if system is not None:
        query = query.where(_e.system == system)
    if call_id is not None:
        query = query.where(_e.call_id == call_id)
    with db.read() as conn:
        return [effect_row(r) for r in conn.execute(query.order_by(_e.id.desc()).limit(limit))]


def _named(db: Database, call_id: str, name: str) -> EffectRow | None:
    query = select(effects).where(_e.call_id == call_id, _e.name == name)
    with db.read() as conn:
        row = conn.execute(query).first()
    return effect_row(row) if row is not None else None


def _names(db: Database, call_id: str) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(_e.name).where(_e.call_id == call_id)).scalars())


def _retrying(db: Database, system: str) -> bool:
    waiting = select(_e.id).where(
        _e.status == "pending", _e.system == system, _e.last_error.is_not(None)
    )
    with db.read() as conn:
        return conn.execute(waiting.limit(1)).first() is not None


def _results_for(db: Database, call_id: str, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    query = select(_e.name, _e.result).where(
        _e.call_id == call_id, _e.name.in_(names), _e.status == "delivered"
    )
    with db.read() as conn:
        return {name: _json(result) or {} for name, result in conn.execute(query)}


def _stats(db: Database, now: float) -> dict[str, Any]:
    shown = case(((_e.status == "pending") & (_e.lease_until > now), "in_flight"), else_=_e.status)
    query = (
        select(_e.system, shown.label("shown"), func.count(), func.min(_e.created_at))
        .group_by(_e.system, shown)
        .order_by(_e.system)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    systems: dict[str, dict[str, Any]] = {}
    total = _empty_counts()
    for system, status, count, oldest in rows:
        entry = systems.setdefault(system, _empty_counts())
        for bucket in (entry, total):
            bucket[status] += int(count)
            if status in ("pending", "in_flight"):
                age = round(max(0.0, now - oldest), 3)
                current = bucket["oldest_pending_age_s"]
                bucket["oldest_pending_age_s"] = age if current is None else max(current, age)
    return {**total, "systems": systems}


def _empty_counts() -> dict[str, Any]:
    return {**dict.fromkeys(_COUNTED, 0), "oldest_pending_age_s": None}


def _json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None
