"""Blast radius: if one system is down or slow, which flows suffer, what the caller hears,
and who gets paged. Computed from the map's flows and the system's policies.

The rules, per step of a flow (a step is hit when it uses the system, or waits for a step
that is hit):

- a read, system down: with ``fallback: cache`` (and the policy's cache on) the flow
  degrades to last-known-good values up to ``max_staleness_s`` old, and fails for callers
  never seen within that time when the step is ``required``; ``fallback: omit`` degrades
  (the field is missing); ``fallback: none`` fails.
- a read, system slow: the step runs into its per-attempt timeout; the same outcomes as
  down, but only "degrades" (a slow answer still arrives for calls with time to wait).
- a write through the outbox: delayed, not lost; a dead letter after the retry horizon.
- a write by a CRM automation: the automation's step fails and is recorded, not retried.
- a step waiting for a hit write is delayed with it.

A step whose ``path`` is ``middleware`` is hit by its gateway too: the gateway down (or
slow) is its source down (or slow) for every step that goes through it, under the source's
own policy (the layer's client for that source is the gateway's client).

The flow's verdict is its worst step: fails > degrades > delayed > unaffected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from integration.policies.models import OutboxPolicy, PolicyBook
from integration.systemmap.model import Flow, Step, SystemMap

__all__ = ["BlastRadius", "FlowImpact", "StepImpact", "blast_radius", "retry_horizon_s"]

Condition = Literal["down", "slow"]
Verdict = Literal["fails", "degrades", "delayed", "unaffected"]
_WORST: dict[str, int] = {"unaffected": 0, "delayed": 1, "degrades": 2, "fails": 3}


@dataclass(frozen=True)
class StepImpact:
    step: str
    system: str
    verdict: Verdict
    why: str


@dataclass(frozen=True)
class FlowImpact:
    flow: str
    verdict: Verdict
    steps: list[StepImpact]
    caller_hears: str | None
    owner: str


@dataclass(frozen=True)
class BlastRadius:
    system: str
    condition: Condition
    flows: list[FlowImpact]
    paged: list[str]
    retry_horizon_s: float
    notes: list[str] = field(default_factory=list)

    def verdicts(self) -> dict[str, Verdict]:
        return {impact.flow: impact.verdict for impact in self.flows}

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def retry_horizon_s(outbox: OutboxPolicy) -> float:
    """Mean time from the first failed delivery to a dead letter: full jitter draws each
    backoff uniformly below its ceiling, so each retry waits half its ceiling on average."""
    retry = outbox.retry
    total = 0.0
    for n in range(1, retry.max_attempts):
        total += min(retry.cap_ms, retry.base_ms * 2.0 ** (n - 1)) / 2000
    return total


def blast_radius(
    system_map: SystemMap, policies: PolicyBook, system: str, condition: Condition = "down"
) -> BlastRadius:
    if system not in system_map.systems:
        known = ", ".join(sorted(system_map.systems))
        raise KeyError(f"system: no system {system!r} (one of {known})")
    horizon = retry_horizon_s(policies.outbox)
    impacts = [
        _flow_impact(name, flow, system, condition, policies, horizon)
        for name, flow in system_map.flows.items()
    ]
    impacts.sort(key=lambda i: (-_WORST[i.verdict], i.flow))
    paged = [_pager(system_map, system_map.systems[system].owner)]
    for impact in impacts:
        if impact.verdict == "fails":
            contact = _pager(system_map, impact.owner)
            if contact not in paged:
                paged.append(contact)
    fronted = system_map.fronted_by(system)
    notes = (
        [
            f"{system} is the gateway in front of {', '.join(fronted)}: every step that goes "
            f"through it is hit as if {' and '.join(fronted)} were {condition}"
        ]
        if fronted
        else []
    )
    return BlastRadius(system, condition, impacts, paged, round(horizon, 1), notes)


def _pager(system_map: SystemMap, team_key: str) -> str:
    team = system_map.teams[team_key]
    return f"{team.name} ({team.pager}, {team.contact})"


def _flow_impact(
    name: str,
    flow: Flow,
    system: str,
    condition: Condition,
    policies: PolicyBook,
    horizon_s: float,
) -> FlowImpact:
    hit: dict[str, StepImpact] = {}
    for step in flow.steps:
        own = _step_impact(step, system, condition, policies, horizon_s)
        waited = [hit[a] for a in step.after if a in hit and hit[a].verdict != "unaffected"]
        if own is None and waited and step.mode == "write":
            own = StepImpact(
                step.name, step.system, "delayed", f"waits for {', '.join(w.step for w in waited)}"
            )
        elif own is None and any(w.verdict == "fails" for w in waited):
            own = StepImpact(step.name, step.system, "fails", "its input is missing")
        hit[step.name] = own or StepImpact(step.name, step.system, "unaffected", "")
    affected = [s for s in hit.values() if s.verdict != "unaffected"]
    verdict: Verdict = max(
        (s.verdict for s in affected), key=_WORST.__getitem__, default="unaffected"
    )
    hears = {
        "fails": flow.caller_hears.failed,
        "degrades": flow.caller_hears.degraded,
        "delayed": flow.caller_hears.degraded,
    }.get(verdict)
    return FlowImpact(name, verdict, affected, hears or None, flow.owner)


def _step_impact(
    step: Step, system: str, condition: Condition, policies: PolicyBook, horizon_s: float
) -> StepImpact | None:
    if system not in (step.system, step.gateway):
        return None
    # Through a gateway, the step runs under its source's policy whichever of the two fails.
    policy = policies.for_system(step.system)
    hop = f"through the {step.gateway} gateway: " if step.gateway == system else ""
    if step.mode == "write":
        if step.via == "crm_automation":
            return StepImpact(
                step.name,
                step.system,
                "degrades",
                "the CRM automation's step fails; the run is recorded, not retried",
            )
        if condition == "slow":
            late = f"{hop}delivered late by the outbox"
            return StepImpact(step.name, step.system, "delayed", late)
        return StepImpact(
            step.name,
            step.system,
            "delayed",
            f"{hop}queued in the outbox; a dead letter after ~{horizon_s / 60:.0f} min",
        )
    timeout = policy.timeout.per_attempt_ms
    if step.fallback == "cache" and policy.cache.enabled:
        age = policy.cache.max_staleness_s
        if step.required and condition == "down":
            return StepImpact(
                step.name,
                step.system,
                "fails",
                f"{hop}last-known-good for callers seen in the last {age:.0f} s; "
                "anyone else cannot be served",
            )
        return StepImpact(
            step.name,
            step.system,
            "degrades",
            f"{hop}last-known-good value (up to {age:.0f} s old) after "
            f"{'a ' + str(int(timeout)) + ' ms timeout' if condition == 'slow' else 'the failure'}",
        )
    if step.fallback == "omit" or condition == "slow":
        return StepImpact(
            step.name,
            step.system,
            "degrades",
            hop
            + (
                "the field is missing"
                if condition == "down"
                else f"answers past its {timeout:.0f} ms timeout are dropped"
            ),
        )
    return StepImpact(step.name, step.system, "fails", f"{hop}no fallback for this step")
