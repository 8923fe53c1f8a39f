"""What each PaymentIntent write does once its parameters are valid, and what it records.

Each ``prepare_*`` function validates and looks things up (raising ``StripeError`` before
the idempotency store is involved), then returns the effect to apply under the key. The
effect records one ledger entry per request (``create`` with ``confirm=true`` carries the
charge outcome in its entry); a replayed request never reaches it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mocks.payments import params as p
from mocks.payments.errors import StripeError
from mocks.payments.records import PaymentIntent

if TYPE_CHECKING:
    from mocks.payments.service import PaymentsService

__all__ = [
    "Effect",
    "prepare_cancel",
    "prepare_capture",
    "prepare_confirm",
    "prepare_create",
    "prepare_update",
]

Result = tuple[int, dict[str, Any]]
Effect = Callable[[str | None], Awaitable[Result]]  # takes the idempotency key


def prepare_create(service: PaymentsService, form: dict[str, Any]) -> Effect:
    params = p.parse_create(form, service.store.now)
    service.store.check_method(params.payment_method)
    if params.confirm and params.payment_method is None:
        raise StripeError(
            400,
            "invalid_request_error",
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Pass payment_method or payment_method_data.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )

    async def create(key: str | None) -> Result:
        intent = service.store.create(params)
        outcome: dict[str, Any] = {}
        # One entry per request (with the charge's outcome when confirm=true), so the
        # ledger's duplicate-key check stays truthful.
        try:
            if params.confirm:
                result, outcome = await _confirm(service, intent, None)
            else:
                result = 200, intent.as_json()
        finally:
            service.ledger.record(
                "payment_intent.create",
                intent.id,
                key,
                status=intent.status,
                amount=intent.amount,
                currency=intent.currency,
                confirm=params.confirm,
                **outcome,
            )
        if params.confirm:
            _announce(service, intent, outcome, key)
        return result

    return create


def prepare_update(service: PaymentsService, intent_id: str, form: dict[str, Any]) -> Effect:
    intent = service.store.intent(intent_id)
    params = p.parse_update(form, service.store.now)
    service.store.check_method(params.payment_method)

    async def update(key: str | None) -> Result:
        changed = service.store.update(intent, params)
        service.ledger.record(
            "payment_intent.update",
            intent.id,
            key,
            fields=changed,
            status=intent.status,
            amount=intent.amount,
            currency=intent.currency,
        )
        return 200, intent.as_json()

    return update


def prepare_confirm(service: PaymentsService, intent_id: str, form: dict[str, Any]) -> Effect:
    intent = service.store.intent(intent_id)
    params = p.parse_confirm(form, service.store.now)
    service.store.check_method(params.payment_method)

    async def confirm(key: str | None) -> Result:
        if params.fields:
            intent.fields.update({k: v for k, v in params.fields.items() if v is not None})
        result, outcome = await _confirm(service, intent, params.payment_method)
        service.ledger.record(
            "payment_intent.confirm",
            intent.id,
            key,
            status=intent.status,
            amount=intent.amount,
            currency=intent.currency,
            **outcome,
        )
        _announce(service, intent, outcome, key)
        return result

    return confirm


def prepare_cancel(service: PaymentsService, intent_id: str, form: dict[str, Any]) -> Effect:
    intent = service.store.intent(intent_id)
    params = p.parse_cancel(form)

    async def cancel(key: str | None) -> Result:
        released = intent.amount_capturable
        service.store.cancel(intent, params.cancellation_reason)
        service.ledger.record(
            "payment_intent.cancel",
            intent.id,
            key,
            reason=params.cancellation_reason,
            released=released,
        )
        service.emit("payment_intent.canceled", intent.as_json(), key)
        return 200, intent.as_json()

    return cancel


def prepare_capture(service: PaymentsService, intent_id: str, form: dict[str, Any]) -> Effect:
    intent = service.store.intent(intent_id)
    params = p.parse_capture(form)

    async def capture(key: str | None) -> Result:
        charge = service.store.capture(intent, params)
        service.ledger.record(
            "payment_intent.capture",
            intent.id,
            key,
            status=intent.status,
            amount=charge.amount_captured,
            currency=intent.currency,
            released=charge.amount_refunded,
            charge=charge.id,
        )
        service.emit("payment_intent.succeeded", intent.as_json(), key)
        service.emit("charge.captured", charge.as_json(), key)
        return 200, intent.as_json()

    return capture


_EVENT_OF = {
    "succeeded": "payment_intent.succeeded",
    "authorized": "payment_intent.amount_capturable_updated",
    "declined": "payment_intent.payment_failed",
}


def _announce(
    service: PaymentsService, intent: PaymentIntent, outcome: dict[str, Any], key: str | None
) -> None:
    """The webhook event a confirmation's outcome makes (none if it never finished)."""
    event_type = _EVENT_OF.get(str(outcome.get("outcome")))
    if event_type is not None:
        service.emit(event_type, intent.as_json(), key)


async def _confirm(
    service: PaymentsService, intent: PaymentIntent, ref: p.PaymentMethodRef | None
) -> tuple[Result, dict[str, Any]]:
    """Charges the card; returns the answer and the outcome for the caller's ledger entry."""
    store = service.store
    before = (intent.status, intent.payment_method)
    store.begin_confirm(intent, ref)
    try:
        delay = service.config.processing_delay_s
        if delay:
            await service.ctx.sleep(delay)  # the card network round trip
        charge = store.finish_confirm(intent)
    except BaseException:
        # A request cut short mid-flight leaves the intent as it found it.
        if intent.status == "processing":
            intent.status, intent.payment_method = before
        raise
    method, decline = charge.payment_method, charge.decline
    held = decline is None and not charge.captured  # capture_method=manual: authorised only
    outcome = {
        "outcome": "declined" if decline else "authorized" if held else "succeeded",
        "decline_code": decline.decline_code if decline else None,
        "charge": charge.id,
        "payment_method": method.id,
        "card_brand": method.card.brand,
        "card_last4": method.card.last4,
    }
    if decline is None:
        return (200, intent.as_json()), outcome
    error = StripeError(
        402,
        "card_error",
        decline.message,
        code=decline.code,
        param=decline.param,
        decline_code=decline.decline_code,
        charge=charge.id,
        payment_intent=intent.as_json(),
        payment_method=method.as_json(),
    )
    return (error.status, error.body()), outcome
