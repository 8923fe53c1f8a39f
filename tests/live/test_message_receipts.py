"""Carrier receipts kept in the store (SQLite and PostgreSQL): duplicates, late statuses,
callbacks before the send's answer, callbacks that arrive together, a restart."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from integration.outbox.deliveries import AFTER_DELIVERY
from integration.outbox.model import EffectSpec
from integration.outbox.receipts import MessageReceipts
from integration.outbox.store import OutboxStore
from integration.store.database import Database
from tests._support.clocks import ManualClock
from tests.unit.test_message_status import OTHER_SID, SID, replay


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(2_000.0)


@pytest.fixture
async def store(store_url: str, clock: ManualClock) -> AsyncIterator[OutboxStore]:
    opened = OutboxStore(Database(store_url), wall_clock=clock)
    await opened.start()
    yield opened
    await opened.db.aclose()


async def send_text(store: OutboxStore, call_id: str, sid: str) -> int:
    """A call that ends with one text, claimed and delivered with Twilio's ``sid``."""
    text = EffectSpec("message_1", "messaging", "messaging.send", {"to": "+1", "body": "hi"}, ())
    await store.end_call(
        call_id,
        phone="+14155550100",
        customer_id="C1",
        fingerprint="fp",
        outcome_json={"disposition": "resolved"},
        effects=(text,),
        manual_payment=None,
    )
    [row] = await store.claim("A", limits={"messaging": 5}, lease_s=30)
    assert await store.mark_delivered(
        row, "A", {"sid": sid, "status": "queued"}, AFTER_DELIVERY["messaging.send"]
    )
    return row.id


async def test_callbacks_recorded_forward_only_with_counts(
    store: OutboxStore, clock: ManualClock
) -> None:
    receipts = MessageReceipts(store, wall_clock=clock)
    effect_id = await send_text(store, "call-1", SID)
    assert await receipts.statuses([SID]) == {SID: None}  # linked, no callback yet
    verdicts = []
    for status in ("queued", "queued", "delivered", "sent", "delivered"):
        clock.advance(1)
        receipt = await receipts.record(SID, status, None)
        assert receipt.matched and receipt.effect_id == effect_id
        verdicts.append((receipt.verdict, receipt.status))
    assert verdicts == [
        ("advanced", "queued"),
        ("duplicate", "queued"),
        ("advanced", "delivered"),
        ("out_of_order", "delivered"),
        ("duplicate", "delivered"),
    ]
    [row] = await receipts.find(call_id="call-1")
    assert row | {} == row | {
        "message_sid": SID,
        "status": "delivered",
        "seen": ["queued", "delivered", "sent"],
        "callbacks": 5,
        "duplicates": 2,
        "out_of_order": 1,
        "matched": True,
        "effect_id": effect_id,
        "call_id": "call-1",
        "effect": "message_1",
    }
    with pytest.raises(ValueError, match="unknown message status"):
        await receipts.record(SID, "bogus", None)


async def test_callback_before_the_send_is_kept_unmatched_then_matched(
    store: OutboxStore, clock: ManualClock, store_url: str
) -> None:
    receipts = MessageReceipts(store, wall_clock=clock)
    early = await receipts.record(SID, "undelivered", "30003")
    assert (early.verdict, early.matched) == ("advanced", False)
    assert [m["message_sid"] for m in await receipts.find(unmatched=True)] == [SID]
    await receipts.record(OTHER_SID, "queued", None)  # a text no effect of ours ever sent
    effect_id = await send_text(store, "call-2", SID)
    late = await receipts.record(SID, "sent", None)
    assert (late.verdict, late.status, late.effect_id) == ("out_of_order", "undelivered", effect_id)
    assert [m["message_sid"] for m in await receipts.find(unmatched=True)] == [OTHER_SID]
    # Kept in the store: a restarted service still knows.
    await store.db.aclose()
    reopened = OutboxStore(Database(store_url), wall_clock=clock)
    await reopened.start()
    try:
        [row] = await MessageReceipts(reopened, wall_clock=clock).find(message_sid=SID)
        kept = (row["status"], row["error_code"], row["call_id"])
        assert kept == ("undelivered", "30003", "call-2")
    finally:
        await reopened.db.aclose()


async def test_callbacks_arriving_together_share_one_transaction_in_arrival_order(
    store: OutboxStore,
) -> None:
    ticks = itertools.count(5_000)  # the wall clock is read once per group written
    receipts = MessageReceipts(store, wall_clock=lambda: float(next(ticks)))
    arrivals = ["queued", "queued", "delivered", "sent", "read", "delivered"]
    texts = [f"SM{n:032x}" for n in range(20)]
    together = [receipts.record(SID, status, None) for status in arrivals]
    together += [receipts.record(sid, "sent", None) for sid in texts]
    answered = await asyncio.gather(*together)
    # The same verdicts as one by one, in the order they arrived.
    assert [(r.verdict, r.status) for r in answered[: len(arrivals)]] == replay(*arrivals)
    assert all(r.verdict == "advanced" for r in answered[len(arrivals) :])
    rows = await receipts.find(limit=100)
    assert len(rows) == 21
    assert {row["first_at"] for row in rows} == {rows[0]["first_at"]}  # one group, one commit
    [text] = await receipts.find(message_sid=SID)
    assert (text["status"], text["callbacks"], text["duplicates"]) == ("read", 6, 2)
    # Alone, a callback is a group of its own, written at once.
    assert (await receipts.record(texts[0], "delivered", None)).status == "delivered"
    [moved] = await receipts.find(message_sid=texts[0])
    assert moved["updated_at"] > moved["first_at"]
