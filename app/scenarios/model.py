"""Scenario files: a timeline of faults, the traffic that runs through it, and what must hold.

Validated by pydantic so a wrong file names its field (``timeline.2.seconds: ...``).
Times are written as people say them (``0:30``, ``2m``, ``20s``) and kept in seconds;
``Scenario.scaled(speed)`` divides every moment and window by ``speed`` so a three-minute
story can run in eighteen seconds (latencies and rates stay as written: a 2 s brownout is
still 2 s per request, or it would not be the same incident).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.simulator.journeys import DEFAULT_MIX, JOURNEYS
from app.simulator.units import parse_duration, parse_rate
from mocks.chaos.models import FaultProfile
from mocks.messaging.callbacks import CallbackSettings
from mocks.middleware.faults import FieldFaults
from mocks.platform.webhooks import WebhookFaults
from mocks.registry import SYSTEMS

__all__ = [
    "ACTIONS",
    "CALL_METRICS",
    "METRICS",
    "Expectation",
    "Scenario",
    "TimelineEvent",
    "Traffic",
]


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 0:30")
    return parse_duration(value)


def _rate(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a rate such as 5/s or 300/min")
    return parse_rate(value)


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]
Rate = Annotated[float, BeforeValidator(_rate)]

# What each action does to the mocks (shown by `scenario list --verbose` and the README).
ACTIONS: dict[str, str] = {
    "faults": "replace the system's fault profile (latency, errors, outages, rate limit)",
    "outage": "take the system down for `seconds`",
    "clear": "remove the system's faults (and restore what the scenario changed)",
    "credentials_expire": "end every live CRM session now (optionally `ttl` for new ones)",
    "lock": "hold the database's write lock for `seconds`",
    "slow": "make database queries queue behind a lock taken in a duty cycle",
    "callbacks": "bend the messaging status callbacks (delay, duplicates, reorder, drops)",
    "batch_window": "open the legacy core's batch window now for `seconds` (it refuses all)",
    "transform": "make the middleware gateway drop or mangle fields of its answers",
    "webhooks": "send the payments mock's signed events to the layer, late or doubled",
}
_ONLY_FOR = {
    "credentials_expire": "crm",
    "lock": "database",
    "slow": "database",
    "callbacks": "messaging",
    "batch_window": "core",
    "transform": "middleware",
    "webhooks": "payments",
}

# Scorecard numbers an expectation may test: first those the calls' own results give...
CALL_METRICS: tuple[str, ...] = (
    "calls_total",
    "ok",
    "degraded",
    "escalated",
    "failed",
    "ok_ratio",
    "degraded_ratio",
    "escalated_ratio",
    "failed_ratio",
    "unplanned_escalations",
    "lookup_p50_ms",
    "lookup_p95_ms",
    "lookup_p99_ms",
    "tool_p95_ms",
    "filler_needed",
    "invalid_fields_caught",
    "caller_flags_not_live",
    "caller_flags_unexplained",
)
# ...then what the ledgers, the outbox and the mocks counted.
METRICS: tuple[str, ...] = (
    *CALL_METRICS,
    "writes_acknowledged",
    "writes_applied",
    "writes_dead",
    "writes_pending",
    "writes_lost",
    "duplicates",
    "drain_s",
    "automation_runs_failed",
    "callbacks_duplicated",
    "batch_window_refusals",
    "fields_mangled",
    "shed",
    "payment_events_sent",
    "payment_events_kept",
    "payment_events_lost",
    "payment_events_applied_twice",
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_WRITTEN = re.compile(r"^\s*([a-z0-9_]+)\s*(==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Traffic(_Strict):
    rate: Rate = Field(5.0, description="calls per second: 5/s, 300/min or a number")
    journeys: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))
    concurrency: int = Field(64, ge=1, le=1000)

    @field_validator("journeys")
    @classmethod
    def _known_journeys(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(mix) - set(JOURNEYS))
        if unknown:
            raise ValueError(f"unknown journeys {unknown}; known: {sorted(JOURNEYS)}")
        if any(weight < 0 for weight in mix.values()) or not any(mix.values()):
            raise ValueError("weights must be >= 0, at least one above 0")
        return mix


class TimelineEvent(_Strict):
    at: Seconds = Field(..., description="when, from the start: 0:30, 45s, 2m")
    system: str
    action: Literal[tuple(ACTIONS)]  # type: ignore[valid-type]
    profile: FaultProfile | None = Field(None, description="faults: the profile to apply")
    seconds: Seconds | None = Field(None, description="outage, lock, slow, batch_window: how long")
    ttl: Seconds | None = Field(None, description="credentials_expire: new sessions' lifetime")
    hold_ms: float = Field(40, gt=0, le=60_000, description="slow: the lock is held this long")
    every_ms: float = Field(50, gt=0, le=60_000, description="slow: ... out of every this many")
    callbacks: CallbackSettings | None = Field(None, description="callbacks: the settings")
    transform: FieldFaults | None = Field(None, description="transform: the field faults")
    webhooks: WebhookFaults | None = Field(None, description="webhooks: delay_s, duplicate")
    note: str | None = Field(None, max_length=200, description="what this stands for")

    @field_validator("system")
    @classmethod
    def _known_system(cls, system: str) -> str:
        if system not in SYSTEMS:
            raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
        return system

    @model_validator(mode="after")
    def _fits_action(self) -> TimelineEvent:
        only = _ONLY_FOR.get(self.action)
        if only is not None and self.system != only:
            raise ValueError(f"action {self.action!r} applies to {only}, not {self.system}")
        needs = {
            "faults": "profile",
            "outage": "seconds",
            "lock": "seconds",
            "slow": "seconds",
            "batch_window": "seconds",
            "transform": "transform",
            "callbacks": "callbacks",
            "webhooks": "webhooks",
        }.get(self.action)
        if needs is not None and getattr(self, needs) is None:
            raise ValueError(f"action {self.action!r} needs {needs!r}")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError("seconds must be above 0")
        return self

    @property
    def ends_at(self) -> float | None:
        return self.at + self.seconds if self.seconds is not None else None

    def scaled(self, speed: float) -> TimelineEvent:
        changes: dict[str, Any] = {"at": self.at / speed}
        if self.seconds is not None:
            changes["seconds"] = self.seconds / speed
        if self.ttl is not None:
            changes["ttl"] = self.ttl / speed
        if self.profile is not None and self.profile.outages:
            windows = tuple(
                w.model_copy(
                    update={"start_s": w.start_s / speed, "duration_s": w.duration_s / speed}
                )
                for w in self.profile.outages
            )
            changes["profile"] = self.profile.model_copy(update={"outages": windows})
        return self.model_copy(update=changes)


class Expectation(_Strict):
    metric: Literal[METRICS]  # type: ignore[valid-type]
    op: Literal[tuple(_OPS)]  # type: ignore[valid-type]
    value: float

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, raw: Any) -> Any:
        """``"writes_lost == 0"`` is the same as ``{metric: writes_lost, op: "==", value: 0}``."""
        if isinstance(raw, str):
            match = _WRITTEN.match(raw)
            if match is None:
                raise ValueError(
                    f"{raw!r}: write an expectation as 'metric op number', "
                    "e.g. 'writes_lost == 0' or 'lookup_p95_ms <= 900'"
                )
            return {"metric": match[1], "op": match[2], "value": float(match[3])}
        return raw

    def holds(self, actual: float | None) -> bool:
        return actual is not None and _OPS[self.op](actual, self.value)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


class Scenario(_Strict):
    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]{1,60}$")
    description: str = Field(..., min_length=1, max_length=400)
    duration: Seconds = Field(..., description="how long traffic runs")
    traffic: Traffic = Field(default_factory=Traffic)
    timeline: tuple[TimelineEvent, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    drain_timeout: Seconds = Field(60.0, description="how long to wait for the outbox after")
    speed: float = Field(1.0, gt=0, description="set by scaled(); 1 as written")

    @model_validator(mode="after")
    def _timeline_inside(self) -> Scenario:
        if self.duration <= 0:
            raise ValueError("duration must be above 0")
        for index, event in enumerate(self.timeline):
            if event.at > self.duration:
                raise ValueError(
                    f"timeline.{index}.at ({event.at:g}s) is after the scenario "
                    f"ends ({self.duration:g}s)"
                )
        return self

    def scaled(self, speed: float) -> Scenario:
        """The same story ``speed`` times faster (the drain wait is not shortened)."""
        if speed <= 0:
            raise ValueError("speed must be above 0")
        return self.model_copy(
            update={
                "duration": self.duration / speed,
                "timeline": tuple(e.scaled(speed) for e in self.timeline),
                "speed": self.speed * speed,
            }
        )

    def systems(self) -> list[str]:
        return sorted({event.system for event in self.timeline})
