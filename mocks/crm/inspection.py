"""``/_mock/crm/...``: looking at and bending the CRM's sessions.

    GET  /_mock/crm/tokens              live and expired sessions, current TTL
    POST /_mock/crm/tokens/expire       end every live session now (guarded)
    PUT  /_mock/crm/config/token-ttl    TTL of sessions issued from now on (guarded)
    GET  /_mock/crm/store               record counts of the tables built so far
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from mocks.platform.control import require_token

if TYPE_CHECKING:
    from mocks.crm.service import CrmService

__all__ = ["TokenTtl", "build_inspection_router"]


class TokenTtl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(..., gt=0, description="lifetime of sessions issued from now on")


def build_inspection_router(service: CrmService) -> APIRouter:
    router = APIRouter(tags=["crm"])
    guarded = [Depends(require_token(service.ctx.settings.chaos_token))]

    # async: token state is otherwise only touched on the event loop, so no locking.
    @router.get("/tokens", summary="Sessions issued by the CRM's token endpoint")
    async def tokens() -> dict[str, Any]:
        return service.tokens.counts()

    @router.post("/tokens/expire", dependencies=guarded, summary="Expire every live session now")
    async def expire_tokens() -> dict[str, Any]:
        return {"expired": service.tokens.expire_all(), **service.tokens.counts()}

    @router.put("/config/token-ttl", dependencies=guarded, summary="Set the session lifetime")
    async def set_token_ttl(body: TokenTtl) -> dict[str, Any]:
        service.tokens.ttl_s = body.seconds
        return service.tokens.counts()

    @router.get("/store", summary="Records per sObject (tables are built on first use)")
    async def store() -> dict[str, Any]:
        return {"built": service.store.built_tables()}

    return router
