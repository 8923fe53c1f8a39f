"""``/_mock/messaging/callbacks``: the status timeline and callback chaos, and the attempt log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from mocks.messaging.callbacks import CallbackSettings
from mocks.messaging.routes import Messaging
from mocks.platform.control import GUARDED

__all__ = ["router"]

router = APIRouter(tags=["messaging"])


@router.get("/callbacks", summary="The status timeline and callback chaos in force")
def get_settings(messaging: Messaging) -> dict[str, Any]:
    return messaging.delivery.settings.model_dump()


@router.put(
    "/callbacks",
    dependencies=GUARDED,
    summary="Replace the timeline and callback chaos (omitted fields take their defaults)",
)
def put_settings(settings: CallbackSettings, messaging: Messaging) -> dict[str, Any]:
    # Messages already sent keep the settings they started with.
    messaging.delivery.settings = settings
    return settings.model_dump()


@router.get("/callbacks/log", summary="Status callback attempts (the newest 100,000), oldest first")
def callback_log(
    messaging: Messaging,
    message_sid: str | None = Query(None, description="only this message's callbacks"),
) -> dict[str, Any]:
    return messaging.delivery.log.as_json(message_sid)
