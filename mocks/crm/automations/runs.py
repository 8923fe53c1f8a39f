"""What an automation run did, step by step, as ``/_mock/crm/automations/runs`` shows it.

A run is ``running`` until its last step ends, then:

- ``succeeded``: no step failed (skipped steps only follow a failure, so: all succeeded);
- ``failed``: at least one step failed, whatever the others did;
- ``partial``: the run was cut short (the server shut down or the CRM was reset) before
  every step had ended; the steps it never reached are ``skipped``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Run", "RunStatus", "StepResult", "StepStatus", "Trigger"]

RunStatus = Literal["running", "succeeded", "failed", "partial"]
StepStatus = Literal["pending", "succeeded", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Trigger:
    object: str
    event: str  # created | updated
    record_id: str
    changed_fields: tuple[str, ...]


@dataclass(slots=True)
class StepResult:
    index: int
    kind: str
    idempotency_key: str
    status: StepStatus = "pending"
    attempts: int = 0
    http_status: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    injected_fault: str | None = None  # X-Injected-Fault of the last answer, if any
    output: dict[str, Any] = field(default_factory=dict)  # ids the step produced

    def fail(self, error: str) -> None:
        self.status, self.error = "failed", error

    def skip(self, reason: str) -> None:
        self.status, self.error = "skipped", reason


@dataclass(slots=True)
class Run:
    id: str
    rule: str
    trigger: Trigger
    started_at: str
    steps: list[StepResult]
    status: RunStatus = "running"
    finished_at: str | None = None

    def finish(self, at: str, *, cut_short: bool = False) -> None:
        for step in self.steps:
            if step.status == "pending":
                step.skip("the run was cut short before this step ended")
        if cut_short:
            self.status = "partial"
        elif any(step.status == "failed" for step in self.steps):
            self.status = "failed"
        else:
            self.status = "succeeded"
        self.finished_at = at

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["trigger"]["changed_fields"] = list(self.trigger.changed_fields)
        return data
