"""Stripe: charge a card in one request (a PaymentIntent created and confirmed together).

A card number passes through here on its way to Stripe and nowhere else: it is not in
the return value, and any error message that could carry it is scrubbed before it leaves.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.errors import Rejected, SourceError
from integration.settings import VendorCredentials
from integration.transports.base import HttpResponse, Transport

__all__ = ["StripeClient"]

_CARD_FIELDS = ("number", "exp_month", "exp_year")


class StripeClient:
    system = "payments"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is Stripe's API root above ``/v1`` (the mocks: ``<mocks_url>/payments``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._auth = {"Authorization": f"Bearer {credentials.stripe_secret_key}"}

    async def charge(
        self,
        attempt: AttemptState,
        *,
        amount: int,
        currency: str,
        key: str,
        card: dict[str, Any] | None = None,
        payment_method: str | None = None,
        metadata: dict[str, str] | None = None,
        manual_capture: bool = False,
    ) -> dict[str, Any]:
        """The confirmed PaymentIntent. Exactly one of ``card`` ({number, exp_month,
        exp_year}) and ``payment_method`` (``pm_card_visa``...) says what to charge. A decline
        raises Rejected naming Stripe's decline_code; the same ``key`` replays the outcome."""
        if (card is None) == (payment_method is None):
            raise ValueError("charge needs exactly one of card and payment_method")
        form = {
            "amount": str(amount),
            "currency": currency,
            "confirm": "true",
            "payment_method_types[]": "card",
        }
        if manual_capture:  # authorised now, captured later (the intent: requires_capture)
            form["capture_method"] = "manual"
        if payment_method is not None:
            form["payment_method"] = payment_method
        else:
            assert card is not None
            missing = [name for name in _CARD_FIELDS if card.get(name) in (None, "")]
            if missing:
                raise ValueError(f"card lacks {', '.join(missing)}")
            form["payment_method_data[type]"] = "card"
            for name in _CARD_FIELDS:
                form[f"payment_method_data[card][{name}]"] = str(card[name])
        for name, value in (metadata or {}).items():
            form[f"metadata[{name}]"] = str(value)
        number = str(card["number"]) if card is not None else None
        try:
            intent = await send_write_json(
                self.http,
                "charge",
                attempt,
                "POST",
                "/v1/payment_intents",
                data=form,
                headers={**self._auth, "Idempotency-Key": key},
                explain=_card_error,
            )
        except SourceError as error:
            if number:
                _scrub(error, number)
            raise
        if not isinstance(intent, dict) or not intent.get("id"):
            raise self.http.malformed("charge", attempt, "PaymentIntent has no id")
        return intent


def _card_error(refused: Rejected, response: HttpResponse) -> SourceError | None:
    """Stripe's card_error with its code and decline_code in the message (a message alone,
    "Your card was declined.", does not say whether to ask for another card)."""
    try:
        error = jsonlib.loads(response.body).get("error")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if not isinstance(error, dict) or error.get("type") != "card_error":
        return None
    code, decline = error.get("code"), error.get("decline_code")
    said = f"{code}" + (f" (decline_code={decline})" if decline else "")
    message = f"HTTP {response.status}: {said}: {error.get('message', '')}"
    return Rejected(
        refused.system,
        refused.operation,
        message,
        status=refused.status,
        injected_fault=refused.injected_fault,
    )


def _scrub(error: BaseException, number: str) -> None:
    """Masks the card number wherever an error (or one it was raised from) quotes it."""
    masked = "*" * max(len(number) - 4, 0) + number[-4:]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(
            a.replace(number, masked) if isinstance(a, str) else a for a in current.args
        )
        current = current.__cause__ or current.__context__
