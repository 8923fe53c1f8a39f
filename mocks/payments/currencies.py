"""Currencies the mock settles in, with Stripe's minimum charge amounts (in minor units)."""

from __future__ import annotations

from typing import Any

from mocks.payments import errors
from mocks.payments._values import read_text

__all__ = ["MAX_AMOUNT", "check_amount", "read_currency"]

MAX_AMOUNT = 99_999_999

# Stripe's minimum charge per settlement currency (https://stripe.com/docs/currencies).
_MINIMUMS: dict[str, int] = {
    "usd": 50,
    "aud": 50,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "eur": 50,
    "inr": 50,
    "jpy": 50,
    "nzd": 50,
    "sgd": 50,
    "gbp": 30,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "hkd": 400,
    "pln": 200,
    "ron": 200,
    "myr": 200,
    "mxn": 1000,
    "thb": 1000,
    "czk": 1500,
    "huf": 17500,
}
_ZERO_DECIMAL = frozenset({"jpy"})
_SYMBOLS = {
    "usd": "$",
    "aud": "$",
    "cad": "$",
    "nzd": "$",
    "sgd": "$",
    "hkd": "$",
    "mxn": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "inr": "₹",
}


def read_currency(params: dict[str, Any], *, required: bool) -> str | None:
    raw = read_text(params, "currency")
    if raw is None:
        if required:
            raise errors.missing("currency")
        return None
    if raw == "":
        raise errors.invalid_empty("currency")
    currency = raw.lower()
    if currency not in _MINIMUMS:
        raise errors.invalid_value(
            "currency",
            "Invalid currency: it must be a three-letter ISO code this mock settles in. "
            f"Stripe currently supports these currencies: {', '.join(sorted(_MINIMUMS))}",
        )
    return currency


def check_amount(amount: int, currency: str) -> None:
    minimum = _MINIMUMS[currency]
    if amount < minimum:
        raise errors.invalid_value(
            "amount",
            f"Amount must be at least {_money(minimum, currency)} {currency}",
            code="amount_too_small",
        )
    if amount > MAX_AMOUNT:
        raise errors.invalid_value(
            "amount",
            f"Amount must be no more than {_money(MAX_AMOUNT, currency)}",
            code="amount_too_large",
        )


def _money(minor: int, currency: str) -> str:
    symbol = _SYMBOLS.get(currency, "")
    if currency in _ZERO_DECIMAL:
        return f"{symbol}{minor:,}"
    return f"{symbol}{minor / 100:,.2f}"
