"""An integration design review for one flow, answering the eight questions every
integration design should answer: sources, destinations, path, order, failure modes,
recovery, capacity and ownership. Written from the system map and its policies, so the
review says what the layer will actually do."""

from __future__ import annotations

from dataclasses import dataclass

from integration.policies.models import PolicyBook
from integration.systemmap.blast import blast_radius, retry_horizon_s
from integration.systemmap.model import Flow, SystemMap

__all__ = ["QUESTIONS", "Capacity", "capacity", "design_review"]

# The eight questions, as the review's headings ask them.
QUESTIONS: tuple[str, ...] = (
    "Sources: where does the data come from?",
    "Destinations: what must be updated?",
    "Path: how does each step travel, and what is transformed on the way?",
    "Order: what must happen first?",
    "Failure modes: what can go wrong?",
    "Recovery: how does the flow recover?",
    "Capacity: can it take the expected volume?",
    "Ownership: who owns each part, and whom do we call?",
)
# A flow's verdict as the end of "the flow ...".
_VERDICT_WORDS = {
    "fails": "fails",
    "degrades": "degrades",
    "delayed": "is delayed",
    "unaffected": "is unaffected",
}


def _heading(number: int) -> list[str]:
    return [f"## {number}. {QUESTIONS[number - 1]}", ""]


@dataclass(frozen=True)
class Capacity:
    """How many calls an hour the flow's rate limits allow, and which system caps it."""

    calls_per_hour_limit: float | None  # None: nothing in the flow is rate-limited
    bottleneck: str | None
    per_system: dict[str, float]  # system -> calls an hour its quota allows


def capacity(flow: Flow, policies: PolicyBook) -> Capacity:
    requests_per_call: dict[str, int] = {}
    for step in flow.steps:
        if step.via == "crm_automation":  # the CRM's own automations spend its quota, not ours
            continue
        if step.mode == "read" and policies.for_system(step.system).cache.fresh_s > 0:
            continue  # a whole-list read kept fresh: one request per fresh_s, whatever the rate
        requests_per_call[step.system] = requests_per_call.get(step.system, 0) + 1
    per_system: dict[str, float] = {}
    for system, requests in requests_per_call.items():
        limit = policies.for_system(system).rate_limit
        if limit is not None:
            per_system[system] = limit.requests / limit.per_s * 3600 / requests
    if not per_system:
        return Capacity(None, None, {})
    bottleneck = min(per_system, key=per_system.__getitem__)
    return Capacity(per_system[bottleneck], bottleneck, per_system)


def _systems_of(flow: Flow) -> list[str]:
    """Every system the flow's steps reach, gateways included."""
    return sorted({s.system for s in flow.steps} | {s.gateway for s in flow.steps if s.gateway})


def _middleware_summary(flow: Flow) -> str:
    hops = [s for s in flow.steps if s.gateway is not None]
    if not hops:
        return "\nThrough middleware: no; every step calls its system's own API."
    by_gateway: dict[str, list[str]] = {}
    for s in hops:
        by_gateway.setdefault(s.gateway or "", []).append(f"{s.name} ({s.system})")
    said = "; ".join(f"`{g}` carries {', '.join(steps)}" for g, steps in by_gateway.items())
    return (
        f"\nThrough middleware: yes; {said}. The gateway's mapping is a transformation of "
        "its own: the layer checks each field it maps back, and the gateway down takes "
        "every source behind it down."
    )


