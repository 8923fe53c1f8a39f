"""The seven tools: name, what a language model is told about each, its arguments, its code.

``openai_tools()`` is what ``GET /tools`` serves: OpenAI function-calling definitions
(``{"type": "function", "function": {"name", "description", "parameters"}}``) whose
parameters are the argument models' JSON schemas, inlined and without titles, so any
platform that takes OpenAI-style tools (Vapi included) can use them as they are.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from integration.tools.args import (
    BookAppointmentArgs,
    CheckEligibilityArgs,
    EscalateArgs,
    ScheduleCallbackArgs,
    SendConfirmationArgs,
    TakePaymentArgs,
    UpdateLeadArgs,
)
from integration.tools.booking import book_appointment
from integration.tools.context import ToolContext
from integration.tools.eligibility import check_eligibility
from integration.tools.escalation import escalate_to_human
from integration.tools.payment import take_payment
from integration.tools.result import Outcome
from integration.tools.writes import schedule_callback, send_confirmation, update_lead

__all__ = ["TOOLS", "ToolSpec", "openai_tools"]

Handler = Callable[[ToolContext, Any], Awaitable[Outcome]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args: type[BaseModel]
    handler: Handler

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": _plain_schema(self.args),
            },
        }


_SPECS = (
    ToolSpec(
        "check_eligibility",
        "Check whether the caller qualifies for a product (a loan, card, account or plan), "
        "optionally for an amount. Use before discussing terms.",
        CheckEligibilityArgs,
        check_eligibility,
    ),
    ToolSpec(
        "book_appointment",
        "Book an appointment with an advisor at a given time. If the time is taken, the "
        "result offers the next free time: ask the caller before booking that one.",
        BookAppointmentArgs,
        book_appointment,
    ),
    ToolSpec(
        "take_payment",
        "Take a card payment from the caller (or charge a saved payment method). Read back "
        "the amount first. Never repeat the card number aloud.",
        TakePaymentArgs,
        take_payment,
    ),
    ToolSpec(
        "update_lead",
        "Update the status of the caller's sales enquiry (lead), e.g. to Qualified once they "
        "want to go ahead.",
        UpdateLeadArgs,
        update_lead,
    ),
    ToolSpec(
        "send_confirmation",
        "Send the caller a confirmation by text, WhatsApp or email (by default, of the "
        "appointment booked on this call).",
        SendConfirmationArgs,
        send_confirmation,
    ),
    ToolSpec(
        "schedule_callback",
        "Arrange for a person to call the caller back, at a given time or as soon as possible.",
        ScheduleCallbackArgs,
        schedule_callback,
    ),
    ToolSpec(
        "escalate_to_human",
        "Hand the call to a person, with the caller's details, what went wrong and the "
        "conversation so far. Use when the caller asks for a person or you cannot help.",
        EscalateArgs,
        escalate_to_human,
    ),
)

TOOLS: Mapping[str, ToolSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


@functools.cache
def _definitions() -> tuple[dict[str, Any], ...]:
    # Seven JSON schemas worked out from their models cost milliseconds: once is enough.
    return tuple(spec.openai() for spec in TOOLS.values())


def openai_tools() -> list[dict[str, Any]]:
    return copy.deepcopy(list(_definitions()))


def _plain_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$ref``s inlined and titles dropped (some platforms
    refuse references; titles only repeat the names)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    plain: dict[str, Any] = inline(schema)
    plain.setdefault("properties", {})
    return plain
