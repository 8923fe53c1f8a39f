"""Ending a call: the call row, its effects, their dependency edges and any manual payment,
in one transaction (run in the store's worker threads; blocking SQL). And, before the end,
the effects a live call's tools add (``add_effects``).

The call id is the primary key of the calls table, so two ``end_call`` for one call can
never both create effects: the second finds the first's (or, where the database lets both
reach the insert, fails on the key and reads the winner's).

A call whose tools wrote during the conversation has its row already, marked ``LIVE`` in
the fingerprint column (a real fingerprint is 64 hex digits, so the two never meet; a
marker rather than a new column, so outbox files made before tools existed still open).
Ending such a call turns the marker into the outcome's fingerprint, once: the update is
a compare-and-set on the marker, so the idempotency and 409 rules stay as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from integration.errors import InvalidInput
from integration.outbox._schema import (
    EFFECT_SELECT,
    calls,
    effect_from,
    effects,
    manual_payments,
)
from integration.outbox.model import EffectRow, EffectSpec, idempotency_key, iso_or_none
from integration.outbox.vault import ManualPaymentIn
from integration.store.database import Database
from integration.store.sql import Sql

__all__ = [
    "LIVE",
    "CallEnded",
    "Clock",
    "EndRows",
    "add_effects",
    "call_view",
    "end_call",
    "existing_call",
    "manual_payment_views",
    "manual_view",
]

Clock = Callable[[], float]
Lease = tuple[str, float]  # the dispatcher's name, and how long its lease lasts
EndRows = tuple[bool, bool, list[EffectRow], dict[str, Any] | None]
LIVE = "live"  # the fingerprint of a call that has tool effects and has not ended yet
_e = effects.c


class CallEnded(ValueError):
    """A tool tried to add effects to a call that has already ended."""


def end_call(
    db: Database,
    clock: Clock,
    call_id: str,
    phone: str | None,
    customer_id: str | None,
    fingerprint: str,
    outcome_json: dict[str, Any],
    specs: Sequence[EffectSpec],
    manual: ManualPaymentIn | None,
    lease: Lease | None = None,
    with_it: Callable[[Connection], None] | None = None,
) -> EndRows:
    payloads = _checked(call_id, specs, manual)
    outcome = json.dumps(outcome_json, sort_keys=True)
    try:
        with db.write(durable=True) as conn:
            stored = _FINGERPRINT.one(conn, {"call_id": call_id})
            found = _ended(conn, call_id, fingerprint, stored)
            if found is not None:
                return found
            now = clock()
            ended = {
                "call_id": call_id,
                "phone": phone,
                "customer_id": customer_id,
                "fingerprint": fingerprint,
                "outcome": outcome,
                "ended_at": now,
            }
            if stored is not None:  # live: its tools wrote during the conversation
                # Compare-and-set on the marker: where the database lets two ends get here,
                # only one turns it, and the other reads the winner's effects.
                if _TURN_LIVE.count(conn, {**ended, "live": LIVE}) != 1:
                    again = _ended(conn, call_id, fingerprint)
                    if again is None:
                        raise RuntimeError(f"call {call_id!r} is neither live nor ended")
                    return again
                _refuse_taken(conn, call_id, specs, manual)
            else:
                _INSERT_CALL.count(conn, ended)
            _insert(conn, call_id, specs, payloads, manual, now, lease=lease)
            if with_it is not None:
                with_it(conn)
            return True, False, _call_effects(conn, call_id), _manual_of(conn, call_id)
    except db.integrity_errors:
        # Another end_call for this call committed between our check and our insert
        # (possible where the database has no single write lock): its effects stand.
        with db.write(durable=True) as conn:
            found = _ended(conn, call_id, fingerprint)
        if found is None:
            raise
        return found


def add_effects(
    db: Database,
    clock: Clock,
    call_id: str,
    phone: str | None,
    customer_id: str | None,
    specs: Sequence[EffectSpec],
    manual: ManualPaymentIn | None,
    lease: Lease | None = None,
) -> list[EffectRow]:
    """Effects for a call still in progress (its tools' writes), in one transaction; the
    call's row is made ``LIVE`` if it has none. Raises CallEnded once the call has ended,
    ValueError for a name the call already used or an unknown dependency."""
    with db.write(durable=True) as conn:
        stored = _FINGERPRINT.one(conn, {"call_id": call_id})
        if stored is not None and stored[0] != LIVE:
            raise CallEnded(f"call {call_id!r} has ended: its effects are settled")
        existing = _names(conn, call_id)
        payloads = _checked(call_id, specs, manual, earlier=existing)
        now = clock()
        if stored is None:
            _INSERT_CALL.count(
                conn,
                {
                    "call_id": call_id,
                    "phone": phone,
                    "customer_id": customer_id,
                    "fingerprint": LIVE,
                    "outcome": "{}",
                    "ended_at": now,
                },
            )
        else:
            _refuse_taken(conn, call_id, specs, manual)
        ids = _insert(conn, call_id, specs, payloads, manual, now, earlier=existing, lease=lease)
        return [effect_from(r) for r in _EFFECTS_BY_ID[len(ids)].all(conn, _ids(ids))]


def _insert(
    conn: Connection,
    call_id: str,
    specs: Sequence[EffectSpec],
    payloads: Sequence[str],
    manual: ManualPaymentIn | None,
    now: float,
    *,
    earlier: dict[str, int] | None = None,
    lease: Lease | None = None,
) -> list[int]:
    """Effects, their dependency edges (on each other or on ``earlier`` effects of the
    call, by name) and the manual payment; the new effects' ids. With ``lease`` (owner,
    seconds), those that wait for nothing are leased to that dispatcher as they are
    written: it delivers them at once, without a claim."""
    ids: dict[str, int] = dict(earlier or {})
    new: list[int] = []
    for spec, payload in zip(specs, payloads, strict=True):
        owner, until = (lease[0], now + lease[1]) if lease and not spec.depends_on else (None, None)
        inserted = _INSERT_EFFECT.one(
            conn,
            {
                "call_id": call_id,
                "name": spec.name,
                "system": spec.system,
                "kind": spec.kind,
                "payload": payload,
                "depends_on": json.dumps(list(spec.depends_on)),
                "idempotency_key": idempotency_key(call_id, spec.name),
                "created_at": now,
                "lease_owner": owner,
                "lease_until": until,
            },
        )
        ids[spec.name] = int(inserted[0])
        new.append(ids[spec.name])
    edges = [
        {"effect_id": ids[s.name], "depends_on_id": ids[d]}
        for s in specs
        for d in dict.fromkeys(s.depends_on)
    ]
    if edges:
        _INSERT_EDGE.many(conn, edges)
    if manual is not None:
        _INSERT_MANUAL.count(
            conn,
            {
                "call_id": call_id,
                "token": manual.token,
                "last4": manual.last4,
                "brand": manual.brand,
                "amount": manual.amount,
                "currency": manual.currency,
                "created_at": now,
            },
        )
    return new


# The statements every end and every tool write runs, handed to the driver as they are:
# through SQLAlchemy's execution each cost several times the SQL itself (``store.sql``).
_FINGERPRINT = Sql("SELECT fingerprint FROM outbox_calls WHERE call_id = :call_id")
_NAMES = Sql("SELECT name, id FROM outbox_effects WHERE call_id = :call_id")
_EFFECTS_OF_CALL = Sql(
    f"SELECT {EFFECT_SELECT} FROM outbox_effects WHERE call_id = :call_id ORDER BY id"
)
_MANUAL_COLUMNS = tuple(c.name for c in manual_payments.columns)
_MANUAL = Sql(
    f"SELECT {', '.join(_MANUAL_COLUMNS)} FROM outbox_manual_payments WHERE call_id = :call_id"
)
_INSERT_CALL = Sql("""
    INSERT INTO outbox_calls (call_id, phone, customer_id, fingerprint, outcome, ended_at)
    VALUES (:call_id, :phone, :customer_id, :fingerprint, :outcome, :ended_at)
