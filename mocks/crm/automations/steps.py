"""The step kinds: what one step of a run does, and how its outcome is written down.

CRM steps (``assign_owner``, ``create_task``) apply inside the CRM, as a Salesforce flow's
own record updates do: they pass through the CRM's idempotency keys and ledger but not the
gateway. Every other step is an HTTP call to another mock through ``ctx.base_url``, so the
chaos engine can fail it. Each outgoing write carries ``Idempotency-Key: <run>-<step>``, so
the single retry (on 429, 5xx, a timeout or a broken connection) can never apply twice.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import httpx

from mocks.crm.automations._http import ATTEMPT_TIMEOUT_S, conclude, json_of, post_with_retry
from mocks.crm.automations.models import (
    AssignOwner,
    CreateTask,
    SalesRep,
    SendEmail,
    SlackPost,
    Step,
    TrackEvent,
)
from mocks.crm.automations.runs import StepResult
from mocks.crm.automations.templates import MissingOwner, render
from mocks.crm.schema import SOBJECTS, SObjectType
from mocks.platform.idempotency import StoredResponse
from mocks.platform.service import SystemContext

__all__ = ["CrmWriter", "RunScope", "StepRunner", "step_key"]

_WHO = ("Lead", "Contact")  # what a Task's WhoId may point at; WhatId takes the rest
_WHAT = ("Account", "Opportunity")


class CrmWriter(Protocol):
    """The CRM's own write path (``CrmService``), as the CRM steps use it."""

    async def create_record(
        self, sobject: SObjectType, body: Any, key: str | None, *, origin: str = ...
    ) -> tuple[StoredResponse, bool]: ...

    async def update_record(
        self,
        sobject: SObjectType,
        record_id: str,
        body: Any,
        key: str | None,
        *,
        origin: str = ...,
    ) -> tuple[StoredResponse, bool]: ...


def step_key(run_id: str, index: int) -> str:
    """The Idempotency-Key of one step of one run (the same on its retry)."""
    return f"automation-{run_id}-{index}"


@dataclass
class RunScope:
    """What the steps of one run share: the record as the trigger left it, the owner."""

    run_id: str
    rule: str
    sobject: str
    record: dict[str, Any]
    changed_fields: tuple[str, ...]
    today: date
    owner: SalesRep | None = None
    values: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.values = {
            "record": self.record,
            "owner": None,
            "run": {"id": self.run_id},
            "rule": {"name": self.rule},
            "today": self.today.isoformat(),
        }

    def text(self, template: str) -> str:
        return render(template, {**self.values, "owner": self.owner and self.owner.model_dump()})


