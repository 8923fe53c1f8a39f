"""The system map's shape, validated: teams, systems, flows and their steps.

The policies in each system's ``policy`` block are validated by
``integration.policies.models`` (the one reader of policies); this module checks everything
else and that the parts refer to each other correctly: a system's owner is a team, a
step's system is a system, a step waits only for earlier steps of its flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from integration.policies.models import DEFAULT_POLICY_FILE, PolicyBook, SystemPolicy

__all__ = [
    "Flow",
    "Step",
    "SystemEntry",
    "SystemMap",
    "Team",
    "check_caller_lookup",
    "load_system_map",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Team(_Strict):
    name: str
    contact: str = Field(..., description="where to ask (a channel or an address)")
    pager: str = Field(..., description="who gets paged when it breaks")


class Sla(_Strict):
    availability: float = Field(..., gt=0, le=100, description="percent")
    p95_ms: float = Field(..., gt=0)


class SystemEntry(_Strict):
    kind: str
    vendor: str
    owner: str = Field(..., description="a key of teams")
    sla: Sla
    auth: str
    owns: list[str] = Field(..., min_length=1)
    policy: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _loose_policy_fields_join_the_policy(cls, data: Any) -> Any:
        # The policy reader accepts policy fields beside the entry (an override laid over
        # the map); here they are part of the policy too, not unknown keys.
        if isinstance(data, dict) and any(k in SystemPolicy.model_fields for k in data):
            loose = {k: data[k] for k in data if k in SystemPolicy.model_fields}
            rest = {k: v for k, v in data.items() if k not in loose}
            rest["policy"] = {**(data.get("policy") or {}), **loose}
            return rest
        return data


class Step(_Strict):
    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$")
    system: str
    mode: Literal["read", "write"]
    required: bool = False
    fallback: Literal["cache", "omit", "none"] = "none"
    after: list[str] = Field(default_factory=list)
    via: Literal["direct", "outbox", "crm_automation"] = "direct"
    # How the request travels to its system: straight to its API (direct), or through a
    # middleware gateway (an iPaaS) named by `gateway`, which maps its fields on the way.
    path: Literal["direct", "middleware"] = "direct"
    gateway: str | None = Field(None, description="path middleware: the gateway system")
    transform: str | None = None

    @model_validator(mode="after")
    def _write_has_a_route(self) -> Step:
        if self.mode == "write" and self.via == "direct":
            raise ValueError("a write step goes via outbox or crm_automation")
        if self.mode == "read" and self.via != "direct":
            raise ValueError("a read step is direct (reads run on the caller's turn)")
        if (self.path == "middleware") != (self.gateway is not None):
            raise ValueError("gateway: names the gateway exactly when path is middleware")
        return self


class CallerHears(_Strict):
    degraded: str
    failed: str


class Flow(_Strict):
    description: str
    owner: str
    trigger: str
    calls_per_hour: float = Field(..., gt=0)
    deadline_ms: float | None = Field(None, gt=0)
    steps: list[Step] = Field(..., min_length=1)
    failure_modes: list[str]
    recovery: list[str]
    caller_hears: CallerHears

    @model_validator(mode="after")
    def _steps_wait_for_earlier_steps(self) -> Flow:
        seen: set[str] = set()
        for index, step in enumerate(self.steps):
            if step.name in seen:
                raise ValueError(f"steps[{index}].name: {step.name!r} appears twice")
            unknown = [a for a in step.after if a not in seen]
            if unknown:
                raise ValueError(f"steps[{index}].after: {unknown} are not earlier steps")
            seen.add(step.name)
        return self


class SystemMap(_Strict):
    defaults: dict[str, Any] = Field(default_factory=dict)
    outbox: dict[str, Any] = Field(default_factory=dict)
    admission: dict[str, Any] = Field(default_factory=dict)
    teams: dict[str, Team]
    systems: dict[str, SystemEntry]
    flows: dict[str, Flow]

    @model_validator(mode="after")
    def _references_resolve(self) -> SystemMap:
        problems: list[str] = []
        for name, system in self.systems.items():
            if system.owner not in self.teams:
                problems.append(f"systems.{name}.owner: no team {system.owner!r}")
        for name, flow in self.flows.items():
            if flow.owner not in self.teams:
                problems.append(f"flows.{name}.owner: no team {flow.owner!r}")
            for index, step in enumerate(flow.steps):
                if step.system not in self.systems:
                    problems.append(
                        f"flows.{name}.steps[{index}].system: no system {step.system!r}"
                    )
                if step.gateway is not None and step.gateway not in self.systems:
                    problems.append(
                        f"flows.{name}.steps[{index}].gateway: no system {step.gateway!r}"
                    )
        problems += self._one_path_per_system()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _one_path_per_system(self) -> list[str]:
        """The layer has one client per system, so a system is reached one way everywhere."""
        seen: dict[str, str | None] = {}
        problems = []
        for name, flow in self.flows.items():
            for index, step in enumerate(flow.steps):
                if step.via == "crm_automation":  # the CRM calls it, not the layer
                    continue
                earlier = seen.setdefault(step.system, step.gateway)
                if earlier != step.gateway:
                    problems.append(
                        f"flows.{name}.steps[{index}].path: {step.system} is reached "
                        "another way in an earlier step"
                    )
        return problems

    def team_of(self, system: str) -> Team:
        return self.teams[self.systems[system].owner]

    def gateways(self) -> dict[str, str]:
        """Each system the layer reaches through a gateway -> that gateway."""
        return {
            step.system: step.gateway
            for flow in self.flows.values()
            for step in flow.steps
            if step.gateway is not None
        }

    def fronted_by(self, gateway: str) -> list[str]:
        """The systems whose steps go through ``gateway``, sorted."""
        return sorted(s for s, g in self.gateways().items() if g == gateway)


def check_caller_lookup(
    system_map: SystemMap, steps: dict[str, str], first: set[str], essential: set[str]
) -> None:
    """The caller lookup's code and the map's ``caller_lookup`` flow must say the same:
    the same steps against the same systems, the same order, the same essentials.
    ``steps`` is step -> system as the code runs it, ``first`` the steps that need nothing
    before them, ``essential`` those without which the agent is told to escalate."""
    flow = system_map.flows.get("caller_lookup")
    if flow is None:
        raise ValueError("flows.caller_lookup: the caller lookup's flow is missing")
    mapped = {s.name: s.system for s in flow.steps}
    if mapped != steps:
        raise ValueError(f"flows.caller_lookup.steps: the map says {mapped}, the code runs {steps}")
    mapped_first = {s.name for s in flow.steps if not s.after}
    if mapped_first != first:
        raise ValueError(
            f"flows.caller_lookup.steps: first steps are {sorted(mapped_first)} in the map, "
            f"{sorted(first)} in the code"
        )
    required = {s.name for s in flow.steps if s.required}
    if required != essential:
        raise ValueError(
            f"flows.caller_lookup.steps: required steps are {sorted(required)} in the map, "
            f"essential ones {sorted(essential)} in the code"
        )


def load_system_map(path: Path = DEFAULT_POLICY_FILE) -> tuple[SystemMap, PolicyBook]:
    """The map and its policies, both validated; a ValueError names the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        system_map = SystemMap.model_validate(raw)
        return system_map, PolicyBook.from_mapping(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ValueError(f"{path}: invalid system map:\n  " + "\n  ".join(lines)) from exc
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
