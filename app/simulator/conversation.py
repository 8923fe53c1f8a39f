"""One simulated call over HTTP: lookup, turns, tool calls, end; the verdict kept on the way.

Journeys read like a script (``await call.caller(...)``, ``await call.tool(...)``); the
``Conversation`` does the HTTP, keeps the transcript with timings, speaks a filler when a
tool said one was needed, and hands the call to a person when a tool asks for that.
Arguments sent to tools are never stored or logged: a payment's carry a card number.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from app.simulator.personas import Persona
from app.simulator.results import CallResult, EffectAck, Line, ToolCall

__all__ = ["CallFailed", "Conversation", "Escalated", "Pacing"]

FILLER = "One moment while I check that for you."


class CallFailed(Exception):
    """The call could not go on: the service did not answer, or answered an error."""


class Escalated(Exception):
    """The call was handed to a person; the script stops here."""


@dataclass(frozen=True)
class Pacing:
    think_ms: float = 250.0  # a caller's pause before speaking (drawn around this)
    turn_budget_ms: float = 2500.0  # what a tool may take within one turn
    filler_threshold_ms: float = 1000.0  # past this, the agent says something while it waits
    http_timeout_s: float = 30.0


class Conversation:
    def __init__(
        self,
        http: httpx.AsyncClient,
        result: CallResult,
        persona: Persona,
        *,
        rng: random.Random,
        slot: datetime,
        pacing: Pacing = Pacing(),
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.result = result
        self.persona = persona
        self.rng = rng
        self.slot = slot  # this call's appointment time, if it books one
        self.pacing = pacing
        self.clock = clock
        self.sleep = sleep
        self.view: dict[str, Any] = {}
        self._began = clock()
        self._turns_supported = True

    @property
    def call_id(self) -> str:
        return self.result.call_id

    def at_ms(self) -> float:
        return round((self.clock() - self._began) * 1000, 1)

    # -- the call's lifecycle -------------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Look the caller up (``POST /calls``); the view is kept for the script."""
        body = {"phone": self.persona.phone, "call_id": self.call_id}
        if self.persona.product_code:
            body["product"] = self.persona.product_code
        began = self.clock()
        response = await self._post("/calls", body, "lookup")
        self.result.lookup_ms = round((self.clock() - began) * 1000, 1)
        if response.status_code != 201:
            raise CallFailed(f"lookup: HTTP {response.status_code}")
        self.view = response.json().get("view") or {}
        action = (self.view.get("recommendation") or {}).get("action")
        self.result.lookup_action = action
        self.result.lookup_not_live = _not_live(self.view)
        if action == "use_cached_and_say_so":
            self.result.mark("degraded")
        return self.view

    async def end(self, disposition: str, summary: str, **parts: Any) -> None:
        """``POST /calls/{id}/end``; the effects it acknowledges are kept as written."""
        outcome = {"disposition": disposition, "summary": summary, **parts}
        response = await self._post(f"/calls/{self.call_id}/end", outcome, "end")
        if response.status_code not in (200, 201):
            raise CallFailed(f"end: HTTP {response.status_code}{_detail(response)}")
        self.result.ended = True
        self.result.disposition = disposition
        for effect in response.json().get("effects", []):
            self.result.effects.append(
                EffectAck(
                    system=effect["system"],
                    idempotency_key=effect["idempotency_key"],
                    effect_id=effect.get("id"),
                    via="end",
                )
            )

    # -- speaking ------------------------------------------------------------------------

    async def caller(self, text: str) -> None:
        """The caller pauses, then says ``text``."""
        think = self.pacing.think_ms * self.rng.uniform(0.5, 1.5) / 1000
        if think > 0:
            await self.sleep(think)
        await self._line("caller", text, self.at_ms())

    async def agent(self, text: str) -> None:
        if text:
            await self._line("agent", text, self.at_ms())

    async def _line(self, speaker: str, text: str, at_ms: float) -> None:
        line = Line(speaker=speaker, text=text, at_ms=at_ms)  # type: ignore[arg-type]
        self.result.transcript.append(line)
        if not self._turns_supported:
            return
        body = {"speaker": speaker, "text": text, "at_ms": at_ms}
        response = await self._post(f"/calls/{self.call_id}/turns", body, "turn")
        if response.status_code == 404:
            self._turns_supported = False  # a service without transcripts: keep ours only
        elif response.status_code >= 400:
            self.result.problems.append(f"turn: HTTP {response.status_code}")

    # -- tools ---------------------------------------------------------------------------

    async def tool(self, name: str, **arguments: Any) -> ToolCall:
        """Run one tool; speak a filler if it was slow and its ``say`` after it.

        A tool that asks for a person makes the agent hand the call over (``Escalated``).
        """
        call = await self._run_tool(name, arguments)
        if call.status != "ok" and not self._expected(call):
            self.result.mark("degraded")
        if call.escalate_reason and name != "escalate_to_human":
            await self.escalate(call.escalate_reason, planned=False)
        return call

    def _expected(self, call: ToolCall) -> bool:
        """A tool answer that is not ``ok`` yet says nothing went wrong: a question the
        caller answers next (``data.needs``: no address on file), or a caller whose number
        no system knows being told there is no account to act on."""
        if call.data.get("needs"):
            return True
        return self.persona.kind == "newcomer" and call.status == "failed"

    async def escalate(self, reason: str, *, planned: bool, summary: str | None = None) -> None:
        """Hand the call to a person (``escalate_to_human``), then stop the script."""
        arguments = {"reason": reason[:500]}
        if summary:
            arguments["summary"] = summary[:2000]
        call = await self._run_tool("escalate_to_human", arguments)
        if call.status == "failed":
            raise CallFailed("escalate_to_human failed")
        self.result.escalation = reason
        self.result.escalation_planned = planned
        self.result.mark("escalated")
        raise Escalated(reason)

    async def _run_tool(self, name: str, arguments: dict[str, Any]) -> ToolCall:
        body = {
            "arguments": arguments,
            "turn_budget_ms": self.pacing.turn_budget_ms,
            "filler_threshold_ms": self.pacing.filler_threshold_ms,
        }
        asked_at = self.at_ms()
        began = self.clock()
        response = await self._post(f"/calls/{self.call_id}/tools/{name}", body, name)
        latency = round((self.clock() - began) * 1000, 1)
        if response.status_code != 200:
            failed = ToolCall(
                name=name, status="error", latency_ms=latency, http_status=response.status_code
            )
            self.result.tools.append(failed)
            raise CallFailed(f"tool {name}: HTTP {response.status_code}{_detail(response)}")
        data = response.json()
        escalate = data.get("escalate") or {}
        call = ToolCall(
            name=name,
            status=str(data.get("status", "failed")),
            latency_ms=latency,
            say=str(data.get("say") or ""),
            filler_needed=bool(data.get("filler_needed")),
            escalate_reason=(escalate.get("reason") or "asked by the tool")
            if escalate.get("needed")
            else None,
            effect_ids=list(data.get("effects") or []),
            http_status=200,
            data=data.get("data") or {},
        )
        self.result.tools.append(call)
        if call.filler_needed:
            self.result.filler_count += 1
            await self._line("agent", FILLER, asked_at + self.pacing.filler_threshold_ms)
        await self.agent(call.say)
        return call

    async def _post(self, path: str, body: dict[str, Any], what: str) -> httpx.Response:
        try:
            return await self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise CallFailed(f"{what}: {type(exc).__name__}") from None


def _detail(response: httpx.Response) -> str:
    """Where a 4xx says the request was wrong (field and message only: never the input,
    which for a payment holds a card number)."""
    if response.status_code != 422:
        return ""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return ""
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = ".".join(str(part) for part in first.get("loc", ()))
        return f" ({loc}: {first.get('msg')})"
    return f" ({detail})" if isinstance(detail, str) else ""


def _not_live(view: dict[str, Any]) -> dict[str, str]:
    """Each sourced field of a caller view that is not live -> its provenance's reason."""
    found = {}
    for name, value in view.items():
        provenance = value.get("provenance") if isinstance(value, dict) else None
        if isinstance(provenance, dict) and provenance.get("status") not in (None, "live"):
            found[name] = str(provenance.get("reason") or provenance.get("status"))
    return found
