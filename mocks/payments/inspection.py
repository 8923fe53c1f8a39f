"""``/_mock/payments/...``: the charges made, and the mock's behaviour knobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mocks.payments.routes import Payments
from mocks.payments.service import PaymentsConfig
from mocks.platform.control import GUARDED

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
