"""The parameters of each PaymentIntent call, validated the way Stripe validates them.

Validation happens before a request touches the idempotency store, as at Stripe: a request
refused for its parameters leaves no stored result, so the caller can fix it and retry
with the same key. Raw card numbers are reduced to a ``TestCard`` here and dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mocks.payments import errors
from mocks.payments._forms import as_list
from mocks.payments._values import (
    MetadataPatch,
    read_bool,
    read_choice,
    read_int,
    read_metadata,
    read_text,
    reject_unknown,
)
from mocks.payments.cards import TestCard, card_for_number, card_number_error
from mocks.payments.currencies import check_amount, read_currency

__all__ = [
    "CANCELLATION_REASONS",
    "CancelParams",
    "CaptureParams",
    "CardInput",
    "ConfirmParams",
    "CreateParams",
    "PaymentMethodRef",
    "UpdateParams",
    "parse_cancel",
    "parse_capture",
    "parse_confirm",
    "parse_create",
    "parse_update",
]

CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")

# Stored and echoed as given.
_ECHOED = (
    "description",
    "customer",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "on_behalf_of",
    "transfer_group",
)
# Accepted so the SDKs' usual calls work, but without effect in the mock.
_IGNORED = (
    "expand",
    "return_url",
    "off_session",
    "error_on_requires_action",
    "mandate",
    "mandate_data",
    "payment_method_options",
    "use_stripe_sdk",
    "shipping",
    "application_fee_amount",
    "transfer_data",
    "radar_options",
    "confirmation_token",
    "payment_method_configuration",
    "excluded_payment_method_types",
    "amount_details",
)
_CONFIRM_KEYS = frozenset(
    {
        "payment_method",
        "payment_method_data",
        "receipt_email",
        "setup_future_usage",
        "capture_method",
        *_IGNORED,
    }
)
_CREATE_KEYS = frozenset(
    {
        "amount",
        "currency",
        "confirm",
        "metadata",
        "payment_method_types",
        "automatic_payment_methods",
        "confirmation_method",
        *_ECHOED,
        *_CONFIRM_KEYS,
    }
)
_UPDATE_KEYS = frozenset(
    {
        "amount",
        "currency",
        "metadata",
        "payment_method",
        "payment_method_data",
        "payment_method_types",
        "setup_future_usage",
        "capture_method",
        *_ECHOED,
        "expand",
    }
)
_CAPTURE_KEYS = frozenset(
    {
        "amount_to_capture",
        "metadata",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "expand",
        "application_fee_amount",
        "transfer_data",
    }
)
_CARD_KEYS = frozenset({"number", "exp_month", "exp_year", "cvc", "networks"})
_PM_DATA_KEYS = frozenset({"type", "card", "billing_details", "metadata", "allow_redisplay"})


@dataclass(frozen=True, slots=True)
class CardInput:
    """What is kept of ``payment_method_data``: never the number, only what it stands for."""

    card: TestCard
    exp_month: int
    exp_year: int
    billing_details: dict[str, Any] = field(default_factory=dict)


PaymentMethodRef = str | CardInput  # a payment method id (or pm_card_* token), or card data


@dataclass(frozen=True, slots=True)
class CreateParams:
    amount: int
    currency: str
    confirm: bool
    payment_method: PaymentMethodRef | None
    metadata: dict[str, str]
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UpdateParams:
    amount: int | None
    currency: str | None
    payment_method: PaymentMethodRef | None
    metadata: MetadataPatch | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConfirmParams:
    payment_method: PaymentMethodRef | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CancelParams:
    cancellation_reason: str | None


@dataclass(frozen=True, slots=True)
class CaptureParams:
    amount_to_capture: int | None  # None: all of amount_capturable
    metadata: MetadataPatch | None
    fields: dict[str, Any]


def parse_create(params: dict[str, Any], now: Callable[[], float] = time.time) -> CreateParams:
    reject_unknown(params, _CREATE_KEYS)
    amount = read_int(params, "amount", minimum=1, required=True)
    assert amount is not None
    currency = read_currency(params, required=True)
    assert currency is not None
    check_amount(amount, currency)
    patch = read_metadata(params)
    return CreateParams(
        amount=amount,
        currency=currency,
        confirm=bool(read_bool(params, "confirm")),
        payment_method=_payment_method(params, now),
        metadata=patch.applied_to({}) if patch else {},
        fields=_fields(params, creating=True),
    )


def parse_update(params: dict[str, Any], now: Callable[[], float] = time.time) -> UpdateParams:
    reject_unknown(params, _UPDATE_KEYS)
    amount = read_int(params, "amount", minimum=1)
    currency = read_currency(params, required=False)
    if amount is not None and currency is not None:
        check_amount(amount, currency)
    return UpdateParams(
        amount=amount,
        currency=currency,
        payment_method=_payment_method(params, now),
        metadata=read_metadata(params),
        fields=_fields(params, creating=False),
    )


def parse_confirm(params: dict[str, Any], now: Callable[[], float] = time.time) -> ConfirmParams:
    reject_unknown(params, _CONFIRM_KEYS)
    return ConfirmParams(payment_method=_payment_method(params, now), fields=_fields(params))


def parse_cancel(params: dict[str, Any]) -> CancelParams:
    reject_unknown(params, frozenset({"cancellation_reason", "expand"}))
    return CancelParams(read_choice(params, "cancellation_reason", CANCELLATION_REASONS))


def parse_capture(params: dict[str, Any]) -> CaptureParams:
    reject_unknown(params, _CAPTURE_KEYS)
    fields: dict[str, Any] = {}
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        value = read_text(params, name)
        if value is not None:
            fields[name] = value or None
    return CaptureParams(
        amount_to_capture=read_int(params, "amount_to_capture", minimum=1),
        metadata=read_metadata(params),
        fields=fields,
    )


def _fields(params: dict[str, Any], creating: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in _ECHOED:
        value = read_text(params, name)
        if value is not None:
            fields[name] = value or None  # "" unsets, as in Stripe's updates
    # manual: confirm authorises the card and the intent waits in requires_capture.
    capture = read_choice(params, "capture_method", ("automatic", "automatic_async", "manual"))
    if capture:
        fields["capture_method"] = capture
    usage = read_choice(params, "setup_future_usage", ("on_session", "off_session"))
    if usage:
        fields["setup_future_usage"] = usage
    if "payment_method_types" in params:
        types = as_list(params["payment_method_types"])
        if not types or not all(isinstance(t, str) and t for t in types):
            raise errors.invalid_value(
                "payment_method_types", "Invalid array: payment_method_types must list types"
            )
        fields["payment_method_types"] = types
    if creating:
        method = read_choice(params, "confirmation_method", ("automatic", "manual"))
        if method:
            fields["confirmation_method"] = method
        automatic = params.get("automatic_payment_methods")
        if isinstance(automatic, dict):
            fields["automatic_payment_methods"] = {"enabled": automatic.get("enabled") == "true"}
    return fields


def _payment_method(params: dict[str, Any], now: Callable[[], float]) -> PaymentMethodRef | None:
    token = read_text(params, "payment_method")
    data = params.get("payment_method_data")
    if token and data is not None:
        raise errors.invalid_value(
            "payment_method_data",
            "You cannot provide both payment_method and payment_method_data.",
            code="parameters_exclusive",
        )
    if token == "":
        raise errors.invalid_empty("payment_method")
    if data is None:
        return token
    if not isinstance(data, dict):
        raise errors.invalid_value("payment_method_data", "Invalid hash: payment_method_data")
    return _card_input(data, now)


def _card_input(data: dict[str, Any], now: Callable[[], float]) -> CardInput:
    base = "payment_method_data"
    reject_unknown(data, _PM_DATA_KEYS, base)
    kind = read_text(data, "type", f"{base}[type]")
    if not kind:
        raise errors.missing(f"{base}[type]")
    if kind != "card":
        raise errors.invalid_value(
            f"{base}[type]",
            f"This mock supports card payment methods only: {base}[type] must be card.",
        )
    card = data.get("card")
    if not isinstance(card, dict):
        raise errors.missing(f"{base}[card]")
    prefix = f"{base}[card]"
    reject_unknown(card, _CARD_KEYS, prefix)
    number = read_text(card, "number", f"{prefix}[number]")
    if not number:
        raise errors.missing(f"{prefix}[number]")
    number = number.replace(" ", "")
    problem = card_number_error(number, f"{prefix}[number]")
    if problem is not None:
        raise problem
    month = read_int(card, "exp_month", param=f"{prefix}[exp_month]", required=True)
    year = read_int(card, "exp_year", param=f"{prefix}[exp_year]", required=True)
    assert month is not None and year is not None
    _check_expiry(month, year if year >= 100 else 2000 + year, prefix, now)
    cvc = read_text(card, "cvc", f"{prefix}[cvc]")
    if cvc is not None and not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        raise errors.StripeError(
            402,
            "card_error",
            "Your card's security code is invalid.",
            code="invalid_cvc",
            param=f"{prefix}[cvc]",
        )
    details = data.get("billing_details")
    return CardInput(
        card=card_for_number(number),
        exp_month=month,
        exp_year=year if year >= 100 else 2000 + year,
        billing_details=details if isinstance(details, dict) else {},
    )


def _check_expiry(month: int, year: int, prefix: str, now: Callable[[], float]) -> None:
    today = time.gmtime(now())
    if not 1 <= month <= 12:
        raise errors.StripeError(
            402,
            "card_error",
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param=f"{prefix}[exp_month]",
        )
    if (year, month) < (today.tm_year, today.tm_mon):
        code, param = (
            ("invalid_expiry_year", "exp_year")
            if year < today.tm_year
            else ("invalid_expiry_month", "exp_month")
        )
        raise errors.StripeError(
            402,
            "card_error",
            f"Your card's expiration {param[4:]} is invalid.",
            code=code,
            param=f"{prefix}[{param}]",
        )
