"""``/_mock/payments/...``: the charges made, the mock's behaviour knobs, and its signed
webhooks (endpoints, deliveries, faults; ``mocks/platform/webhooks.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from mocks.payments.routes import Payments
from mocks.payments.service import PaymentsConfig
from mocks.platform.control import GUARDED
from mocks.platform.webhooks import LOG_SIZE, EndpointsIn, WebhookFaults

__all__ = ["router"]

router = APIRouter(tags=["payments"])


@router.get("/charges", summary="Charges made: succeeded count and amount, declines")
async def charges(payments: Payments) -> dict[str, Any]:  # on the event loop, like the writers
    return {"system": payments.name, **payments.store.charge_summary()}


@router.get("/config", summary="The mock's behaviour knobs")
async def get_config(payments: Payments) -> PaymentsConfig:
    return payments.config


@router.put("/config", dependencies=GUARDED, summary="Set processing_delay_s")
async def put_config(config: PaymentsConfig, payments: Payments) -> PaymentsConfig:
    payments.config = config
    return payments.config


@router.put(
    "/webhook-endpoints",
    dependencies=GUARDED,
    summary="Set the webhook endpoints (url, secret, enabled_events) and the retry policy",
)
async def put_endpoints(wanted: EndpointsIn, payments: Payments) -> dict[str, Any]:
    # The only answer that shows the secrets: whoever configured them may see them.
    made = payments.webhooks.configure(wanted)
    return {"endpoints": [e.view(with_secret=True) for e in made], "retry": wanted.retry}


@router.get("/webhooks", summary="Webhook deliveries: attempts, status, next retry")
async def deliveries(
    payments: Payments,
    event_id: str | None = Query(None, max_length=64),
    status: str | None = Query(None, max_length=16),
    limit: int = Query(100, ge=1, le=LOG_SIZE),
    wait_ms: int = Query(0, ge=0, le=10_000, description="first wait until none is under way"),
) -> dict[str, Any]:
    idle = await payments.webhooks.wait_idle(wait_ms / 1000) if wait_ms else None
    return {"idle": idle, **payments.webhooks.deliveries(event_id, status, limit)}


@router.put("/webhooks/faults", dependencies=GUARDED, summary="Delay or duplicate deliveries")
async def put_faults(faults: WebhookFaults, payments: Payments) -> WebhookFaults:
    payments.webhooks.faults = faults
    return faults
