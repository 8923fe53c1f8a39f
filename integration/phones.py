"""Turning whatever the caller's number looks like into E.164 (phonenumbers does the work)."""

from __future__ import annotations

import phonenumbers

from integration.errors import InvalidPhoneNumber

__all__ = ["normalize_phone"]


def normalize_phone(raw: str, default_region: str = "US", field: str = "phone") -> str:
    """``"(415) 555-0123"``, ``"+1 415.555.0123"``, ``"tel:+14155550123"`` → ``"+14155550123"``."""
    text = (raw or "").strip().removeprefix("tel:")
    if not text:
        raise InvalidPhoneNumber(field, "a phone number is required")
    if len(text) > 40:
        raise InvalidPhoneNumber(field, "too long to be a phone number")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(field, f"{raw!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(field, f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
