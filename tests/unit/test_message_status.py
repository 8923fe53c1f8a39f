"""Twilio's message status callbacks, without sockets: the ordering rules, the receipts kept
in a real outbox file (duplicates, late statuses, callbacks before the send's answer, a
restart), the signature against Twilio's own validator, and the callback URL setting."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from integration.clients.messaging import twilio_signature, valid_twilio_signature
from integration.outbox.message_status import MESSAGE_STATUSES, judge
from integration.outbox.model import EffectSpec
from integration.outbox.receipts import MessageReceipts
from integration.outbox.store import OutboxStore
from integration.settings import IntegrationSettings
from mocks.messaging.callbacks import twilio_signature as mock_signature
from tests._support.clocks import ManualClock

SID = "SM" + "0a" * 16
OTHER_SID = "SM" + "0b" * 16


def replay(*arrivals: str) -> list[tuple[str, str | None]]:
    """Each arrival's verdict and the recorded status after it, by the rules alone."""
    current: str | None = None
    seen: list[str] = []
    out: list[tuple[str, str | None]] = []
    for status in arrivals:
        verdict = judge(current, seen, status)
        if verdict != "duplicate":
            seen.append(status)
        if verdict == "advanced":
            current = status
        out.append((verdict, current))
    return out


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        (["queued", "sent", "delivered"],
         [("advanced", "queued"), ("advanced", "sent"), ("advanced", "delivered")]),
        # The mock's reorder chaos: the last status before the one preceding it.
        (["queued", "delivered", "sent"],
         [("advanced", "queued"), ("advanced", "delivered"), ("out_of_order", "delivered")]),
        (["queued", "queued", "delivered", "sent", "sent", "delivered"],
         [("advanced", "queued"), ("duplicate", "queued"), ("advanced", "delivered"),
          ("out_of_order", "delivered"), ("duplicate", "delivered"),
          ("duplicate", "delivered")]),
        (["sent", "queued", "sending"],
         [("advanced", "sent"), ("out_of_order", "sent"), ("out_of_order", "sent")]),
        # One final status sticks: a second, different one is out of order.
        (["sent", "undelivered", "delivered"],
         [("advanced", "sent"), ("advanced", "undelivered"), ("out_of_order", "undelivered")]),
        (["queued", "failed", "sent"],
         [("advanced", "queued"), ("advanced", "failed"), ("out_of_order", "failed")]),
        # WhatsApp: read after delivered, and a late delivered does not undo it.
        (["accepted", "queued", "delivered", "read", "delivered"],
         [("advanced", "accepted"), ("advanced", "queued"), ("advanced", "delivered"),
          ("advanced", "read"), ("duplicate", "read")]),
        # A text that failed stays failed: a read after it contradicts it.
        (["sent", "failed", "read"],
         [("advanced", "sent"), ("advanced", "failed"), ("out_of_order", "failed")]),
        (["read", "delivered", "sent"],
         [("advanced", "read"), ("out_of_order", "read"), ("out_of_order", "read")]),
    ],
)  # fmt: skip
def test_status_only_moves_forward(
    arrivals: list[str], expected: list[tuple[str, str | None]]
) -> None:
    assert replay(*arrivals) == expected


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message status 'received'"):
        judge(None, (), "received")
    assert {"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"} <= (
        MESSAGE_STATUSES
    )


# -- receipts in the outbox's database ------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(2_000.0)


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[OutboxStore]:
    opened = OutboxStore(f"sqlite:///{tmp_path / 'outbox.db'}", wall_clock=clock)
    await opened.start()
    yield opened
    await opened.aclose()


async def send_text(store: OutboxStore, call_id: str, sid: str) -> int:
    """A call that ends with one text, claimed and delivered with Twilio's ``sid``."""
    text = EffectSpec("message_1", "messaging", "messaging.send", {"to": "+1", "body": "hi"}, ())
    await store.end_call(
        call_id, phone="+14155550100", customer_id="C1", fingerprint="fp",
        outcome_json={"disposition": "resolved"}, effects=(text,), manual_payment=None,
    )  # fmt: skip
    [row] = await store.claim("A", limits={"messaging": 5}, lease_s=30)
    assert await store.mark_delivered(row.id, "A", {"sid": sid, "status": "queued"})
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
        ("advanced", "queued"), ("duplicate", "queued"), ("advanced", "delivered"),
        ("out_of_order", "delivered"), ("duplicate", "delivered"),
    ]  # fmt: skip
    [row] = await receipts.find(call_id="call-1")
    assert row | {} == row | {
        "message_sid": SID, "status": "delivered", "seen": ["queued", "delivered", "sent"],
        "callbacks": 5, "duplicates": 2, "out_of_order": 1, "matched": True,
        "effect_id": effect_id, "call_id": "call-1", "effect": "message_1",
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown message status"):
        await receipts.record(SID, "bogus", None)


async def test_callback_before_the_send_is_kept_unmatched_then_matched(
    store: OutboxStore, clock: ManualClock, tmp_path: Path
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
    # Kept in the outbox's file: a restarted service still knows.
    await store.aclose()
    reopened = OutboxStore(f"sqlite:///{tmp_path / 'outbox.db'}", wall_clock=clock)
    await reopened.start()
    try:
        [row] = await MessageReceipts(reopened, wall_clock=clock).find(message_sid=SID)
        kept = (row["status"], row["error_code"], row["call_id"])
        assert kept == ("undelivered", "30003", "call-2")
    finally:
        await reopened.aclose()


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


# -- the signature and the callback URL -----------------------------------------------------

URL = "https://switchboard.example.com/webhooks/twilio/status"
PARAMS = {"MessageSid": SID, "MessageStatus": "delivered", "To": "+14155550123", "Body": "a é"}


def test_signature_agrees_with_twilios_validator_and_the_mock() -> None:
    signed = twilio_signature(URL, PARAMS.items(), "token-1")
    assert signed == RequestValidator("token-1").compute_signature(URL, PARAMS)
    assert signed == mock_signature(URL, PARAMS, "token-1")
    assert valid_twilio_signature(signed, ["http://elsewhere/", URL], PARAMS.items(), "token-1")
    assert not valid_twilio_signature(signed, [URL], PARAMS.items(), "token-2")
    assert not valid_twilio_signature(signed, [URL + "?x=1"], PARAMS.items(), "token-1")
    tampered = {**PARAMS, "MessageStatus": "failed"}
    assert not valid_twilio_signature(signed, [URL], tampered.items(), "token-1")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "http://127.0.0.1:8000/webhooks/twilio/status"),
        ({"host": "0.0.0.0", "port": 8010}, "http://127.0.0.1:8010/webhooks/twilio/status"),
        ({"host": "::", "port": 8010}, "http://[::1]:8010/webhooks/twilio/status"),
        ({"public_url": "https://sb.example/"}, "https://sb.example/webhooks/twilio/status"),
        ({"port": 0}, None),  # unknown until the server binds
        ({"status_callbacks": False}, None),
    ],
)
def test_status_callback_url(given: dict[str, object], expected: str | None) -> None:
    assert IntegrationSettings(**given).status_callback_url == expected  # type: ignore[arg-type]


def test_public_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="public_url must be an http"):
        IntegrationSettings(public_url="sb.example.com")
