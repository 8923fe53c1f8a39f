"""escalate_to_human: hand the call over with everything a colleague needs at once.

The hand-over holds the caller view (with each field's provenance), what went wrong on the
call (fields the lookup could not fill live, tools that did not succeed and why), and the
transcript so far, so the caller never has to repeat themselves. It touches no other
system: a hand-over must work when everything else is down. It is kept on the call
(``GET /calls/{id}`` shows it) and returned in the result's data.
"""

from __future__ import annotations

import secrets
from typing import Any

from integration.lookup.view import FIELDS
from integration.tools.args import EscalateArgs
from integration.tools.context import ToolContext
from integration.tools.result import Outcome

__all__ = ["escalate_to_human", "what_failed"]


async def escalate_to_human(ctx: ToolContext, args: EscalateArgs) -> Outcome:
    view, contact = ctx.view, ctx.contact
    transcript, tools = await ctx.history()
    caller_view = view.model_dump(mode="json")
    handover: dict[str, Any] = {
        "id": "ho_" + secrets.token_hex(6),
        "call_id": ctx.call_id,
        "at": ctx.now().isoformat(timespec="seconds"),
        "reason": args.reason,
        "summary": args.summary,
        "caller": {
            "phone": view.phone,
            "customer_id": view.customer_id,
            "name": contact.get("name"),
            "recommendation": view.recommendation.model_dump(mode="json"),
        },
        "caller_view": caller_view,
        "what_failed": what_failed(caller_view, tools),
        "transcript": transcript,
        "tools": [{"tool": t["tool"], "status": t["status"], "said": t["say"]} for t in tools],
    }
    ctx.handover = handover
    return Outcome(
        "ok",
        "I'm passing you to a colleague now. They'll have the details of this call, so you "
        "won't need to repeat yourself.",
        {"handover_id": handover["id"], "handover": handover},
        escalate=args.reason,
    )


def what_failed(view: dict[str, Any], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each caller-view field that is not live, then each tool result that was not ok."""
    failed: list[dict[str, Any]] = []
    for name in FIELDS:
        provenance = (view.get(name) or {}).get("provenance") or {}
        if provenance.get("status", "live") != "live":
            failed.append(
                {
                    "source": "caller_view",
                    "field": name,
                    "status": provenance.get("status"),
                    "system": provenance.get("system"),
                    "reason": provenance.get("reason"),
                    "age_s": provenance.get("age_s"),
                }
            )
    for result in tools:
        if result.get("status") == "ok":
            continue
        reasons = {
            field: source.get("reason")
            for field, source in (result.get("provenance") or {}).items()
            if source.get("status") != "live"
        }
        failed.append(
            {
                "source": "tool",
                "tool": result.get("tool"),
                "status": result.get("status"),
                "said": result.get("say"),
                "reasons": reasons,
                "cancelled": bool((result.get("data") or {}).get("cancelled")),
            }
        )
    return failed
