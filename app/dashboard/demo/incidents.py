"""The incidents the guided demo offers: each is a scenario of the catalog
(``app/scenarios/catalog``) with a title a stakeholder recognises and where to look.

What is said while it runs is not written here: the narration is made from what
happens. ``docs/presenter-notes.md`` has, per incident, what to point at and what to say.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INCIDENTS", "PACES", "Incident", "incident"]


@dataclass(frozen=True)
class Incident:
    scenario: str  # the catalog's name for it; also the incident's key
    title: str
    watch: str  # one line: where to look while it runs


INCIDENTS: tuple[Incident, ...] = (
    Incident(
        "crm_outage",
        "CRM outage mid-lookup",
        "The CRM node on the flow map, its read breaker opening, lookups answered from the "
        "last good copy, and the CRM's writes held until it is back.",
    ),
    Incident(
        "payments_down_take_payment",
        "Payments down during take_payment",
        "Payments on the write side: the card is still taken, the charge waits in the "
        "outbox, and is delivered once when the gateway answers again.",
    ),
    Incident(
        "credentials_expire",
        "A 401 storm: every CRM session revoked",
        "The CRM keeps answering: the layer logs in again inside the same attempt, so no "
        "caller hears about it.",
    ),
    Incident(
        "database_locked",
        "Core banking database locked",
        "Core banking on the read side: reads run out of time, balances come from the last "
        "good copy, calls carry on.",
    ),
    Incident(
        "eligibility_rate_limited",
        "Eligibility API rate limited",
        "Eligibility on the read side: 429s with Retry-After, waits only as long as a live "
        "turn allows, then the last decision it had.",
    ),
    Incident(
        "crm_automation_slack_fails",
        "Qualified-lead automation failing",
        "The CRM saves the lead; its automation fails at the Slack step. The call's writes "
        "are all applied: the ripple is in the scorecard's automation runs.",
    ),
)
# How much faster than written a demo may run: 1x for the room, faster to rehearse.
PACES: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)


def incident(scenario: str) -> Incident:
    """The incident of that scenario; KeyError naming the known ones otherwise."""
    for known in INCIDENTS:
        if known.scenario == scenario:
            return known
    raise KeyError(f"no incident {scenario!r}; known: {', '.join(i.scenario for i in INCIDENTS)}")
