"""``/_mock/messaging/callbacks``: the status timeline and callback chaos, and the attempt log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query

from mocks.messaging.callbacks import CallbackSettings
from mocks.platform.control import require_token

if TYPE_CHECKING:
    from mocks.messaging.service import MessagingService

__all__ = ["build_control_router"]


def build_control_router(service: MessagingService) -> APIRouter:
    router = APIRouter(tags=["messaging"])
    guarded = [Depends(require_token(service.ctx.settings.chaos_token))]
    delivery = service.delivery

    @router.get("/callbacks", summary="The status timeline and callback chaos in force")
    def get_settings() -> dict[str, Any]:
        return delivery.settings.model_dump()

    @router.put(
        "/callbacks",
        dependencies=guarded,
        summary="Replace the timeline and callback chaos (omitted fields take their defaults)",
    )
    def put_settings(settings: CallbackSettings) -> dict[str, Any]:
        # Messages already sent keep the settings they started with.
        delivery.settings = settings
        return settings.model_dump()

    @router.get(
        "/callbacks/log", summary="Status callback attempts (the newest 100,000), oldest first"
    )
    def callback_log(
        message_sid: str | None = Query(None, description="only this message's callbacks"),
    ) -> dict[str, Any]:
        return delivery.log.as_json(message_sid)

    return router
