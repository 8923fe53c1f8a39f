"""Stripe's payment events (``/webhooks/payments``): what became of a call's payment after it.

Webhooks are at least once and in no promised order, so:

- each event is taken once by its id (``outbox_payment_events``): a retried or doubled
  delivery is a ``duplicate`` and changes nothing, whichever worker received it;
- an intent's status only moves forward: ``authorized`` < ``succeeded`` < ``captured``;
  ``failed`` may be followed by a later success (the card was confirmed again), and
  ``canceled`` is final. An event behind the recorded status is ``stale``;
- an event is ``applied`` to a call once its intent is linked to the call's ``payment``
  effect. The link is made by the dispatcher when it processes the charge's answer, in the
  same transaction as the delivered verdict (``link_intent``). An event that comes first
  (its intent unknown to the layer yet) is kept ``pending`` on the intent's row, and the
  link applies it (its verdict then reads ``kept_then_applied``): nothing is lost, nothing
  applied twice;
- a failure or cancellation applied after the payment was delivered adds one
  ``payment_notice`` effect to the call (a Slack post to ``#voice-agent``), through the
  outbox like any write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, select

from integration.outbox import _end_call
from integration.outbox._schema import effects, payment_events, payment_intents
from integration.outbox.model import EffectRow, EffectSpec, iso_or_none
from integration.store.database import Database
from integration.store.sql import Sql, key_errors

if TYPE_CHECKING:
    from integration.outbox.store import OutboxStore

__all__ = [
    "EVENT_STATUS",
    "NOTICE_CHANNEL",
    "PaymentEvent",
    "PaymentEvents",
    "PaymentReceipt",
    "link_intent",
]

# What each event type says of the payment; other types are acknowledged and ignored.
EVENT_STATUS = {
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.succeeded": "succeeded",
    "charge.captured": "captured",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "canceled",
}
# The status a charge's own answer leaves the intent in.
_ANSWER_STATUS = {
    "requires_capture": "authorized",
    "succeeded": "succeeded",
    "canceled": "canceled",
}
_RANK = {"failed": 0, "authorized": 1, "succeeded": 2, "captured": 3, "canceled": 3}
_FAILURES = frozenset({"failed", "canceled"})
NOTICE_CHANNEL = "#voice-agent"  # where the team hears of calls that need a person
NOTICE = "payment_notice"

Verdict = Literal["applied", "pending", "duplicate", "stale", "ignored"]


@dataclass(frozen=True)
class PaymentEvent:
    """The parts of a verified Stripe event the layer keeps."""

    event_id: str
    type: str
    intent_id: str
    created: int

    @property
    def status(self) -> str | None:
        return EVENT_STATUS.get(self.type)


@dataclass(frozen=True)
class PaymentReceipt:
    event_id: str
    verdict: Verdict
    intent_id: str
    status: str | None  # the intent's recorded status after this event
    call_id: str | None = None
    notice: bool = False  # a payment_notice effect was added to the call


def _moves(old: str | None, new: str) -> bool:
    if old is None:
        return True
    if old == "canceled" or old == new:
        return False
    if old == "failed":
        return True  # a later confirmation may succeed, or the intent be cancelled
    return _RANK[new] > _RANK[old]


class PaymentEvents:
    def __init__(self, store: OutboxStore, *, wall_clock: Callable[[], float]) -> None:
        self._store = store
        self._wall = wall_clock

    async def record(self, event: PaymentEvent) -> PaymentReceipt:
        """Take one event, committed when this returns."""
        if event.status is None:
            return PaymentReceipt(event.event_id, "ignored", event.intent_id, None)
        return await self._store.run_write(_record, self._wall(), event)

    async def find(
        self,
        *,
        call_id: str | None = None,
        intent_id: str | None = None,
        pending: bool = False,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Intents with their status, events and call, most recently changed first."""
        return await self._store.run(_find, call_id, intent_id, pending, limit)


# -- in the outbox store's worker threads ---------------------------------------------------

_SELECT_INTENT = (
    "SELECT i.effect_id, i.status, e.call_id FROM outbox_payment_intents i "
    "LEFT JOIN outbox_effects e ON e.id = i.effect_id WHERE i.intent_id = :intent"
)
# On PostgreSQL the row is locked while the event is judged, so two workers' events for
# one intent are judged one after the other (SQLite has one writer anyway). By dialect:
_INTENT = {False: Sql(_SELECT_INTENT), True: Sql(_SELECT_INTENT + " FOR UPDATE OF i")}
_INSERT_EVENT = Sql("""
    INSERT INTO outbox_payment_events (event_id, type, intent_id, status, verdict, created,
        received_at)
    VALUES (:event_id, :type, :intent, :status, 'pending', :created, :now)
""")
_EVENT_VERDICT = Sql("UPDATE outbox_payment_events SET verdict = :verdict WHERE event_id = :id")
_INSERT_INTENT = Sql("""
    INSERT INTO outbox_payment_intents (intent_id, effect_id, status, events, updated_at)
    VALUES (:intent, :effect_id, :status, :events, :now)
""")
_UPDATE_INTENT = Sql("""
    UPDATE outbox_payment_intents SET status = :status, events = events + :events,
        updated_at = :now
    WHERE intent_id = :intent
""")
_LINK = Sql("""
    UPDATE outbox_payment_intents SET effect_id = :effect_id, status = :status,
        updated_at = :now
    WHERE intent_id = :intent
""")
_APPLY_PENDING = Sql("""
    UPDATE outbox_payment_events SET verdict = 'kept_then_applied'
    WHERE intent_id = :intent AND verdict = 'pending'
""")


