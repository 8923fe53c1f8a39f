"""Times, amounts and product names the way a person says them on the phone."""

from __future__ import annotations

from datetime import datetime

__all__ = ["PRODUCT_NAMES", "money", "product_name", "spoken_time"]

# The catalog's codes as a caller knows them (the eligibility service has the full catalog;
# an unknown code is spoken as "that product" rather than read out).
PRODUCT_NAMES = {
    "LOAN-PERSONAL": "a personal loan",
    "LOAN-AUTO": "an auto loan",
    "LOAN-SMALLBIZ": "a small business loan",
    "MORTGAGE-30Y": "a 30-year fixed mortgage",
    "MORTGAGE-15Y": "a 15-year fixed mortgage",
    "HELOC": "a home equity line of credit",
    "CARD-SECURED": "a secured credit card",
    "CARD-CLASSIC": "our Classic credit card",
    "CARD-GOLD": "our Gold Rewards card",
    "CARD-PLATINUM": "our Platinum Travel card",
    "ACCT-CHECKING": "an everyday checking account",
    "ACCT-SAVINGS": "a high-yield savings account",
    "ACCT-BUSINESS": "a business checking account",
    "PLAN-BASIC": "the Basic Banking plan",
    "PLAN-PREMIER": "the Premier Relationship plan",
    "PLAN-SMALLBIZ": "the Small Business plan",
}
_SYMBOLS = {"usd": "$"}


def product_name(code: str) -> str:
    return PRODUCT_NAMES.get(code, "that product")


def money(amount_minor: int, currency: str = "usd") -> str:
    """``4250`` → ``$42.50``; ``500000`` → ``$5,000``."""
    units, cents = divmod(amount_minor, 100)
    symbol = _SYMBOLS.get(currency.lower(), "")
    text = f"{symbol}{units:,}" + (f".{cents:02d}" if cents else "")
    return text if symbol else f"{text} {currency.upper()}"


def spoken_time(moment: datetime, now: datetime | None = None) -> str:
    """``Tuesday at 10:30 am`` within the coming week (in the time's own offset), else
    ``Tuesday, March 14 at 2 pm``; ``today`` and ``tomorrow`` when they apply. Without
    ``now``, always the full form (for a message read later)."""
    days = 7
    if now is not None:
        local_now = now.astimezone(moment.tzinfo) if moment.tzinfo else now
        days = (moment.date() - local_now.date()).days
    hour = moment.hour % 12 or 12
    clock = f"{hour}:{moment.minute:02d}" if moment.minute else f"{hour}"
    clock += " am" if moment.hour < 12 else " pm"
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif 1 < days < 7:
        day = moment.strftime("%A")
    else:
        day = f"{moment.strftime('%A, %B')} {moment.day}"
    return f"{day} at {clock}"
