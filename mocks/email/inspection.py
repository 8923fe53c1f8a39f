"""``/_mock/email/outbox``: the mails SendGrid accepted, one entry per personalization."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from mocks.email.routes import Email

__all__ = ["router"]

router = APIRouter(tags=["email"])


@router.get("/outbox", summary="Mails accepted, one entry per personalization, oldest first")
async def outbox(
    email: Email,
    to: str | None = Query(None, description="only mails with this recipient (to, cc or bcc)"),
) -> dict[str, Any]:
    return email.outbox.as_json(to)
