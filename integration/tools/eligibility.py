"""check_eligibility: a live decision from the eligibility service, or the last good one.

The read is the caller lookup's own (same executor, same cache key for the same product),
so a decision the lookup fetched at the start of the call answers, marked ``cached`` with
its age, when the service cannot answer within the turn.
"""

from __future__ import annotations

from typing import Any

from integration.errors import NotFound, Rejected, SourceError
from integration.lookup.caller_lookup import STEPS
from integration.policies.executor import Attempt
from integration.tools._say import money, product_name
from integration.tools.args import CheckEligibilityArgs
from integration.tools.context import ToolContext
from integration.tools.result import FieldSource, Outcome

__all__ = ["check_eligibility"]

_SYSTEM, _OPERATION = STEPS["eligibility"]


async def check_eligibility(ctx: ToolContext, args: CheckEligibilityArgs) -> Outcome:
    product = product_name(args.product)
    customer_id = ctx.view.customer_id
    if customer_id is None:
        return Outcome(
            "failed",
            f"I couldn't find your account on this number, so I can't check {product} "
            "right now. I can arrange for someone to call you back about it.",
            {"product": args.product},
            {"eligibility": FieldSource(status="missing", system=_SYSTEM, reason="no_customer")},
        )
    amount = args.amount_cents
    # The lookup's key for the same request, so its check is the one replayed, not repeated.
    key = f"{ctx.call_id}:{customer_id}:{args.product}" + (f":{amount}" if amount else "")
    cache_key = f"{customer_id}:{args.product}" if amount is None else None
    api = ctx.deps.eligibility

    async def check(attempt: Attempt) -> dict[str, Any]:
        return await api.check(attempt, customer_id, args.product, key, amount_cents=amount)

    try:
        decision = await ctx.read(_SYSTEM, _OPERATION, check, cache_key=cache_key)
    except NotFound:
        return _unanswerable(args.product, "not_found", "I couldn't find your records for that")
    except Rejected:
        return Outcome(
            "failed",
            "I'm not able to check that particular product. Which product did you mean?",
            {"product": args.product},
            {"eligibility": FieldSource(status="missing", system=_SYSTEM, reason="rejected")},
        )
    except SourceError as exc:
        cached = await ctx.last_good(_SYSTEM, _OPERATION, cache_key) if cache_key else None
        if cached is None:
            return _unanswerable(args.product, exc.reason, "I can't check that right now")
        source = FieldSource(
            status="cached", system=_SYSTEM, age_s=round(cached.age_s, 3), reason=exc.reason
        )
        return _decided(args, cached.value, source, live=False)
    return _decided(args, decision, FieldSource(status="live", system=_SYSTEM), live=True)


def _unanswerable(product: str, reason: str, opening: str) -> Outcome:
    return Outcome(
        "failed",
        f"{opening}. I can have someone call you back with an answer about "
        f"{product_name(product)}.",
        {"product": product},
        {"eligibility": FieldSource(status="missing", system=_SYSTEM, reason=reason)},
    )


def _decided(
    args: CheckEligibilityArgs, decision: dict[str, Any], source: FieldSource, live: bool
) -> Outcome:
    product = product_name(args.product)
    verdict = decision.get("decision")
    limit = decision.get("max_amount_cents")
    apr = decision.get("apr_bps")
    if verdict == "eligible":
        opening, core = "Good news: ", f"you qualify for {product}"
        if isinstance(limit, int):
            core += f", up to {money(limit)}"
        if isinstance(apr, int):
            core += f" at {apr / 100:.2f}% APR"
    elif verdict == "ineligible":
        opening, core = "I'm sorry, ", f"you don't qualify for {product} at the moment"
    else:
        opening, core = "", f"your request for {product} needs a quick review by our team"
    if live:
        say = f"{opening}{core}." if opening else f"{core[0].upper()}{core[1:]}."
    else:
        say = (
            f"Going by what we had on file a little earlier, {core}. "
            "I'll make sure that's confirmed."
        )
    data = {
        "product": args.product,
        "decision": verdict,
        "max_amount_cents": limit,
        "apr_bps": apr,
        "reasons": decision.get("reasons", []),
        "requested_amount_cents": args.amount_cents,
    }
    return Outcome("ok" if live else "degraded", say, data, {"eligibility": source})
