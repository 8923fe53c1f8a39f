"""Who a message goes to and comes from: channels, number checks, test numbers, segments.

SMS addresses are E.164 numbers (``From`` may also be a short code or an alphanumeric
sender ID); WhatsApp addresses are the same numbers behind a ``whatsapp:`` prefix, and both
ends of a message must use the same channel, as on Twilio.

Test numbers. Twilio's magic numbers (``+1500555xxxx``) keep the synchronous errors they
have with Twilio's test credentials, so code written against Twilio's docs sees the same
answers. Three more numbers, which Twilio does not have, are accepted and then fail later,
so the failure arrives the way production failures do, through status callbacks:

=================  ==========================================================
To +15005550001    400, code 21211 (invalid 'To' number)
To +15005550002    400, code 21612 (not reachable)
To +15005550003    400, code 21408 (no permission for the region)
To +15005550004    400, code 21610 (recipient unsubscribed)
To +15005550009    400, code 21614 (not a mobile number)
From +15005550001  400, code 21212 (invalid 'From' number)
From +15005550007  400, code 21606 (not a sending number of this account)
From +15005550008  400, code 21611 (sender's queue is full)
To +15005550010    201, then queued -> failed, ErrorCode 30008
To +15005550011    201, then queued -> sent -> undelivered, ErrorCode 30003
To +15005550012    201, then queued -> sent -> undelivered, ErrorCode 30006
=================  ==========================================================
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from mocks.messaging.errors import TwilioError

__all__ = [
    "DELAYED_FAILURES",
    "Address",
    "DelayedFailure",
    "count_segments",
    "parse_from",
    "parse_to",
    "require_same_channel",
]

Channel = Literal["sms", "whatsapp"]
_WHATSAPP = "whatsapp:"

# Twilio's messages quote the number; these name the field instead (never echo input).
_TO_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the "
        "'To' number.",
    ),
    "+15005550004": (21610, "Attempt to send to an unsubscribed recipient: the 'To' number."),
    "+15005550009": (21614, "The 'To' number is not a valid mobile number."),
}
_FROM_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (
        21212,
        "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
    ),
    "+15005550007": (
        21606,
        "The 'From' phone number provided is not a valid message-capable Twilio phone "
        "number for this destination/account.",
    ),
    "+15005550008": (
        21611,
        "This 'From' number has exceeded the maximum number of queued messages.",
    ),
}


@dataclass(frozen=True, slots=True)
class DelayedFailure:
    """A test number that is accepted, then fails: at ``final_status`` with ``error_code``."""

    final_status: Literal["failed", "undelivered"]
    error_code: int
    error_message: str


DELAYED_FAILURES: dict[str, DelayedFailure] = {
    "+15005550010": DelayedFailure("failed", 30008, "Unknown error"),
    "+15005550011": DelayedFailure("undelivered", 30003, "Unreachable destination handset"),
    "+15005550012": DelayedFailure("undelivered", 30006, "Landline or unreachable carrier"),
}

_SHORT_CODE = re.compile(r"^\d{5,6}$")
_ALPHA_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


@dataclass(frozen=True, slots=True)
class Address:
    channel: Channel
    value: str  # E.164, a short code or an alphanumeric sender ID (without the prefix)

    def __str__(self) -> str:
        return f"{_WHATSAPP}{self.value}" if self.channel == "whatsapp" else self.value


def _split_channel(raw: str) -> tuple[Channel, str]:
    text = raw.strip()
    if text.lower().startswith(_WHATSAPP):
        return "whatsapp", text[len(_WHATSAPP) :].strip()
    return "sms", text


def _e164(text: str) -> str | None:
    # Twilio accepts national formats and reads them in the account's country (US here).
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_to(raw: str | None) -> Address:
    if raw is None or not raw.strip():
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    channel, text = _split_channel(raw)
    number = _e164(text)
    if number is None:
        code, message = _TO_ERRORS["+15005550001"]
        raise TwilioError(400, code, message)
    if number in _TO_ERRORS:
        raise TwilioError(400, *_TO_ERRORS[number])
    return Address(channel, number)


def parse_from(raw: str) -> Address:
    channel, text = _split_channel(raw)
    number = _e164(text)
    named_sender = _SHORT_CODE.match(text) or _ALPHA_SENDER.match(text)
    if number is None and channel == "sms" and named_sender:
        return Address(channel, text)
    if number is None:
        raise TwilioError(400, *_FROM_ERRORS["+15005550001"])
    if number in _FROM_ERRORS:
        raise TwilioError(400, *_FROM_ERRORS[number])
    return Address(channel, number)


def require_same_channel(to: Address, sender: Address) -> None:
    if to.channel != sender.channel:
        raise TwilioError(
            400,
            21910,
            "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel "
            f"(From is {sender.channel}, To is {to.channel}).",
        )


# GSM 03.38: characters in the basic set cost one septet, those in the extension table two.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def count_segments(body: str, channel: Channel) -> int:
    """How many SMS parts a body needs (WhatsApp messages are always one)."""
    if channel == "whatsapp" or not body:
        return 1
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in body):
        septets = sum(2 if c in _GSM_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2  # UCS-2 counts code units, emoji take two
    return 1 if units <= 70 else math.ceil(units / 67)
