"""Stripe's test cards: magic ``pm_card_*`` payment methods and raw test card numbers.

A card is reduced to what may be kept (brand, last four digits, funding, country) and the
outcome a charge on it has, the moment it arrives; the full number is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.payments.errors import StripeError

__all__ = [
    "Decline",
    "TestCard",
    "card_for_number",
    "card_for_token",
    "card_number_error",
]


@dataclass(frozen=True, slots=True)
class Decline:
    """How a charge on the card fails: ``code`` (card_declined...) and the issuer's reason."""

    code: str
    decline_code: str
    message: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    decline: Decline | None = None


_DECLINED = "Your card was declined."
_GENERIC = Decline("card_declined", "generic_decline", _DECLINED)
_INSUFFICIENT = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
_LOST = Decline("card_declined", "lost_card", _DECLINED)
_STOLEN = Decline("card_declined", "stolen_card", _DECLINED)
_EXPIRED = Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
_CVC = Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc")
_PROCESSING = Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
)
_LIVE_CARD = Decline(
    "card_declined",
    "test_mode_live_card",
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
)

# Stripe's documented test numbers and what a charge on each does.
_TEST_NUMBERS: dict[str, tuple[str, Decline | None]] = {
    "4242424242424242": ("credit", None),
    "4000056655665556": ("debit", None),
    "5555555555554444": ("credit", None),
    "2223003122003222": ("credit", None),
    "5200828282828210": ("debit", None),
    "378282246310005": ("credit", None),
    "371449635398431": ("credit", None),
    "6011111111111117": ("credit", None),
    "3056930009020004": ("credit", None),
    "3566002020360505": ("credit", None),
    "6200000000000005": ("credit", None),
    "4000000000000002": ("credit", _GENERIC),
    "4000000000000341": ("credit", _GENERIC),
    "4000000000009995": ("credit", _INSUFFICIENT),
    "4000000000009987": ("credit", _LOST),
    "4000000000009979": ("credit", _STOLEN),
    "4000000000000069": ("credit", _EXPIRED),
    "4000000000000127": ("credit", _CVC),
    "4000000000000119": ("credit", _PROCESSING),
}

# The magic payment method ids Stripe accepts in test mode, by the test number behind each.
_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "371449635398431",
    "pm_card_discover": "6011111111111117",
    "pm_card_diners": "3056930009020004",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_chargeCustomerFail": "4000000000000341",
}
for _suffix, _number in {
    "chargeDeclined": "4000000000000002",
    "chargeDeclinedInsufficientFunds": "4000000000009995",
    "chargeDeclinedLostCard": "4000000000009987",
    "chargeDeclinedStolenCard": "4000000000009979",
    "chargeDeclinedExpiredCard": "4000000000000069",
    "chargeDeclinedIncorrectCvc": "4000000000000127",
    "chargeDeclinedProcessingError": "4000000000000119",
}.items():
    _TOKENS[f"pm_card_{_suffix}"] = _number
    _TOKENS[f"pm_card_visa_{_suffix}"] = _number


def card_for_token(token: str) -> TestCard | None:
    number = _TOKENS.get(token)
    return card_for_number(number) if number else None


def card_for_number(number: str) -> TestCard:
    """The card behind a valid number; numbers that are not test cards are live cards."""
    funding, decline = _TEST_NUMBERS.get(number, ("credit", _LIVE_CARD))
    return TestCard(brand=_brand(number), last4=number[-4:], funding=funding, decline=decline)


def card_number_error(number: str, param: str) -> StripeError | None:
    """The card error for a number that can't be a card (it never repeats the number)."""
    if not (number.isascii() and number.isdigit()) or not 12 <= len(number) <= 19:
        return StripeError(
            402,
            "card_error",
            "The card number is not a valid credit card number.",
            code="invalid_number",
            param=param,
        )
    if not _luhn_ok(number):
        return StripeError(
            402,
            "card_error",
            "Your card number is incorrect.",
            code="incorrect_number",
            param=param,
        )
    return None


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _brand(number: str) -> str:
    two, four = int(number[:2]), int(number[:4])
    if number.startswith("4"):
        return "visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "discover"
    if two in (30, 36, 38, 39):
        return "diners"
    if two == 35:
        return "jcb"
    if two == 62:
        return "unionpay"
    return "unknown"
