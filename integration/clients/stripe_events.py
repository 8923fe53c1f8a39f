"""Stripe's signed events: checking ``Stripe-Signature`` and reading the event it covers.

The header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` (more than one ``v1`` while an
endpoint's secret is being rolled); each hex is HMAC-SHA256 under the endpoint secret of
``"<t>.<raw body>"``. An event is taken when one ``v1`` matches (compared in constant time)
and ``t`` is within ``tolerance_s`` of now, so a captured request cannot be replayed later.
Written by hand rather than with the ``stripe`` package's ``Webhook.construct_event``: that
reads ``time.time()`` itself, and the layer's tolerance must run on its injected clock; the
contract tests prove the two agree (``tests/contract/test_stripe_webhook_signature.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["SIGNATURE_HEADER", "EventRefused", "SignedEvent", "verify_event"]

SIGNATURE_HEADER = "stripe-signature"
_MAX_HEADER = 2048
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_]{1,60}$")
_TYPE = re.compile(r"^[a-z_]{1,32}(\.[a-z_]{1,32}){1,3}$")
_INTENT_ID = re.compile(r"^pi_[A-Za-z0-9_]{1,60}$")


class EventRefused(ValueError):
    """A post that is not a valid signed event; ``reason`` is a short slug for metrics."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SignedEvent:
    event_id: str
    type: str
    created: int
    intent_id: str | None  # the PaymentIntent it is about, when it is about one


def verify_event(
    payload: bytes, header: str | None, secret: str, *, now: float, tolerance_s: float
) -> SignedEvent:
    """The event, once signed by ``secret`` within ``tolerance_s`` of ``now``; EventRefused
    otherwise (its message never repeats what was sent)."""
    if not secret:
        raise EventRefused("no_secret", "no signing secret is configured for payment events")
    if not header:
        raise EventRefused("bad_signature", "Stripe-Signature is missing")
    timestamp, signatures = _parse(header)
    signed = f"{timestamp}.".encode() + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures):
        raise EventRefused("bad_signature", "Stripe-Signature does not match this body")
    if abs(now - timestamp) > tolerance_s:
        raise EventRefused("stale", f"Stripe-Signature's t is more than {tolerance_s:g} s from now")
    return _event(payload)


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > _MAX_HEADER:
        raise EventRefused("bad_signature", "Stripe-Signature is too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and _DIGITS.match(value):
            timestamp = int(value)
        elif name == "v1" and _HEX.match(value):
            signatures.append(value)
    if timestamp is None or not signatures:
        raise EventRefused("bad_signature", "Stripe-Signature needs t=<unix seconds> and v1=<hex>")
    return timestamp, signatures


def _event(payload: bytes) -> SignedEvent:
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise EventRefused("bad_request", "the body is not JSON") from None
    if not isinstance(event, dict):
        raise EventRefused("bad_request", "the body is not an event object")
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise EventRefused("bad_request", "id: not an event id (evt_...)")
    if not isinstance(kind, str) or not _TYPE.match(kind):
        raise EventRefused("bad_request", "type: not an event type")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 <= created < 1 << 40:
        raise EventRefused("bad_request", "created: not a Unix time")
    data = event.get("data")
    obj: Any = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise EventRefused("bad_request", "data.object: missing")
    intent = obj.get("payment_intent") if obj.get("object") == "charge" else obj.get("id")
    if kind.startswith(("payment_intent.", "charge.")) and not (
        isinstance(intent, str) and _INTENT_ID.match(intent)
    ):
        raise EventRefused("bad_request", "data.object: names no PaymentIntent (pi_...)")
    return SignedEvent(event_id, kind, created, intent if isinstance(intent, str) else None)
