"""The outbox's tables. How the database is opened and how its transactions behave on
SQLite and PostgreSQL is ``integration.store.database``'s business."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from integration.outbox.model import EffectRow

__all__ = [
    "EFFECT_COLUMNS",
    "EFFECT_SELECT",
    "calls",
    "effect_deps",
    "effect_from",
    "effect_row",
    "effects",
    "manual_payments",
    "message_status",
    "metadata",
    "payment_events",
    "payment_intents",
]

metadata = MetaData()

calls = Table(
    "outbox_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),  # the key that makes end_call idempotent
    Column("phone", String(32)),
    Column("customer_id", String(64)),
    Column("fingerprint", String(64), nullable=False),
    Column("outcome", Text, nullable=False),  # redacted JSON: never a card number
    Column("ended_at", Float, nullable=False),
)

effects = Table(
    "outbox_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(64), ForeignKey("outbox_calls.call_id"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("system", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("depends_on", Text, nullable=False),  # JSON list of names, as the spec said
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float),
    Column("lease_owner", String(128)),
    Column("lease_until", Float),
    Column("delivered_at", Float),
    Column("last_error", Text),
    Column("dead_reason", String(32)),
    Column("result", Text),
    UniqueConstraint("call_id", "name", name="uq_outbox_effects_call_name"),
    # What claim and due_counts scan: pending effects of one system, soonest first.
    Index("ix_outbox_effects_due", "status", "system", "next_attempt_at"),
)

# One row per dependency edge, by id, so "is every dependency delivered?" is one join.
effect_deps = Table(
    "outbox_effect_deps",
    metadata,
    Column("effect_id", Integer, ForeignKey("outbox_effects.id"), primary_key=True),
    Column("depends_on_id", Integer, ForeignKey("outbox_effects.id"), primary_key=True),
    Index("ix_outbox_effect_deps_parent", "depends_on_id"),
)

manual_payments = Table(
    "outbox_manual_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(64), ForeignKey("outbox_calls.call_id"), nullable=False, unique=True),
    Column("token", Text, nullable=False),  # Fernet ciphertext; the key is not in this database
    Column("last4", String(4), nullable=False),
    Column("brand", String(16), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Each text's carrier status from Twilio's callbacks, by message sid. A callback may come
# before the send's answer is processed: its row waits with no effect (unmatched) until
# the delivery links it. ``status`` is NULL until the first callback.
message_status = Table(
    "outbox_message_status",
    metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("effect_id", Integer, ForeignKey("outbox_effects.id")),
    Column("status", String(24)),
    Column("error_code", String(16)),
    Column("seen", Text, nullable=False),  # JSON list: each status once, in arrival order
    Column("callbacks", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("out_of_order", Integer, nullable=False),
    Column("first_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_outbox_message_status_effect", "effect_id"),
)

# Stripe's events as /webhooks/payments took them, once each by event id (a retried or
# doubled delivery finds its id here and changes nothing), whichever worker took it.
payment_events = Table(
    "outbox_payment_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("intent_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # what the event says of the payment
    Column("verdict", String(24), nullable=False),  # applied, pending, kept_then_applied, stale
    Column("created", Integer, nullable=False),  # Stripe's, Unix seconds
    Column("received_at", Float, nullable=False),
    Index("ix_outbox_payment_events_intent", "intent_id"),
)

# Each PaymentIntent's status from its events, and the payment effect that made it once the
# dispatcher has linked them. An event may come before the charge's answer is processed:
# its row waits with no effect (pending) and the delivered verdict links it.
payment_intents = Table(
    "outbox_payment_intents",
    metadata,
    Column("intent_id", String(64), primary_key=True),
    Column("effect_id", Integer, ForeignKey("outbox_effects.id")),
    Column("status", String(16), nullable=False),
    Column("events", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_outbox_payment_intents_effect", "effect_id"),
)


# The effects table's columns in order, for statements the driver runs (``store.sql``).
EFFECT_COLUMNS = tuple(c.name for c in effects.columns)
EFFECT_SELECT = ", ".join(EFFECT_COLUMNS)


def effect_from(values: Any) -> EffectRow:
    """An effect from a plain tuple of ``EFFECT_COLUMNS``, as the driver returns it."""
    return effect_of(dict(zip(EFFECT_COLUMNS, values, strict=True)))


def effect_row(row: Any) -> EffectRow:
    """An effect from a SQLAlchemy row."""
    return effect_of(row._mapping)


def effect_of(m: Any) -> EffectRow:
    return EffectRow(
        id=m["id"],
        call_id=m["call_id"],
        name=m["name"],
        system=m["system"],
        kind=m["kind"],
        payload=json.loads(m["payload"]),
        depends_on=tuple(json.loads(m["depends_on"])),
        idempotency_key=m["idempotency_key"],
        status=m["status"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        lease_owner=m["lease_owner"],
        lease_until=m["lease_until"],
        delivered_at=m["delivered_at"],
        last_error=m["last_error"],
        dead_reason=m["dead_reason"],
        result=json.loads(m["result"]) if m["result"] is not None else None,
    )
