"""A live call's tool effects in the outbox (a real SQLite file): added before the call ends,
then joined by the end's effects without changing what ending a call means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integration.errors import InvalidInput
from integration.outbox.model import EffectSpec
from integration.outbox.store import CallEnded, OutboxStore
from integration.outbox.vault import ManualPaymentIn
from tests._support.clocks import ManualClock
from tests.unit.test_outbox_store import ALL, SPECS, count, end, spec

PHONE = "+14155550100"


def held(call_id: str) -> ManualPaymentIn:
    return ManualPaymentIn(call_id, "sealed-token", "4242", "visa", 500, "usd")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[OutboxStore]:
    opened = OutboxStore(f"sqlite:///{db}", wall_clock=ManualClock(2_000.0))
    await opened.start()
    yield opened
    await opened.aclose()


async def add(
    store: OutboxStore, call_id: str, *specs: EffectSpec, manual: ManualPaymentIn | None = None
) -> list[int]:
    rows = await store.add_effects(
        call_id, specs, phone=PHONE, customer_id="C1", manual_payment=manual
    )
    return [row.id for row in rows]


async def test_tool_effects_make_a_live_call_that_ending_completes_once(
    store: OutboxStore, db: Path
) -> None:
    first = await add(store, "c1", spec("tool_booking_1", "calendar"),
                      spec("tool_booking_task_1", "crm", "tool_booking_1"))  # fmt: skip
    later = await add(store, "c1", spec("tool_message_2", "messaging", "tool_booking_1"))
    assert len(first) == 2 and len(later) == 1
    assert count(db, "outbox_effect_deps") == 2  # one within a batch, one on an earlier effect
    live = await store.call("c1")
    assert live is not None and live["live"] is True and live["ended_at"] is None
    assert live["fingerprint"] is None and live["phone"] == PHONE

    ended = await end(store, "c1")
    assert ended.created and not ended.conflict
    assert [e.name for e in ended.effects] == [
        "tool_booking_1", "tool_booking_task_1", "tool_message_2", "booking", "message_1",
        "analytics",
    ]  # fmt: skip
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
