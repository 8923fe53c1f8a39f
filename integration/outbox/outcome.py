"""What a finished call says happened: the body of ``POST /calls/{call_id}/end``.

Every part is optional; each part present becomes one or more effects (see ``plan``).
Validation is strict (unknown fields are refused) because an outcome is written to
systems of record: a typo should be a 422 now, not a wrong CRM record later. A card
number may arrive here, so errors never carry their input (``safe_errors``) and the
outcome is stored and fingerprinted only in ``redacted_outcome`` form.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from integration.outbox.vault import CardDetails
from integration.redaction import FreeText

__all__ = [
    "LEAD_STATUSES",
    "LOAN_STAGES",
    "Booking",
    "CallOutcome",
    "Callback",
    "LeadUpdate",
    "LoanUpdate",
    "Message",
    "Payment",
    "SlackPost",
    "is_email",
    "outcome_fingerprint",
    "redacted_outcome",
    "safe_errors",
]

# Salesforce's stock Lead Status picklist, as the CRM mock enforces it.
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Qualified",
    "Unqualified",
    "Closed - Converted",
    "Closed - Not Converted",
)
# Stages an application can be moved to ("submitted" is only ever a starting point).
LOAN_STAGES = ("underwriting", "approved", "declined", "funded")
# The same plain syntax check SendGrid (and its mock) applies.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.match(value) is not None


class _Part(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )


class LeadUpdate(_Part):
    lead_id: str = Field(min_length=1, max_length=40)
    status: Literal[LEAD_STATUSES]  # type: ignore[valid-type]


class Booking(_Part):
    start: AwareDatetime
    end: AwareDatetime
    summary: FreeText = Field(min_length=1, max_length=300)
    attendee_email: str | None = Field(None, max_length=254)
    calendar_id: str = Field("primary", min_length=1, max_length=200)

    @field_validator("attendee_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not is_email(value):
            raise ValueError("is not an email address")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Booking:
        if self.end <= self.start:
            raise ValueError("booking end must be after its start")
        return self


class Payment(_Part):
    amount: int = Field(gt=0, le=99_999_999, description="minor units (cents)")
    currency: Literal["usd"] = "usd"
    card: CardDetails | None = None
    payment_method: str | None = Field(
        None, min_length=4, max_length=100, pattern=r"^pm_[A-Za-z0-9_]+$"
    )
    manual: bool = False
    capture: Literal["automatic", "manual"] = Field(
        "automatic",
        description="manual: the card is authorised now and captured after the call; "
        "Stripe's events then tell the call's payment status (GET /payments/status)",
    )

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> Payment:
        if self.manual:
            if self.card is None:
                raise ValueError("a manual payment needs the card (it is held sealed for a person)")
            if self.payment_method is not None:
                raise ValueError("a manual payment takes a card, not a payment_method")
        elif (self.card is None) == (self.payment_method is None):
            raise ValueError("give exactly one of card or payment_method")
        return self


class Message(_Part):
    channel: Literal["sms", "whatsapp", "email"]
    to: str = Field(min_length=1, max_length=254)
    text: FreeText | None = Field(None, min_length=1, max_length=1600)
    subject: FreeText | None = Field(None, min_length=1, max_length=200)

    @field_validator("to")
    @classmethod
    def _address_fits_channel(cls, value: str, info: ValidationInfo) -> str:
        # Phone numbers are normalised by the planner (with the lookup's normaliser);
        # only the email syntax is checked here.
        if info.data.get("channel") == "email" and not is_email(value):
            raise ValueError("is not an email address")
        return value

    @model_validator(mode="after")
    def _subject_only_for_email(self) -> Message:
        if self.subject is not None and self.channel != "email":
            raise ValueError(f"subject is only for email, not {self.channel}")
        return self


class SlackPost(_Part):
    channel: str = Field(min_length=1, max_length=80)
    text: FreeText = Field(min_length=1, max_length=4000)


class LoanUpdate(_Part):
    application_id: str = Field(min_length=1, max_length=40)
    stage: Literal[LOAN_STAGES]  # type: ignore[valid-type]


class Callback(_Part):
    at: AwareDatetime
    reason: FreeText = Field(min_length=1, max_length=500)


class CallOutcome(_Part):
    disposition: Literal["resolved", "booked", "payment", "callback", "escalated", "abandoned"] = (
        "resolved"
    )
    summary: FreeText | None = Field(None, max_length=2000)
    lead: LeadUpdate | None = None
    booking: Booking | None = None
    payment: Payment | None = None
    messages: list[Message] = Field(default_factory=list, max_length=10)
    slack: SlackPost | None = None
    loan: LoanUpdate | None = None
    callback: Callback | None = None


# -- safe to show, safe to store ------------------------------------------------------------

_REDACTED = "[redacted]"


class _HasErrors(Protocol):
    def errors(self) -> Sequence[Any]: ...


def safe_errors(exc: ValidationError | _HasErrors, *where: str) -> list[dict[str, Any]]:
    """Validation errors fit for a 422 body or a log: the field (``loc``, after ``where``:
    body, query or path), what is wrong with it, and never its input (which may hold a
    card number) nor the context pydantic quotes it in.

    Takes pydantic's ValidationError or FastAPI's RequestValidationError (whose default
    422 body would echo the input)."""
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else exc.errors()
    return [
        {"type": e.get("type"), "loc": [*where, *e.get("loc", ())], "msg": e.get("msg")}
        for e in errors
    ]


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _REDACTED if k == "card" else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, CardDetails):
        return _REDACTED
    if isinstance(value, BaseModel):
        return _scrub(redacted_outcome(value))
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def redacted_outcome(outcome: BaseModel) -> dict[str, Any]:
    """The outcome as JSON-ready data with a card reduced to a marker and its expiry, and
    every datetime in UTC, so the same outcome always gives the same data."""
    redacted: dict[str, Any] = _redact(outcome)
    return redacted


def _redact(value: Any) -> Any:
    if isinstance(value, CardDetails):
        return {
            "number": f"sealed:{value.brand}:{value.last4}",
            "exp_month": value.exp_month,
            "exp_year": value.exp_year,
        }
    if isinstance(value, BaseModel):
        return {name: _redact(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def outcome_fingerprint(outcome: CallOutcome) -> str:
    """sha256 of the redacted outcome's canonical JSON: equal for the same outcome sent
    twice (however its datetimes were written), different for any other outcome."""
    canonical = json.dumps(
        redacted_outcome(outcome), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
