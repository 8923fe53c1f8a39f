"""Each tool's arguments as a pydantic model: validation for ``POST /calls/{id}/tools/{name}``
and, through ``model_json_schema``, the parameters a language model sees in ``GET /tools``.

Models refuse unknown fields (an agent that invents one should hear about it). A card
number may arrive in ``take_payment``, so its model hides inputs in errors, and the API
never echoes any argument back in a 422.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from integration.outbox.outcome import LEAD_STATUSES, is_email
from integration.outbox.vault import CardDetails
from integration.redaction import FreeText

__all__ = [
    "BookAppointmentArgs",
    "CheckEligibilityArgs",
    "EscalateArgs",
    "FieldProblem",
    "ScheduleCallbackArgs",
    "SendConfirmationArgs",
    "TakePaymentArgs",
    "UpdateLeadArgs",
]

_WHEN = (
    "ISO 8601 date and time with the caller's UTC offset, e.g. 2030-03-05T10:30:00-05:00 "
    "(without an offset it is taken as UTC)"
)


class FieldProblem(ValueError):
    """A rule across fields that is still one field's fault, so the 422 can name it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Args(BaseModel):
    # Inputs are hidden in errors (an argument may hold a card number), numbers are finite,
    # and free text is redacted as it is read (``FreeText``).
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )


def _email_or_none(value: str | None) -> str | None:
    if value is not None and not is_email(value):
        raise ValueError("is not an email address")
    return value


def _aware(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC (said so in the schema's description)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class CheckEligibilityArgs(_Args):
    product: str = Field(
        "LOAN-PERSONAL",
        pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$",
        description="product code: LOAN-PERSONAL, LOAN-AUTO, LOAN-SMALLBIZ, MORTGAGE-30Y, "
        "MORTGAGE-15Y, HELOC, CARD-SECURED, CARD-CLASSIC, CARD-GOLD, CARD-PLATINUM, "
        "ACCT-CHECKING, ACCT-SAVINGS, ACCT-BUSINESS, PLAN-BASIC, PLAN-PREMIER, PLAN-SMALLBIZ",
    )
    amount_cents: int | None = Field(
        None, gt=0, le=10_000_000_000, description="the amount the caller asks for, in cents"
    )


class BookAppointmentArgs(_Args):
    start: datetime = Field(..., description=f"when the appointment starts: {_WHEN}")
    duration_minutes: int = Field(30, ge=15, le=240, description="how long, in minutes")
    topic: FreeText = Field(
        "Appointment", min_length=1, max_length=200, description="what it is about, briefly"
    )
    attendee_email: str | None = Field(
        None, max_length=254, description="invite this address (default: the caller's email)"
    )
    calendar_id: str = Field("primary", min_length=1, max_length=200)

    _email = field_validator("attendee_email")(_email_or_none)
    _start = field_validator("start")(_aware)


class TakePaymentArgs(_Args):
    amount_cents: int = Field(
        ..., gt=0, le=99_999_999, description="amount in cents: 4250 = $42.50"
    )
    currency: Literal["usd"] = "usd"
    card_number: SecretStr | None = Field(None, description="the card number, digits only")
    exp_month: int | None = Field(None, ge=1, le=12, description="card expiry month, 1-12")
    exp_year: int | None = Field(None, ge=2000, le=2100, description="card expiry year, e.g. 2030")
    payment_method: str | None = Field(
        None,
        pattern=r"^pm_[A-Za-z0-9_]+$",
        max_length=100,
        description="a saved payment method instead of a card (pm_...)",
    )

    @field_validator("card_number")
    @classmethod
    def _card_number_checks_out(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:  # the vault's own rules (digits, length, Luhn); its errors never hold the digits
            CardDetails(number=value, exp_month=1, exp_year=2100)
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return value

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> TakePaymentArgs:
        if (self.card_number is None) == (self.payment_method is None):
            raise FieldProblem("card_number", "give either card_number or payment_method")
        if self.card_number is not None:
            for name in ("exp_month", "exp_year"):
                if getattr(self, name) is None:
                    raise FieldProblem(name, "is required with card_number")
        return self

    def card(self) -> CardDetails | None:
        if self.card_number is None:
            return None
        month, year = self.exp_month, self.exp_year
        assert month is not None and year is not None  # the model validator saw to it
        return CardDetails(number=self.card_number, exp_month=month, exp_year=year)


class UpdateLeadArgs(_Args):
    status: Literal[LEAD_STATUSES] = Field(  # type: ignore[valid-type]
        ..., description="the lead's new status"
    )
    lead_id: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="the lead to update (default: the caller's most recent open lead)",
    )


class SendConfirmationArgs(_Args):
    channel: Literal["sms", "whatsapp", "email"] = "sms"
    to: str | None = Field(
        None,
        min_length=1,
        max_length=254,
        description="phone number or email address (default: the caller's own)",
    )
    text: FreeText | None = Field(
        None,
        min_length=1,
        max_length=1600,
        description="the message (default: a confirmation of what was arranged on this call)",
    )
    subject: FreeText | None = Field(None, min_length=1, max_length=200, description="email only")

    @model_validator(mode="after")
    def _fits_channel(self) -> SendConfirmationArgs:
        if self.subject is not None and self.channel != "email":
            raise FieldProblem("subject", f"is only for email, not {self.channel}")
        if self.channel == "email" and self.to is not None and not is_email(self.to):
            raise FieldProblem("to", "is not an email address")
        return self


class ScheduleCallbackArgs(_Args):
    reason: FreeText = Field(
        ..., min_length=1, max_length=500, description="what the call is about"
    )
    at: datetime | None = Field(None, description=f"when to call back: {_WHEN} (default: soon)")
    phone: str | None = Field(
        None, min_length=1, max_length=40, description="number to call (default: the caller's)"
    )

    _at = field_validator("at")(_aware)


class EscalateArgs(_Args):
    reason: FreeText = Field(
        ..., min_length=1, max_length=500, description="why a person is needed"
    )
    summary: FreeText | None = Field(
        None, max_length=2000, description="what the caller wants, for the colleague taking over"
    )
