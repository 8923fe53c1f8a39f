"""Ending a call: the call row, its effects, their dependency edges and any manual payment,
in one transaction (run in the store's worker threads; blocking SQL).

The call id is the primary key of the calls table, so two ``end_call`` for one call can
never both create effects: the second finds the first's (or, where the database lets both
reach the insert, fails on the key and reads the winner's).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from integration.outbox._schema import (
    calls,
    effect_deps,
    effect_row,
    effects,
    manual_payments,
    write,
)
from integration.outbox.model import EffectRow, EffectSpec, idempotency_key, iso_or_none
from integration.outbox.vault import ManualPaymentIn

__all__ = ["Clock", "EndRows", "end_call", "existing_call", "manual_view"]

Clock = Callable[[], float]
EndRows = tuple[bool, bool, list[EffectRow], dict[str, Any] | None]
_e = effects.c


def end_call(
    engine: Engine,
    clock: Clock,
    call_id: str,
    phone: str | None,
    customer_id: str | None,
    fingerprint: str,
    outcome_json: dict[str, Any],
    specs: Sequence[EffectSpec],
    manual: ManualPaymentIn | None,
) -> EndRows:
    payloads = _checked(call_id, specs, manual)
    outcome = json.dumps(outcome_json, sort_keys=True)
    try:
        with write(engine) as conn:
            found = existing_call(conn, call_id, fingerprint)
            if found is not None:
                return found
            now = clock()
            conn.execute(
                insert(calls).values(
                    call_id=call_id, phone=phone, customer_id=customer_id,
                    fingerprint=fingerprint, outcome=outcome, ended_at=now,
                )
            )  # fmt: skip
            ids: dict[str, int] = {}
            for spec, payload in zip(specs, payloads, strict=True):
                inserted = conn.execute(
                    insert(effects).returning(_e.id).values(
                        call_id=call_id, name=spec.name, system=spec.system, kind=spec.kind,
                        payload=payload, depends_on=json.dumps(list(spec.depends_on)),
                        idempotency_key=idempotency_key(call_id, spec.name), status="pending",
                        attempts=0, created_at=now, next_attempt_at=now,
                    )
                )  # fmt: skip
                ids[spec.name] = int(inserted.scalar_one())
            edges = [
                {"effect_id": ids[s.name], "depends_on_id": ids[d]}
                for s in specs
                for d in dict.fromkeys(s.depends_on)
            ]
            if edges:
                conn.execute(insert(effect_deps), edges)
            if manual is not None:
                conn.execute(
                    insert(manual_payments).values(
                        call_id=call_id, token=manual.token, last4=manual.last4,
                        brand=manual.brand, amount=manual.amount, currency=manual.currency,
                        status="pending", created_at=now,
                    )
                )  # fmt: skip
            return True, False, _call_effects(conn, call_id), _manual_of(conn, call_id)
    except IntegrityError:
        # Another end_call for this call committed between our check and our insert
        # (possible where the database has no single write lock): its effects stand.
        with write(engine) as conn:
            found = existing_call(conn, call_id, fingerprint)
        if found is None:
            raise
        return found


def existing_call(conn: Connection, call_id: str, fingerprint: str) -> EndRows | None:
    stored = conn.execute(select(calls.c.fingerprint).where(calls.c.call_id == call_id)).first()
    if stored is None:
        return None
    conflict = stored.fingerprint != fingerprint
    return False, conflict, _call_effects(conn, call_id), _manual_of(conn, call_id)


def _checked(
    call_id: str, specs: Sequence[EffectSpec], manual: ManualPaymentIn | None
) -> list[str]:
    """Each spec's payload as JSON, once the set is known to be storable and deliverable."""
    if manual is not None and manual.call_id != call_id:
        raise ValueError(f"manual payment is for call {manual.call_id!r}, not {call_id!r}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"effect names repeat within call {call_id!r}: {names}")
    for spec in specs:
        missing = [d for d in spec.depends_on if d not in names]
        if missing:
            raise ValueError(f"effect {spec.name!r} depends on unknown effects {missing}")
    _refuse_cycles(specs)
    return [json.dumps(s.payload, sort_keys=True) for s in specs]


def _refuse_cycles(specs: Sequence[EffectSpec]) -> None:
    waiting = {s.name: set(s.depends_on) for s in specs}
    while waiting:
        ready = [name for name, deps in waiting.items() if not deps & waiting.keys()]
        if not ready:
            raise ValueError(f"effects depend on each other in a cycle: {sorted(waiting)}")
        for name in ready:
            del waiting[name]


def _call_effects(conn: Connection, call_id: str) -> list[EffectRow]:
    rows = conn.execute(select(effects).where(_e.call_id == call_id).order_by(_e.id))
    return [effect_row(r) for r in rows]


def _manual_of(conn: Connection, call_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(manual_payments).where(manual_payments.c.call_id == call_id)).first()
    return manual_view(row) if row is not None else None


def manual_view(row: Any) -> dict[str, Any]:
    m = row._mapping
    shown = ("id", "call_id", "last4", "brand", "amount", "currency", "status")
    return {**{k: m[k] for k in shown}, "created_at": iso_or_none(m["created_at"])}
