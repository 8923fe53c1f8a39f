"""The objects the payments mock keeps, and their Stripe JSON (API version 2024-06-20 shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mocks.payments.cards import Decline, TestCard

__all__ = ["Charge", "PaymentIntent", "PaymentMethod"]


@dataclass
class PaymentMethod:
    id: str
    card: TestCard  # brand, last4 and the outcome; the full number was never kept
    exp_month: int
    exp_year: int
    created: int
    billing_details: dict[str, Any] = field(default_factory=dict)

    def card_json(self) -> dict[str, Any]:
        return {
            "brand": self.card.brand,
            "last4": self.card.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "funding": self.card.funding,
            "country": self.card.country,
            "checks": {
                "cvc_check": "pass",
                "address_line1_check": None,
                "address_postal_code_check": None,
            },
            "wallet": None,
        }

    def as_json(self) -> dict[str, Any]:
        details = self.billing_details
        return {
            "id": self.id,
            "object": "payment_method",
            "type": "card",
            "card": self.card_json(),
            "billing_details": {
                "address": details.get("address")
                if isinstance(details.get("address"), dict)
                else None,
                "email": details.get("email"),
                "name": details.get("name"),
                "phone": details.get("phone"),
            },
            "created": self.created,
            "customer": None,
            "livemode": False,
            "metadata": {},
        }


@dataclass
class Charge:
    id: str
    payment_intent: str
    amount: int
    currency: str
    created: int
    payment_method: PaymentMethod
    decline: Decline | None
    # An authorisation (capture_method=manual) is a paid charge not captured yet; a partial
    # capture or a cancel releases the rest, which Stripe shows as amount_refunded.
    captured: bool = False
    amount_captured: int = 0
    amount_refunded: int = 0

    @property
    def status(self) -> str:
        return "failed" if self.decline else "succeeded"

    @property
    def authorized(self) -> bool:
        """Held on the card, neither captured nor released yet."""
        return self.decline is None and not self.captured and self.amount_refunded == 0

    def as_json(self) -> dict[str, Any]:
        paid = self.decline is None
        return {
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "failure_code": self.decline.code if self.decline else None,
            "failure_message": self.decline.message if self.decline else None,
            "livemode": False,
            "metadata": {},
            "outcome": {
                "network_status": "approved_by_network" if paid else "declined_by_network",
                "reason": self.decline.decline_code if self.decline else None,
                "risk_level": "normal",
                "seller_message": "Payment complete."
                if paid
                else "The bank did not return any further details with this decline.",
                "type": "authorized" if paid else "issuer_declined",
            },
            "paid": paid,
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method.id,
            "payment_method_details": {"type": "card", "card": self.payment_method.card_json()},
            "refunded": paid and self.amount_refunded >= self.amount,
            "status": self.status,
        }


@dataclass
class PaymentIntent:
    id: str
    seq: int  # creation order; lists page by it (``created`` has one-second resolution)
    amount: int
    currency: str
    created: int
    client_secret: str
    status: str
    metadata: dict[str, str]
    fields: dict[str, Any]  # description, customer, receipt_email... as given
    payment_method: PaymentMethod | None = None
    latest_charge: str | None = None
    last_payment_error: dict[str, Any] | None = None
    cancellation_reason: str | None = None
    canceled_at: int | None = None
    amount_received: int = 0
    amount_capturable: int = 0  # authorised and not captured yet (capture_method=manual)

    def as_json(self) -> dict[str, Any]:
        get = self.fields.get
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_details": {"tip": {}},
            "amount_received": self.amount_received,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": get("automatic_payment_methods"),
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": get("capture_method", "automatic"),
            "client_secret": self.client_secret,
            "confirmation_method": get("confirmation_method", "automatic"),
            "created": self.created,
            "currency": self.currency,
            "customer": get("customer"),
            "description": get("description"),
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": None,
            "on_behalf_of": get("on_behalf_of"),
            "payment_method": self.payment_method.id if self.payment_method else None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": list(get("payment_method_types", ["card"])),
            "processing": None,
            "receipt_email": get("receipt_email"),
            "review": None,
            "setup_future_usage": get("setup_future_usage"),
            "shipping": None,
            "statement_descriptor": get("statement_descriptor"),
            "statement_descriptor_suffix": get("statement_descriptor_suffix"),
            "status": self.status,
            "transfer_data": None,
            "transfer_group": get("transfer_group"),
        }