def _record(db: Database, now: float, event: PaymentEvent) -> PaymentReceipt:
    status = event.status
    assert status is not None
    with db.write() as conn:
        try:
            with conn.begin_nested():  # a savepoint: a repeated id must not undo the rest
                _INSERT_EVENT.count(
                    conn,
                    {
                        "event_id": event.event_id,
                        "type": event.type,
                        "intent": event.intent_id,
                        "status": status,
                        "created": event.created,
                        "now": now,
                    },
                )
        except key_errors(conn.dialect.name):
            found = _INTENT[db.is_postgres].one(conn, {"intent": event.intent_id})
            recorded, call_id = (found[1], found[2]) if found else (None, None)
            return PaymentReceipt(event.event_id, "duplicate", event.intent_id, recorded, call_id)
        found = _INTENT[db.is_postgres].one(conn, {"intent": event.intent_id})
        if found is None:
            params = {"intent": event.intent_id, "effect_id": None, "status": status}
            try:
                with conn.begin_nested():
                    _INSERT_INTENT.count(conn, {**params, "events": 1, "now": now})
                return PaymentReceipt(event.event_id, "pending", event.intent_id, status)
            except key_errors(conn.dialect.name):  # another worker's event or link, just now
                found = _INTENT[db.is_postgres].one(conn, {"intent": event.intent_id})
        effect_id, recorded, call_id = found
        moves = _moves(recorded, status)
        after = status if moves else recorded
        _UPDATE_INTENT.count(
            conn, {"intent": event.intent_id, "status": after, "events": 1, "now": now}
        )
        if effect_id is None:
            return PaymentReceipt(event.event_id, "pending", event.intent_id, after)
        verdict: Verdict = "applied" if moves else "stale"
        _EVENT_VERDICT.count(conn, {"verdict": verdict, "id": event.event_id})
        failed = moves and status in _FAILURES
        notice = failed and _notice(conn, call_id, event.intent_id, status, now)
        return PaymentReceipt(event.event_id, verdict, event.intent_id, after, call_id, notice)


def link_intent(conn: Connection, row: EffectRow, result: dict[str, Any], now: float) -> None:
    """Tie the charge's intent to its payment effect, in the delivered verdict's transaction:
    events that came first are applied now (a failure among them raises the notice)."""
    intent_id = result.get("id")
    if not intent_id:
        return
    answered = _ANSWER_STATUS.get(str(result.get("status")), "authorized")
    locking = conn.dialect.name == "postgresql"
    found = _INTENT[locking].one(conn, {"intent": intent_id})
    if found is None:
        try:
            with conn.begin_nested():
                _INSERT_INTENT.count(
                    conn,
                    {
                        "intent": intent_id,
                        "effect_id": row.id,
                        "status": answered,
                        "events": 0,
                        "now": now,
                    },
                )
            return
        except key_errors(conn.dialect.name):  # an event's row made meanwhile (PostgreSQL)
            found = _INTENT[locking].one(conn, {"intent": intent_id})
    recorded = found[1]
    status = answered if _moves(recorded, answered) else recorded
    _LINK.count(conn, {"intent": intent_id, "effect_id": row.id, "status": status, "now": now})
    _APPLY_PENDING.count(conn, {"intent": intent_id})
    if status in _FAILURES:
        _notice(conn, row.call_id, intent_id, status, now)


def _notice(conn: Connection, call_id: str | None, intent_id: str, status: str, now: float) -> bool:
    """One payment_notice effect per call (a second failure finds the name taken)."""
    if call_id is None:
        return False
    existing = _end_call._names(conn, call_id)
    if NOTICE in existing:
        return False
    spec = EffectSpec(
        name=NOTICE,
        system="slack",
        kind="slack.post_message",
        payload={
            "channel": NOTICE_CHANNEL,
            "text": f"Payment {status} after the call {call_id} (PaymentIntent {intent_id}): "
            "follow up with the caller",
        },
    )
    payloads = _end_call._checked(call_id, [spec], None, earlier=existing)
    _end_call._insert(conn, call_id, [spec], payloads, None, now, earlier=existing)
    return True


_i = payment_intents.c
_e = effects.c
_v = payment_events.c


def _find(
    db: Database, call_id: str | None, intent_id: str | None, pending: bool, limit: int
) -> list[dict[str, Any]]:
    query = select(payment_intents, _e.call_id).select_from(
        payment_intents.outerjoin(effects, _e.id == _i.effect_id)
    )
    if call_id is not None:
        query = query.where(_e.call_id == call_id)
    if intent_id is not None:
        query = query.where(_i.intent_id == intent_id)
    if pending:
        query = query.where(_i.effect_id.is_(None))
    query = query.order_by(_i.updated_at.desc(), _i.intent_id).limit(limit)
    with db.read() as conn:
        rows = [row._mapping for row in conn.execute(query)]
        ids = [m["intent_id"] for m in rows]
        by_intent: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            events = select(payment_events).where(_v.intent_id.in_(ids)).order_by(_v.received_at)
            for e in conn.execute(events):
                m = e._mapping
                by_intent[m["intent_id"]].append(
                    {"id": m["event_id"], "type": m["type"], "verdict": m["verdict"]}
                )
    return [
        {
            "intent_id": m["intent_id"],
            "status": m["status"],
            "call_id": m["call_id"],
            "effect_id": m["effect_id"],
            "matched": m["effect_id"] is not None,
            "events": by_intent[m["intent_id"]],
            "updated_at": iso_or_none(m["updated_at"]),
        }
        for m in rows
    ]
