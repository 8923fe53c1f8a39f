"""``/_mock/crm/...``: looking at and bending the CRM's sessions.

GET  /_mock/crm/tokens              live and expired sessions, current TTL
POST /_mock/crm/tokens/expire       end every live session now (guarded)
PUT  /_mock/crm/config/token-ttl    TTL of sessions issued from now on (guarded)
GET  /_mock/crm/store               record counts of the tables built so far
GET  /_mock/crm/automations/rules   the active automation rules
PUT  /_mock/crm/automations/rules   replace them (guarded; same structure as rules.yaml)
GET  /_mock/crm/automations/runs    runs, filtered by ?rule=&status=&record_id=;
                                    ?wait_ms=N first waits (bounded) until none is running
GET  /_mock/crm/automations/runs/{run_id}   one run, step by step
PUT  /_mock/crm/webhook-endpoints   where finished runs are posted, signed (guarded)
GET  /_mock/crm/webhooks            their deliveries: attempts, status, next retry
PUT  /_mock/crm/webhooks/faults     delay or duplicate deliveries (guarded)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mocks.crm._ids import to_18
from mocks.crm.automations.engine import MAX_WAIT_S
from mocks.crm.automations.models import RuleSet, validation_problems
from mocks.crm.automations.runs import RunStatus
from mocks.crm.routes import Crm
from mocks.platform.control import GUARDED
from mocks.platform.webhooks import LOG_SIZE, EndpointsIn, WebhookFaults

__all__ = ["TokenTtl", "router"]


class TokenTtl(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    seconds: float = Field(
        ..., gt=0, le=366 * 86_400, description="lifetime of sessions issued from now on"
    )


router = APIRouter(tags=["crm"])


# async: token state is otherwise only touched on the event loop, so no locking.
@router.get("/tokens", summary="Sessions issued by the CRM's token endpoint")
async def tokens(crm: Crm) -> dict[str, Any]:
    return crm.tokens.counts()


@router.post("/tokens/expire", dependencies=GUARDED, summary="Expire every live session now")
async def expire_tokens(crm: Crm) -> dict[str, Any]:
    return {"expired": crm.tokens.expire_all(), **crm.tokens.counts()}


@router.put("/config/token-ttl", dependencies=GUARDED, summary="Set the session lifetime")
async def set_token_ttl(body: TokenTtl, crm: Crm) -> dict[str, Any]:
    crm.tokens.ttl_s = body.seconds
    return crm.tokens.counts()


@router.get("/store", summary="Records per sObject (tables are built on first use)")
async def store(crm: Crm) -> dict[str, Any]:
    return {"built": crm.store.built_tables()}


@router.get("/automations/rules", summary="The active automation rules")
async def rules(crm: Crm) -> dict[str, Any]:
    # As written, defaults left out: a condition then names only its own test, so
    # the answer can be PUT back unchanged.
    return crm.automations.rules.model_dump(mode="json", exclude_unset=True)


@router.put("/automations/rules", dependencies=GUARDED, summary="Replace the rules")
async def replace_rules(
    crm: Crm, body: Any = Body(..., examples=[{"rules": []}])
) -> dict[str, Any]:
    engine = crm.automations
    try:
        engine.rules = RuleSet.model_validate(body)
    except ValidationError as error:
        problems = validation_problems(error, body, answered=True)
        detail = [{**p, "loc": ["body", *p["loc"]]} for p in problems]
        raise HTTPException(422, detail) from None
    return engine.rules.model_dump(mode="json", exclude_unset=True)


@router.get("/automations/runs", summary="Automation runs, newest last")
async def runs(
    crm: Crm,
    rule: str | None = None,
    status: RunStatus | None = None,
    record_id: str | None = None,
    wait_ms: int = Query(
        0, ge=0, le=int(MAX_WAIT_S * 1000), description="first wait until no run is under way"
    ),
) -> dict[str, Any]:
    engine = crm.automations
    idle = await engine.wait_idle(wait_ms / 1000) if wait_ms else not engine.find(status="running")
    found = engine.find(rule, status, to_18(record_id) if record_id else None)
    return {"count": len(found), "idle": idle, "runs": [run.as_json() for run in found]}


@router.get("/automations/runs/{run_id}", summary="One automation run, step by step")
async def run(run_id: str, crm: Crm) -> dict[str, Any]:
    found = crm.automations.runs.get(run_id)
    if found is None:
        raise HTTPException(404, "no automation run has this run_id")
    return found.as_json()


@router.put(
    "/webhook-endpoints",
    dependencies=GUARDED,
    summary="Set the endpoints finished automation runs are posted to, signed",
)
async def put_webhook_endpoints(wanted: EndpointsIn, crm: Crm) -> dict[str, Any]:
    made = crm.webhooks.configure(wanted)  # the one answer that shows the secrets
    return {"endpoints": [e.view(with_secret=True) for e in made], "retry": wanted.retry}


@router.get("/webhooks", summary="Webhook deliveries: attempts, status, next retry")
async def webhook_deliveries(
    crm: Crm,
    event_id: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=16),
    limit: int = Query(100, ge=1, le=LOG_SIZE),
    wait_ms: int = Query(0, ge=0, le=10_000, description="first wait until none is under way"),
) -> dict[str, Any]:
    if wait_ms:  # the runs first: a run that finishes is what queues a delivery
        await crm.automations.wait_idle(wait_ms / 1000)
    idle = await crm.webhooks.wait_idle(wait_ms / 1000) if wait_ms else None
    return {"idle": idle, **crm.webhooks.deliveries(event_id, status, limit)}


@router.put("/webhooks/faults", dependencies=GUARDED, summary="Delay or duplicate deliveries")
async def put_webhook_faults(faults: WebhookFaults, crm: Crm) -> WebhookFaults:
    crm.webhooks.faults = faults
    return faults
