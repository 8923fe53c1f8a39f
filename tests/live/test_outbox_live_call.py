"""A live call's tool effects in the outbox (SQLite and PostgreSQL): added before the call
ends, then joined by the end's effects without changing what ending a call means; those
written leased to a dispatcher are its own at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from integration.errors import InvalidInput
from integration.outbox.model import EffectSpec
from integration.outbox.store import CallEnded, OutboxStore
from integration.outbox.vault import ManualPaymentIn
from integration.store.database import Database
from tests._support.clocks import ManualClock
from tests._support.stores import count
from tests.live.test_outbox_store import ALL, SPECS, end, spec

PHONE = "+14155550100"


def held(call_id: str) -> ManualPaymentIn:
    return ManualPaymentIn(call_id, "sealed-token", "4242", "visa", 500, "usd")


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[OutboxStore]:
    opened = OutboxStore(Database(store_url), wall_clock=ManualClock(2_000.0))
    await opened.start()
    yield opened
    await opened.db.aclose()


async def add(
    store: OutboxStore, call_id: str, *specs: EffectSpec, manual: ManualPaymentIn | None = None
) -> list[int]:
    rows = await store.add_effects(
        call_id, specs, phone=PHONE, customer_id="C1", manual_payment=manual
    )
    return [row.id for row in rows]


async def test_tool_effects_make_a_live_call_that_ending_completes_once(
    store: OutboxStore, store_url: str
) -> None:
    first = await add(
        store,
        "c1",
        spec("tool_booking_1", "calendar"),
        spec("tool_booking_task_1", "crm", "tool_booking_1"),
    )
    later = await add(store, "c1", spec("tool_message_2", "messaging", "tool_booking_1"))
    assert len(first) == 2 and len(later) == 1
    # One within a batch, one on an earlier effect.
    assert count(store_url, "outbox_effect_deps") == 2
    live = await store.call("c1")
    assert live is not None and live["live"] is True and live["ended_at"] is None
    assert live["fingerprint"] is None and live["phone"] == PHONE

    ended = await end(store, "c1")
    assert ended.created and not ended.conflict
    assert [e.name for e in ended.effects] == [
        "tool_booking_1",
        "tool_booking_task_1",
        "tool_message_2",
        "booking",
        "message_1",
        "analytics",
    ]
    again = await end(store, "c1")
    assert not again.created and not again.conflict
    assert [e.id for e in again.effects] == [e.id for e in ended.effects]
    assert (await end(store, "c1", fp="fp-other")).conflict
    after = await store.call("c1")
    assert after is not None and after["live"] is False and after["fingerprint"] == "fp-1"
    with pytest.raises(CallEnded):
        await add(store, "c1", spec("tool_callback_3", "crm"))
    due = await store.claim("d", limits=ALL, lease_s=30)
    assert {r.name for r in due} == {"tool_booking_1", "booking", "analytics"}


async def test_names_dependencies_and_manual_cards_are_checked_per_call(
    store: OutboxStore,
) -> None:
    await add(store, "c2", spec("tool_payment_callback_1", "crm"), manual=held("c2"))
    with pytest.raises(ValueError, match="already has effects"):
        await add(store, "c2", spec("tool_payment_callback_1", "crm"))
    with pytest.raises(ValueError, match="unknown effects"):
        await add(store, "c2", spec("tool_message_2", "messaging", "tool_booking_9"))
    with pytest.raises(InvalidInput) as second_card:
        await add(store, "c2", spec("tool_payment_callback_3", "crm"), manual=held("c2"))
    assert second_card.value.field == "payment"
    # Ending the call with a card for a person is refused the same way, and changes nothing.
    with pytest.raises(InvalidInput):
        await end(store, "c2", SPECS, manual=held("c2"))
    call = await store.call("c2")
    assert call is not None and call["live"] is True
    assert [p["last4"] for p in await store.manual_payments()] == ["4242"]
    assert (await end(store, "c2")).created


async def test_effects_written_leased_are_that_dispatchers_at_once(store: OutboxStore) -> None:
    rows = await store.add_effects(
        "c1",
        (spec("tool_booking_1", "calendar"), spec("tool_task_1", "crm", "tool_booking_1")),
        phone=PHONE,
        customer_id="C1",
        lease=("worker-a", 30),
    )
    booking, task = rows
    assert (booking.lease_owner, booking.lease_until) == ("worker-a", 2_030.0)
    assert task.lease_owner is None  # it waits for the booking: claimed when that is delivered
    assert await store.claim("worker-b", limits=ALL, lease_s=30) == []  # held, and waiting
    ended = await store.end_call(
        "c1",
        phone=PHONE,
        customer_id="C1",
        fingerprint="fp",
        outcome_json={},
        effects=(spec("analytics", "analytics"),),
        manual_payment=None,
        lease=("worker-a", 30),
    )
    fresh = [e for e in ended.effects if e.name == "analytics"]
    assert [e.lease_owner for e in fresh] == ["worker-a"]
    assert await store.release_leases("worker-a") == 2  # a crash hands them all back
    assert {r.name for r in await store.claim("worker-b", limits=ALL, lease_s=30)} == {
        "tool_booking_1",
        "analytics",
    }