def design_review(system_map: SystemMap, policies: PolicyBook, flow_name: str) -> str:
    if flow_name not in system_map.flows:
        known = ", ".join(sorted(system_map.flows))
        raise KeyError(f"flow: no flow {flow_name!r} (one of {known})")
    flow = system_map.flows[flow_name]
    systems = system_map.systems
    reads = [s for s in flow.steps if s.mode == "read"]
    writes = [s for s in flow.steps if s.mode == "write"]
    out = [f"# Design review: {flow_name}", "", f"{flow.description} Trigger: {flow.trigger}.", ""]

    out += _heading(1)
    out += [
        f"- **{s.name}** from `{s.system}` ({systems[s.system].vendor}; owns "
        f"{', '.join(systems[s.system].owns)})"
        for s in reads
    ] or ["- none: this flow only writes"]
    out += ["", *_heading(2)]
    out += [f"- **{s.name}** to `{s.system}` ({systems[s.system].vendor})" for s in writes] or [
        "- none: this flow only reads"
    ]
    out += ["", *_heading(3)]
    for s in flow.steps:
        route = {
            "direct": "direct API call",
            "outbox": "through the transactional outbox",
            "crm_automation": "by a CRM automation (the CRM calls it)",
        }[s.via]
        extra = f"; transforms: {s.transform}" if s.transform else ""
        auth = f"auth `{systems[s.system].auth}`"
        if s.gateway is not None:
            gateway = systems[s.gateway]
            route = route.removeprefix("direct ").replace("API call", "an API call") + (
                f", through the `{s.gateway}` gateway ({gateway.vendor}), which maps fields "
                "and wraps the source's errors"
            )
            auth = f"auth `{gateway.auth}` to the gateway, which uses `{systems[s.system].auth}`"
        out.append(f"- {s.name}: {route}, {auth}{extra}")
    out.append(_middleware_summary(flow))
    out += ["", *_heading(4)]
    for n, s in enumerate(flow.steps, 1):
        waits = (
            f"after {', '.join(s.after)}" if s.after else "first, alongside any other first step"
        )
        out.append(f"{n}. {s.name} ({s.system}): {waits}")
    if flow.deadline_ms:
        out.append(f"\nThe reads share one deadline of {flow.deadline_ms:.0f} ms.")
    out += ["", *_heading(5)]
    out += [f"- {mode}" for mode in flow.failure_modes]
    out += ["", "If one system is down:", ""]
    for system in _systems_of(flow):
        impact = next(
            i for i in blast_radius(system_map, policies, system).flows if i.flow == flow_name
        )
        why = "; ".join(f"{s.step}: {s.why}" for s in impact.steps)
        verdict = _VERDICT_WORDS[impact.verdict]
        out.append(f"- `{system}` down: the flow **{verdict}** ({why})")
    out += ["", *_heading(6)]
    out += [f"- {r}" for r in flow.recovery]
    out.append(
        f"- outbox retry horizon ≈ {retry_horizon_s(policies.outbox) / 60:.0f} min "
        f"({policies.outbox.retry.max_attempts} attempts), then a dead letter to replay"
    )
    for system in sorted({s.system for s in reads}):
        p = policies.for_system(system)
        cache = f"cache up to {p.cache.max_staleness_s:.0f} s" if p.cache.enabled else "no cache"
        out.append(
            f"- `{system}`: {p.timeout.per_attempt_ms:.0f} ms per attempt, "
            f"{p.retry.max_attempts} attempts, breaker at {p.breaker.failure_rate:.0%} "
            f"failures, {cache}"
        )
    out += ["", *_heading(7)]
    cap = capacity(flow, policies)
    out.append(f"Expected volume: {flow.calls_per_hour:,.0f} calls an hour.")
    if cap.calls_per_hour_limit is None:
        out.append("No rate limit applies on our side.")
    else:
        verdict = "yes" if cap.calls_per_hour_limit >= 1000 else "NO"
        out.append(
            f"Can it take 1,000 calls an hour? **{verdict}**: the rate limits allow "
            f"{cap.calls_per_hour_limit:,.0f} calls an hour; `{cap.bottleneck}` is the "
            "bottleneck."
        )
        out += [f"- `{s}`: {n:,.0f} calls an hour" for s, n in sorted(cap.per_system.items())]
    for system in sorted({s.system for s in flow.steps}):
        p = policies.for_system(system)
        concurrent = flow.calls_per_hour / 3600 * systems[system].sla.p95_ms / 1000
        out.append(
            f"- `{system}` at the expected volume: ~{concurrent:.2f} requests in flight "
            f"(bulkhead {p.bulkhead.max_concurrent})"
        )
    out += ["", *_heading(8)]
    owner = system_map.teams[flow.owner]
    out.append(f"Flow owner: {owner.name} ({owner.contact}, pager `{owner.pager}`).")
    for system in _systems_of(flow):
        team = system_map.team_of(system)
        sla = systems[system].sla
        out.append(
            f"- `{system}`: {team.name}, {team.contact}, pager `{team.pager}`; "
            f"SLA {sla.availability}% / p95 {sla.p95_ms:.0f} ms"
        )
    return "\n".join(out) + "\n"
