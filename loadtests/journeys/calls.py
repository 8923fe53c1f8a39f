"""Whole call journeys as data: the steps one caller's call makes against the integration
service, and nothing about how they are sent.

A journey is a generator: it yields a ``Step`` (method, path, body, the name reports use),
is sent back the ``Reply``, and decides the next step from it (a tool's arguments come
from the caller's view). Locust's ``FastHttpUser`` (``locustfile.py``) and the
benchmark's asyncio driver (``loadtests/bench/driver.py``) both run the same generators, so the
load test and the benchmark measure the same calls.

Every journey: ``POST /calls`` (the lookup), one to three tool calls
(``POST /calls/{id}/tools/{name}``, see the tools contract), ``POST /calls/{id}/end``
with an outcome that queues effects in the outbox.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "END",
    "JOURNEYS",
    "LOOKUP",
    "Caller",
    "JourneyKind",
    "JourneyRun",
    "Reply",
    "Step",
    "call_journey",
    "pick",
    "problem",
    "refused",
    "tool_step_name",
]

LOOKUP = "POST /calls"
END = "POST /calls/{id}/end"
PRODUCTS = ("LOAN-PERSONAL", "LOAN-AUTO", "CARD-CLASSIC", "MORTGAGE-30Y", "HELOC")
# Bookings land in the mocks' shared "primary" calendar, which refuses overlaps: each
# journey books a 30-minute slot of its own, counted from here.
_FIRST_SLOT = datetime(2031, 1, 6, 9, tzinfo=UTC)
_SLOTS_PER_SALT = 100_000  # bookings one process may make before it meets another's slots
_SALTS = 1_400  # ~ (year 9999 - 2031) in half-hours / _SLOTS_PER_SALT


@dataclass(frozen=True)
class Caller:
    phone: str
    customer_id: str = ""


@dataclass(frozen=True)
class Step:
    name: str  # how Locust and the benchmark report it: one line per kind of step
    kind: str  # "lookup" | "tool" | "end"
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    ok: frozenset[int] = frozenset({200, 201})


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # parsed JSON, or None when the body was not JSON


JourneyRun = Generator[Step, Reply, None]


@dataclass(frozen=True)
class JourneyKind:
    name: str
    tools: tuple[str, ...]  # in the order the agent uses them (one to three)
    disposition: str
    weight: int


# A mix like a bank's inbound line: mostly questions, some bookings and payments.
JOURNEYS: tuple[JourneyKind, ...] = (
    JourneyKind("eligibility", ("check_eligibility",), "resolved", 4),
    JourneyKind(
        "book_appointment",
        ("check_eligibility", "book_appointment", "send_confirmation"),
        "booked",
        2,
    ),
    JourneyKind("make_payment", ("take_payment", "send_confirmation"), "payment", 2),
    JourneyKind("callback", ("schedule_callback",), "callback", 1),
    JourneyKind("complaint_escalation", ("escalate_to_human",), "escalated", 1),
)


def tool_step_name(tool: str) -> str:
    return f"POST /calls/{{id}}/tools/{tool}"


@dataclass
class _Slots:
    """Unique booking slots: a random salt per process, a counter per booking. The salt is
    drawn in the process that books (Locust's ``--processes`` forks after import)."""

    pid: int = -1
    salt: int = 0
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def next_start(self) -> datetime:
        if self.pid != os.getpid():
            self.pid, self.salt = os.getpid(), random.SystemRandom().randrange(_SALTS)
            self.counter = itertools.count()
        n = self.salt * _SLOTS_PER_SALT + next(self.counter) % _SLOTS_PER_SALT
        return _FIRST_SLOT + timedelta(minutes=30 * n)


_slots = _Slots()


def pick(rng: random.Random, kinds: Sequence[JourneyKind] = JOURNEYS) -> JourneyKind:
    return rng.choices(list(kinds), weights=[k.weight for k in kinds])[0]


def _arguments(tool: str, view: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """What the agent passes to ``tool``: the defaults the tools take from the call (the
    caller's phone, email, lead) are left to them, as an agent would."""
    if tool == "check_eligibility":
        return {"product": rng.choice(PRODUCTS)}
    if tool == "book_appointment":
        start = _slots.next_start()
        return {"start": start.isoformat(), "duration_minutes": 30, "topic": "Branch appointment"}
    if tool == "take_payment":
        return {"amount_cents": rng.randrange(20, 500) * 100, "payment_method": "pm_card_visa"}
    if tool == "send_confirmation":
        return {"channel": "sms"}
    if tool == "schedule_callback":
        return {"reason": "wants to talk an offer through with an adviser"}
    if tool == "escalate_to_human":
        contact = (view.get("contact") or {}).get("value") or {}
        who = contact.get("first_name") or "the caller"
        return {"reason": "complaint about a fee", "summary": f"{who} disputes a late fee"}
    raise ValueError(f"no arguments known for tool {tool!r}")


def call_journey(
    kind: JourneyKind,
    caller: Caller,
    call_id: str,
    rng: random.Random,
    tools: frozenset[str] | None = None,
) -> JourneyRun:
    """One call. ``tools`` is what ``GET /tools`` offered; ``None`` means the service has
    no tool API (an older build), and the journey goes straight from lookup to end."""
    started = yield Step(
        LOOKUP,
        "lookup",
        "POST",
        "/calls",
        {"phone": caller.phone, "call_id": call_id, "product": PRODUCTS[0]},
        frozenset({201}),
    )
    if started.status != 201:
        return  # no call to use tools on or end
    view = (started.body or {}).get("view") or {}
    for tool in kind.tools:
        if tools is None:
            break
        if tool not in tools:
            raise LookupError(f"the service offers no tool {tool!r} (it has {sorted(tools)})")
        yield Step(
            tool_step_name(tool),
            "tool",
            "POST",
            f"/calls/{call_id}/tools/{tool}",
            {"arguments": _arguments(tool, view, rng)},
            frozenset({200}),
        )
    outcome = _outcome(kind, caller)
    yield Step(END, "end", "POST", f"/calls/{call_id}/end", outcome, frozenset({201}))


def _outcome(kind: JourneyKind, caller: Caller) -> dict[str, Any]:
    """The call's outcome: its disposition and a thank-you text. The tools queued their
    own writes; the end adds the CRM call log, the text and the analytics event."""
    return {
        "disposition": kind.disposition,
        "summary": f"load test: {kind.name} journey",
        "messages": [{"channel": "sms", "to": caller.phone}],
    }


_TOOL_STATUSES = frozenset({"ok", "degraded", "failed"})


def refused(step: Step, reply: Reply) -> bool:
    """The service turned the call away at its start (503 with Retry-After): too busy to
    answer in time. An answer, counted apart: the caller was told at once, nothing waited."""
    return step.kind == "lookup" and reply.status == 503


def problem(step: Step, reply: Reply) -> str | None:
    """Why ``reply`` is not an answer ``step`` may get, or None. A tool that answered
    "failed" is an answer (the caller hears honest words), and so is a refused start; a
    5xx or a body off the contract is not."""
    if refused(step, reply):
        return None
    if reply.status not in step.ok:
        return f"{step.name}: HTTP {reply.status}"
    body = reply.body if isinstance(reply.body, dict) else {}
    if step.kind == "lookup" and "view" not in body:
        return f"{step.name}: no view in the answer"
    tool_result = body.get("status") in _TOOL_STATUSES and isinstance(body.get("say"), str)
    if step.kind == "tool" and not tool_result:
        return f"{step.name}: not a ToolResult (status {body.get('status')!r})"
    if step.kind == "end" and not isinstance(body.get("effects"), list):
        return f"{step.name}: no effects in the answer"
    return None
