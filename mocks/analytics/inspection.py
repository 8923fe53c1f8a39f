"""``/_mock/analytics/events``: the events Segment accepted, oldest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from mocks.analytics.routes import Analytics

__all__ = ["router"]

router = APIRouter(tags=["analytics"])


@router.get("/events", summary="Stored events, oldest first, filtered by any of the fields")
def events(
    analytics: Analytics,
    user_id: str | None = Query(None, alias="userId"),
    event: str | None = None,
    message_type: str | None = Query(None, alias="type"),
) -> dict[str, Any]:
    found = analytics.store.query(user_id, event, message_type)
    return {"count": len(found), "events": found}
