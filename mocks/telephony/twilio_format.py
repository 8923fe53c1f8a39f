"""How Twilio spells things: Call instances, RFC 2822 dates, prices, errors and URIs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from pydantic import BaseModel

from mocks.dataset import COMPANY_NUMBER, CallRecord

__all__ = [
    "API_VERSION",
    "TwilioErrorBody",
    "call_instance",
    "call_uri",
    "calls_uri",
    "error_code",
    "national_format",
    "rfc2822",
    "twilio_error",
]

API_VERSION = "2010-04-01"
_ERROR_CODES = {
    400: 20001,
    401: 20003,
    403: 20003,
    404: 20404,
    405: 20004,
    429: 20429,
    500: 20500,
    503: 20503,
}
_CALL_SUBRESOURCES = (
    "feedback",
    "notifications",
    "recordings",
    "streams",
    "payments",
    "user_defined_message_subscriptions",
    "user_defined_messages",
    "events",
    "siprec",
    "transcriptions",
)


def error_code(status: int) -> int:
    return _ERROR_CODES.get(status, 20500 if status >= 500 else 20001)


class TwilioErrorBody(BaseModel):
    """``twilio_error``'s shape, for the OpenAPI document."""

    code: int  # Twilio's error code: 20003 bad credentials, 20404 not found...
    message: str
    more_info: str
    status: int


def twilio_error(status: int, message: str) -> dict[str, Any]:
    code = error_code(status)
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: ``Tue, 10 Aug 2010 08:02:17 +0000``."""
    return None if moment is None else format_datetime(moment)


@lru_cache(maxsize=65_536)
def national_format(number: str) -> str:
    """``+14158675309`` -> ``(415) 867-5309``, as Twilio's ``*_formatted`` fields show it."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


@lru_cache(maxsize=16)
def _phone_number_sid(number: str) -> str:
    # Stable per number, like the IncomingPhoneNumber sid a real account would have.
    return "PN" + hashlib.sha256(number.encode()).hexdigest()[:32]


def calls_uri(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Calls.json"


def call_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Calls/{sid}.json"


def _price(cents: int | None) -> str | None:
    # Twilio reports what a call cost as a negative amount with five decimals.
    return None if cents is None else f"{-cents / 100:.5f}"


def call_instance(call: CallRecord, account_sid: str) -> dict[str, Any]:
    base = f"/{API_VERSION}/Accounts/{account_sid}/Calls/{call.sid}"
    return {
        "account_sid": account_sid,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(call.start_time),
        "date_updated": rfc2822(call.end_time or call.start_time),
        "direction": call.direction,
        "duration": str(call.duration_s),
        "end_time": rfc2822(call.end_time),
        "forwarded_from": None,
        "from": call.from_number,
        "from_formatted": national_format(call.from_number),
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": _phone_number_sid(COMPANY_NUMBER),
        "price": _price(call.price_cents),
        "price_unit": "USD",
        "queue_time": "0",
        "sid": call.sid,
        "start_time": rfc2822(call.start_time),
        "status": call.status,
        "subresource_uris": {name: f"{base}/{_camel(name)}.json" for name in _CALL_SUBRESOURCES},
        "to": call.to_number,
        "to_formatted": national_format(call.to_number),
        "trunk_sid": None,
        "uri": f"{base}.json",
    }


def _camel(name: str) -> str:
    # The subresource paths are CamelCase: user_defined_messages -> UserDefinedMessages.
    return "".join(part.capitalize() for part in name.split("_"))