""")
_TURN_LIVE = Sql("""
    UPDATE outbox_calls SET phone = :phone, customer_id = :customer_id,
        fingerprint = :fingerprint, outcome = :outcome, ended_at = :ended_at
    WHERE call_id = :call_id AND fingerprint = :live
""")
_INSERT_EFFECT = Sql("""
    INSERT INTO outbox_effects (call_id, name, system, kind, payload, depends_on,
        idempotency_key, status, attempts, created_at, next_attempt_at, lease_owner,
        lease_until)
    VALUES (:call_id, :name, :system, :kind, :payload, :depends_on, :idempotency_key,
        'pending', 0, :created_at, :created_at, :lease_owner, :lease_until)
    RETURNING id
""")
_INSERT_EDGE = Sql(
    "INSERT INTO outbox_effect_deps (effect_id, depends_on_id) VALUES (:effect_id, :depends_on_id)"
)
_INSERT_MANUAL = Sql("""
    INSERT INTO outbox_manual_payments (call_id, token, last4, brand, amount, currency,
        status, created_at)
    VALUES (:call_id, :token, :last4, :brand, :amount, :currency, 'pending', :created_at)
""")
# By how many ids: a tool writes one to three effects at a time.
_EFFECTS_BY_ID = {
    n: Sql(
        f"SELECT {EFFECT_SELECT} FROM outbox_effects WHERE id IN "
        f"({', '.join(f':id{i}' for i in range(n))}) ORDER BY id"
    )
    for n in range(1, 33)
}


def _ids(ids: Sequence[int]) -> dict[str, int]:
    return {f"id{i}": effect_id for i, effect_id in enumerate(ids)}


def _names(conn: Connection, call_id: str) -> dict[str, int]:
    return {name: int(effect_id) for name, effect_id in _NAMES.all(conn, {"call_id": call_id})}


def _refuse_taken(
    conn: Connection, call_id: str, specs: Sequence[EffectSpec], manual: ManualPaymentIn | None
) -> None:
    """Effects added earlier in the call keep their names; one card per call may wait for
    manual processing (the table allows one), so a second is refused by name."""
    taken = sorted(set(_names(conn, call_id)) & {s.name for s in specs})
    if taken:
        raise ValueError(f"call {call_id!r} already has effects named {taken}")
    if manual is not None and _manual_of(conn, call_id) is not None:
        raise InvalidInput("payment", "a card for this call is already held for manual processing")


def _ended(conn: Connection, call_id: str, fingerprint: str, stored: Any = False) -> EndRows | None:
    """What an ended call had (None while it is live or unknown); ``stored``: its
    fingerprint row, when already read."""
    if stored is False:
        stored = _FINGERPRINT.one(conn, {"call_id": call_id})
    if stored is None or stored[0] == LIVE:
        return None
    conflict = stored[0] != fingerprint
    return False, conflict, _call_effects(conn, call_id), _manual_of(conn, call_id)


def existing_call(conn: Connection, call_id: str, fingerprint: str) -> EndRows | None:
    return _ended(conn, call_id, fingerprint)


def _checked(
    call_id: str,
    specs: Sequence[EffectSpec],
    manual: ManualPaymentIn | None,
    *,
    earlier: Collection[str] = (),
) -> list[str]:
    """Each spec's payload as JSON, once the set is known to be storable and deliverable
    (``earlier``: names of the call's effects already stored, which may be depended on)."""
    if manual is not None and manual.call_id != call_id:
        raise ValueError(f"manual payment is for call {manual.call_id!r}, not {call_id!r}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"effect names repeat within call {call_id!r}: {names}")
    for spec in specs:
        missing = [d for d in spec.depends_on if d not in names and d not in earlier]
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
    return [effect_from(r) for r in _EFFECTS_OF_CALL.all(conn, {"call_id": call_id})]


def _manual_of(conn: Connection, call_id: str) -> dict[str, Any] | None:
    row = _MANUAL.one(conn, {"call_id": call_id})
    if row is None:
        return None
    return manual_view(dict(zip(_MANUAL_COLUMNS, row, strict=True)))


def manual_view(m: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """A manual payment as shown: never the sealed card itself."""
    shown = ("id", "call_id", "last4", "brand", "amount", "currency", "status")
    return {**{k: m[k] for k in shown}, "created_at": iso_or_none(m["created_at"])}


def manual_payment_views(db: Database, limit: int) -> list[dict[str, Any]]:
    query = select(manual_payments).order_by(manual_payments.c.id.desc()).limit(limit)
    with db.read() as conn:
        return [manual_view(r._mapping) for r in conn.execute(query)]


def call_view(db: Database, call_id: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(select(calls).where(calls.c.call_id == call_id)).first()
    if row is None:
        return None
    m = row._mapping
    live = m["fingerprint"] == LIVE  # tools have written, the call has not ended
    return {
        "call_id": m["call_id"],
        "phone": m["phone"],
        "customer_id": m["customer_id"],
        "fingerprint": None if live else m["fingerprint"],
        "outcome": None if live else json.loads(m["outcome"]),
        "ended_at": None if live else iso_or_none(m["ended_at"]),
        "live": live,
    }
