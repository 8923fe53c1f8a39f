"""An integration design review for one flow, answering the eight questions every
integration design should answer: sources, destinations, path, order, failure modes,
recovery, capacity and ownership. Written from the system map and its policies, so the
review says what the layer will actually do."""

from __future__ import annotations

from dataclasses import dataclass

from integration.policies.models import PolicyBook
from integration.systemmap.blast import blast_radius, retry_horizon_s
from integration.systemmap.model import Flow, SystemMap

__all__ = ["Capacity", "capacity", "design_review"]


@dataclass(frozen=True)
class Capacity:
    """How many calls an hour the flow's rate limits allow, and which system caps it."""

    calls_per_hour_limit: float | None  # None: nothing in the flow is rate-limited
    bottleneck: str | None
    per_system: dict[str, float]  # system -> calls an hour its quota allows


def capacity(flow: Flow, policies: PolicyBook) -> Capacity:
    requests_per_call: dict[str, int] = {}
    for step in flow.steps:
        if step.via != "crm_automation":  # the CRM's own automations spend its quota, not ours
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


def design_review(system_map: SystemMap, policies: PolicyBook, flow_name: str) -> str:
    if flow_name not in system_map.flows:
        known = ", ".join(sorted(system_map.flows))
        raise KeyError(f"flow: no flow {flow_name!r} (one of {known})")
    flow = system_map.flows[flow_name]
    systems = system_map.systems
    reads = [s for s in flow.steps if s.mode == "read"]
    writes = [s for s in flow.steps if s.mode == "write"]
    out = [f"# Design review: {flow_name}", "", f"{flow.description} Trigger: {flow.trigger}.", ""]

    out += ["## 1. Sources: where the data comes from", ""]
    out += [
        f"- **{s.name}** from `{s.system}` ({systems[s.system].vendor}; owns "
        f"{', '.join(systems[s.system].owns)})"
        for s in reads
    ] or ["- none: this flow only writes"]
    out += ["", "## 2. Destinations: what must be updated", ""]
    out += [f"- **{s.name}** to `{s.system}` ({systems[s.system].vendor})" for s in writes] or [
        "- none: this flow only reads"
    ]
    out += ["", "## 3. Path: direct, middleware, transformations", ""]
    for s in flow.steps:
        route = {
            "direct": "direct API call",
            "outbox": "through the transactional outbox",
            "crm_automation": "by a CRM automation (the CRM calls it)",
        }[s.via]
        extra = f"; transforms: {s.transform}" if s.transform else ""
        out.append(f"- {s.name}: {route}, auth `{systems[s.system].auth}`{extra}")
    out += ["", "## 4. Order: what must happen first", ""]
    for n, s in enumerate(flow.steps, 1):
        waits = (
            f" after {', '.join(s.after)}"
            if s.after
            else " first (in parallel with other first steps)"
        )
        out.append(f"{n}. {s.name} ({s.system}){waits}")
    if flow.deadline_ms:
        out.append(f"\nThe reads share one deadline of {flow.deadline_ms:.0f} ms.")
    out += ["", "## 5. Failure modes", ""]
    out += [f"- {mode}" for mode in flow.failure_modes]
    out += ["", "If one system is down:", ""]
    for system in sorted({s.system for s in flow.steps}):
        impact = next(
            i for i in blast_radius(system_map, policies, system).flows if i.flow == flow_name
        )
        why = "; ".join(f"{s.step}: {s.why}" for s in impact.steps)
        out.append(f"- `{system}` down: the flow **{impact.verdict}** ({why})")
    out += ["", "## 6. Recovery paths", ""]
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
    out += ["", "## 7. Capacity", ""]
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
    out += ["", "## 8. Ownership: who to call", ""]
    owner = system_map.teams[flow.owner]
    out.append(f"Flow owner: {owner.name} ({owner.contact}, pager `{owner.pager}`).")
    for system in sorted({s.system for s in flow.steps}):
        team = system_map.team_of(system)
        sla = systems[system].sla
        out.append(
            f"- `{system}`: {team.name}, {team.contact}, pager `{team.pager}`; "
            f"SLA {sla.availability}% / p95 {sla.p95_ms:.0f} ms"
        )
    return "\n".join(out) + "\n"
