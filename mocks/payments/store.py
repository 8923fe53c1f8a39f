"""The payments mock's state and the PaymentIntent state machine.

    requires_payment_method ──(attach a method)──▶ requires_confirmation
            ▲                                            │ confirm
            │ declined                                   ▼
            └──────────────────────────────────── processing ──▶ succeeded
                                   capture_method=manual │           ▲ capture
                                                         ▼           │
                                                  requires_capture ──┘
    any state but processing / succeeded / canceled ──cancel──▶ canceled

With ``capture_method=manual`` a confirm only authorises the card: the charge is paid but
not captured, and ``capture`` (all of it or less) or ``cancel`` (releasing it) follows,
typically after the call.

``processing`` lasts as long as the simulated card network round trip (the service's
``processing_delay_s``), so a concurrent confirm sees the intent busy, as at Stripe.
A Stripe test account starts empty, so the store is not seeded from the shared dataset.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable
from typing import Any

from mocks.payments import errors
from mocks.payments.cards import card_for_token
from mocks.payments.currencies import check_amount
from mocks.payments.params import CaptureParams, CreateParams, PaymentMethodRef, UpdateParams
from mocks.payments.records import Charge, PaymentIntent, PaymentMethod

__all__ = ["CANCELABLE", "CAPTURABLE", "CONFIRMABLE", "PaymentsStore"]

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
)
CAPTURABLE = ("requires_capture",)
_ALPHABET = string.ascii_letters + string.digits


class PaymentsStore:
    def __init__(self, seed: int, now: Callable[[], float] = time.time) -> None:
        self._rng = random.Random(f"payments:{seed}")  # repeatable ids after every reset
        self.now = now
        self.intents: dict[str, PaymentIntent] = {}
        self.methods: dict[str, PaymentMethod] = {}
        self.charges: dict[str, Charge] = {}

    def new_id(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self._rng.choices(_ALPHABET, k=length))

    # -- lookups (before idempotency: they only read) -------------------------------------
    def intent(self, intent_id: str, param: str = "intent", status: int = 404) -> PaymentIntent:
        found = self.intents.get(intent_id)
        if found is None:
            raise errors.no_such("payment_intent", param, status)
        return found

    def check_method(self, ref: PaymentMethodRef | None) -> None:
        if isinstance(ref, str) and ref not in self.methods and card_for_token(ref) is None:
            raise errors.no_such("PaymentMethod", "payment_method", status=400)

    # -- effects -------------------------------------------------------------------------
    def method_for(self, ref: PaymentMethodRef) -> PaymentMethod:
        """The stored method an id names, or a new one for a ``pm_card_*`` token or card data."""
        if isinstance(ref, str):
            if ref in self.methods:
                return self.methods[ref]
            card = card_for_token(ref)
            assert card is not None, "check_method() runs first"
            year = time.gmtime(self.now()).tm_year + 1
            method = PaymentMethod(self.new_id("pm_"), card, 12, year, self._stamp())
        else:
            method = PaymentMethod(
                self.new_id("pm_"),
                ref.card,
                ref.exp_month,
                ref.exp_year,
                self._stamp(),
                ref.billing_details,
            )
        self.methods[method.id] = method
        return method

    def create(self, params: CreateParams) -> PaymentIntent:
        intent_id = self.new_id("pi_")
        intent = PaymentIntent(
            id=intent_id,
            seq=len(self.intents),
            amount=params.amount,
            currency=params.currency,
            created=self._stamp(),
            client_secret=f"{intent_id}_secret_{self.new_id('', 25)}",
            status="requires_payment_method",
            metadata=dict(params.metadata),
            fields={k: v for k, v in params.fields.items() if v is not None},
        )
        if params.payment_method is not None:
            intent.payment_method = self.method_for(params.payment_method)
            intent.status = "requires_confirmation"
        self.intents[intent_id] = intent
        return intent

    def update(self, intent: PaymentIntent, params: UpdateParams) -> list[str]:
        """Applies an update; returns the names of the fields it changed."""
        changes_payment = (params.amount, params.currency, params.payment_method) != (None,) * 3
        if changes_payment and intent.status not in CONFIRMABLE:
            raise errors.unexpected_state(
                f"This PaymentIntent's amount, currency or payment_method could not be updated "
                f"because it has a status of {intent.status}. You may only update them on a "
                f"PaymentIntent with one of the following statuses: {', '.join(CONFIRMABLE)}.",
                intent.as_json(),
            )
        changed: list[str] = []
        if params.amount is not None or params.currency is not None:
            amount = intent.amount if params.amount is None else params.amount
            currency = params.currency or intent.currency
            check_amount(amount, currency)
            changed += [
                n
                for n, v in (("amount", params.amount), ("currency", params.currency))
                if v is not None
            ]
            intent.amount, intent.currency = amount, currency
        if params.payment_method is not None:
            intent.payment_method = self.method_for(params.payment_method)
            intent.status = "requires_confirmation"
            changed.append("payment_method")
        if params.metadata is not None:
            intent.metadata = params.metadata.applied_to(intent.metadata)
            changed.append("metadata")
        for name, value in params.fields.items():
            if value is None:
                intent.fields.pop(name, None)
            else:
                intent.fields[name] = value
            changed.append(name)
        return changed

    def begin_confirm(self, intent: PaymentIntent, ref: PaymentMethodRef | None) -> None:
        """Checks the intent may be confirmed and marks it processing."""
        if intent.status == "succeeded":
            raise errors.unexpected_state(
                "You cannot confirm this PaymentIntent because it has already succeeded after "
                "being previously confirmed.",
                intent.as_json(),
            )
        if intent.status not in CONFIRMABLE:
            raise errors.unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of "
                f"{intent.status}. Only a PaymentIntent with one of the following statuses may "
                f"be confirmed: {', '.join(CONFIRMABLE)}.",
                intent.as_json(),
            )
        if ref is not None:
            intent.payment_method = self.method_for(ref)
        if intent.payment_method is None:
            raise errors.unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Pass payment_method or payment_method_data.",
                intent.as_json(),
                "payment_method",
            )
        intent.status = "processing"

    def finish_confirm(self, intent: PaymentIntent) -> Charge:
        """The card network's answer: a charge that succeeded or was declined."""
        method = intent.payment_method
        assert method is not None and intent.status == "processing"
        decline = method.card.decline
        charge = Charge(
            self.new_id("ch_"),
            intent.id,
            intent.amount,
            intent.currency,
            self._stamp(),
            method,
            decline,
        )
        self.charges[charge.id] = charge
        intent.latest_charge = charge.id
        if decline is None and intent.fields.get("capture_method") == "manual":
            intent.status = "requires_capture"  # authorised: the money waits for capture
            intent.amount_capturable = intent.amount
            intent.last_payment_error = None
        elif decline is None:
            intent.status = "succeeded"
            intent.amount_received = charge.amount_captured = intent.amount
            charge.captured = True
            intent.last_payment_error = None
        else:
            intent.status = "requires_payment_method"
            intent.payment_method = None
            intent.last_payment_error = {
                "type": "card_error",
                "code": decline.code,
                "decline_code": decline.decline_code,
                "message": decline.message,
                "doc_url": errors.DOC_URL + decline.code.replace("_", "-"),
                "charge": charge.id,
                "payment_method": method.as_json(),
                **({"param": decline.param} if decline.param else {}),
            }
        return charge

    def cancel(self, intent: PaymentIntent, reason: str | None) -> None:
        if intent.status not in CANCELABLE:
            raise errors.unexpected_state(
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent.status}. Only a PaymentIntent with one of the following statuses may "
                f"be canceled: {', '.join(CANCELABLE)}.",
                intent.as_json(),
            )
        intent.status = "canceled"
        intent.cancellation_reason = reason
        intent.canceled_at = self._stamp()
        held = self.charges.get(intent.latest_charge or "")
        if intent.amount_capturable and held is not None:  # the authorisation is released
            held.amount_refunded = held.amount
            intent.amount_capturable = 0

    def capture(self, intent: PaymentIntent, params: CaptureParams) -> Charge:
        """Captures an authorised intent (all of it, or ``amount_to_capture``); the rest of
        the authorisation is released, as at Stripe."""
        if intent.status not in CAPTURABLE:
            raise errors.unexpected_state(
                f"This PaymentIntent could not be captured because it has a status of "
                f"{intent.status}. Only a PaymentIntent with one of the following statuses may "
                f"be captured: {', '.join(CAPTURABLE)}.",
                intent.as_json(),
            )
        amount = params.amount_to_capture
        if amount is None:
            amount = intent.amount_capturable
        if amount > intent.amount_capturable:
            raise errors.invalid_value(
                "amount_to_capture",
                "The amount_to_capture must be less than or equal to the PaymentIntent's "
                "amount_capturable.",
                code="amount_too_large",
            )
        charge = self.charges[intent.latest_charge or ""]
        charge.captured = True
        charge.amount_captured = amount
        charge.amount_refunded = charge.amount - amount
        intent.status = "succeeded"
        intent.amount_received = amount
        intent.amount_capturable = 0
        if params.metadata is not None:
            intent.metadata = params.metadata.applied_to(intent.metadata)
        for name, value in params.fields.items():
            if value is None:
                intent.fields.pop(name, None)
            else:
                intent.fields[name] = value
        return charge

    def charge_summary(self) -> dict[str, Any]:
        """Money taken (captured amounts only), authorisations still held, and declines."""
        succeeded = [c for c in self.charges.values() if c.captured]
        held = [c for c in self.charges.values() if c.authorized]
        failed = [c for c in self.charges.values() if c.decline is not None]
        by_currency: dict[str, int] = {}
        for charge in succeeded:
            by_currency[charge.currency] = (
                by_currency.get(charge.currency, 0) + charge.amount_captured
            )
        declines: dict[str, int] = {}
        for charge in failed:
            assert charge.decline is not None
            code = charge.decline.decline_code
            declines[code] = declines.get(code, 0) + 1
        statuses: dict[str, int] = {}
        for intent in self.intents.values():
            statuses[intent.status] = statuses.get(intent.status, 0) + 1
        return {
            "succeeded": {
                "count": len(succeeded),
                "amount": sum(c.amount_captured for c in succeeded),
                "amount_by_currency": by_currency,
            },
            "authorized": {"count": len(held), "amount": sum(c.amount for c in held)},
            "failed": {"count": len(failed), "by_decline_code": declines},
            "payment_intents_by_status": statuses,
        }

    def _stamp(self) -> int:
        return int(self.now())
