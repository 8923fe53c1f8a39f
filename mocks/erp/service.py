"""The ERP: orders, stock and shipments of the bank's merchant-services arm."""

from __future__ import annotations

from fastapi import APIRouter

from mocks.erp.store import ErpStore
from mocks.platform.rest import EnterpriseRestService
from mocks.platform.service import SystemContext

__all__ = ["ErpService"]


class ErpService(EnterpriseRestService):
    name = "erp"
    title = "ERP"
    summary = (
        "Orders, inventory and fulfilment under /erp/api/v1, authenticated with X-Api-Key. "
        "There is no one ERP vendor worth copying, so this speaks the style of a typical "
        'modern enterprise API: one resource is {"data": {...}}, a list is {"data": [...], '
        '"next_cursor": ...}; every error is application/problem+json (RFC 9457) with '
        "type, title, status, detail, instance and errors [{field, message}]. Orders and "
        "inventory items carry a version sent as a strong ETag; changing an order needs "
        "If-Match (428 without it, 412 when stale). Writes honour Idempotency-Key."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = ErpStore(ctx.dataset, ctx.clock)

    def router(self) -> APIRouter:
        from mocks.erp.routes import build_router

        return build_router(self)

    def reset(self) -> None:
        self.store = ErpStore(self.ctx.dataset, self.ctx.clock)
        super().reset()

    def api_key(self) -> str:
        return self.ctx.settings.credentials.erp_api_key
