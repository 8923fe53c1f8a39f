"""What the agent should do with a caller view: carry on, use cached data and say so, or
hand over to a human, with a reason a person can read."""

from __future__ import annotations

from integration.lookup.view import (
    DuplicateReport,
    Provenance,
    Recommendation,
    RecommendedAction,
)

__all__ = ["ESSENTIAL", "recommend"]

# Without these the agent cannot identify the caller or talk about their money.
ESSENTIAL = ("contact", "accounts")


def recommend(
    provenance: dict[str, Provenance], duplicates: DuplicateReport | None
) -> Recommendation:
    missing = [name for name, p in provenance.items() if p.status == "missing"]
    cached = [name for name, p in provenance.items() if p.status == "cached"]

    def advise(action: RecommendedAction, reason: str) -> Recommendation:
        return Recommendation(action=action, reason=reason, missing=missing, cached=cached)

    contact = provenance["contact"]
    if contact.status == "missing" and contact.reason == "not_found":
        return advise(
            "carry_on", "the number is not in the CRM: treat the caller as a new prospect"
        )
    broken = [name for name in ESSENTIAL if provenance[name].status == "missing"]
    if broken:
        why = ", ".join(f"{name} ({provenance[name].reason})" for name in broken)
        return advise("escalate", f"cannot serve the caller without {why}")
    if duplicates is not None and not duplicates.same_customer:
        return advise(
            "escalate",
            "the number belongs to CRM contacts of different customers: verify identity",
        )
    essential_cached = [name for name in ESSENTIAL if provenance[name].status == "cached"]
    if essential_cached:
        return advise(
            "use_cached_and_say_so",
            "using saved copies of "
            + ", ".join(essential_cached)
            + ": tell the caller details may be slightly out of date",
        )
    reason = "everything essential is live"
    if missing:
        reason += "; not available now: " + ", ".join(missing)
    return advise("carry_on", reason)