class StepRunner:
    def __init__(self, ctx: SystemContext, crm: CrmWriter) -> None:
        self.ctx = ctx
        self.crm = crm
        self.client: httpx.AsyncClient | None = None
        self._turns: dict[tuple[str, int], int] = {}  # (rule, step) -> next rep

    async def open(self) -> None:
        if self.client is None:  # trust_env off: a proxy setting must not catch loopback calls
            self.client = httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S, trust_env=False)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def reset(self) -> None:
        self._turns.clear()

    async def run(self, step: Step, result: StepResult, scope: RunScope) -> None:
        """Run one step, writing its outcome into ``result``; never raises but cancellation."""
        kinds: dict[type, Callable[[Any, StepResult, RunScope], Awaitable[None]]] = {
            AssignOwner: self._assign_owner,
            CreateTask: self._create_task,
            SendEmail: self._send_email,
            SlackPost: self._slack_post,
            TrackEvent: self._track,
        }
        started = self.ctx.clock()
        try:
            await kinds[type(step)](step, result, scope)
        except MissingOwner as missing:
            result.skip(f"{missing} is unknown: no owner was assigned earlier in this run")
        except Exception as error:  # a broken step must fail itself, not leave the run hanging
            result.fail(f"{type(error).__name__}: {error}")
        finally:
            result.duration_ms = round((self.ctx.clock() - started) * 1000, 1)

    # -- CRM steps ---------------------------------------------------------------------

    async def _assign_owner(self, step: AssignOwner, result: StepResult, scope: RunScope) -> None:
        turn = (scope.rule, result.index)
        position = self._turns.get(turn, 0)
        rep = step.reps[position % len(step.reps)]
        stored, _ = await self.crm.update_record(
            SOBJECTS[scope.sobject],
            scope.record["Id"],
            {"OwnerId": rep.id},
            result.idempotency_key,
            origin="automation",
        )
        if _crm_outcome(result, stored, {"owner_id": rep.id}):
            self._turns[turn] = position + 1  # the next run gets the next rep
            scope.owner = rep
            scope.record["OwnerId"] = rep.id

    async def _create_task(self, step: CreateTask, result: StepResult, scope: RunScope) -> None:
        due = scope.today + timedelta(days=step.due_in_days)
        task: dict[str, Any] = {
            "Subject": scope.text(step.subject),
            "Priority": step.priority,
            "ActivityDate": due.isoformat(),
            "OwnerId": scope.owner.id if scope.owner else scope.record.get("OwnerId"),
        }
        if scope.sobject in _WHO:
            task["WhoId"] = scope.record["Id"]
        elif scope.sobject in _WHAT:
            task["WhatId"] = scope.record["Id"]
        if step.description:
            task["Description"] = scope.text(step.description)
        stored, _ = await self.crm.create_record(
            SOBJECTS["Task"], task, result.idempotency_key, origin="automation"
        )
        body = stored.body if isinstance(stored.body, dict) else {}
        _crm_outcome(result, stored, {"task_id": body.get("id")})

    # -- calls to the other mocks ---------------------------------------------------------

    async def _post(
        self, path: str, body: dict[str, Any], authorization: str, result: StepResult
    ) -> httpx.Response | None:
        await self.open()
        assert self.client is not None
        headers = {"Authorization": authorization, "Idempotency-Key": result.idempotency_key}
        url = f"{self.ctx.base_url}{path}"
        return await post_with_retry(self.client, url, body, headers, result, self.ctx.sleep)

    async def _send_email(self, step: SendEmail, result: StepResult, scope: RunScope) -> None:
        mail = {
            "personalizations": [{"to": [{"email": scope.text(step.to)}]}],
            "from": {"email": step.sender, "name": "Switchboard CRM automations"},
            "subject": scope.text(step.subject),
            "content": [{"type": "text/plain", "value": scope.text(step.text)}],
        }
        auth = f"Bearer {self.ctx.settings.credentials.sendgrid_api_key}"
        response = await self._post("/email/v3/mail/send", mail, auth, result)
        if response is not None:
            message_id = response.headers.get("x-message-id")
            conclude(result, response, response.status_code == 202, {"message_id": message_id})

    async def _slack_post(self, step: SlackPost, result: StepResult, scope: RunScope) -> None:
        message = {"channel": step.channel, "text": scope.text(step.text)}
        auth = f"Bearer {self.ctx.settings.credentials.slack_bot_token}"
        response = await self._post("/slack/api/chat.postMessage", message, auth, result)
        if response is not None:
            body = json_of(response)
            ok = response.status_code == 200 and body.get("ok") is True
            conclude(result, response, ok, {"channel": body.get("channel"), "ts": body.get("ts")})

    async def _track(self, step: TrackEvent, result: StepResult, scope: RunScope) -> None:
        properties = {name: scope.text(text) for name, text in step.properties.items()}
        event = {
            "userId": scope.text(step.user_id),
            "event": step.event,
            "properties": {**properties, "changed_fields": list(scope.changed_fields)},
            # Segment applies a messageId once: the step's key makes a retry harmless.
            "messageId": result.idempotency_key,
            "timestamp": self.ctx.now().isoformat(),
            "context": {"library": {"name": "switchboard-crm-automations"}},
        }
        key = self.ctx.settings.credentials.segment_write_key
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        response = await self._post("/analytics/v1/track", event, auth, result)
        if response is not None:
            ok = response.status_code == 200 and json_of(response).get("success") is True
            conclude(result, response, ok, {"message_id": result.idempotency_key})


def _crm_outcome(result: StepResult, stored: StoredResponse, output: dict[str, Any]) -> bool:
    result.attempts, result.http_status = 1, stored.status
    if stored.status < 300:
        result.status, result.output = "succeeded", output
        return True
    problems = stored.body if isinstance(stored.body, list) else []
    result.fail(
        "; ".join(f"{p.get('errorCode')}: {p.get('message')}" for p in problems)
        or f"HTTP {stored.status}"
    )
    return False
