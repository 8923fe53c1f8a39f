"""SendGrid v3 ``POST /v3/mail/send``: 202 with ``X-Message-Id`` and no body, or 400 errors."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from mocks.email.errors import SendGridErrorRoute, SendGridErrors
from mocks.email.service import EmailService
from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, json_body
from mocks.platform.state import service_in

__all__ = ["Email", "current_email", "router"]

router = APIRouter(
    route_class=SendGridErrorRoute,
    tags=["Mail Send"],
    responses=error_responses(SendGridErrors, *GATEWAY_STATUSES),
)
_ADDRESS = {
    "type": "object",
    "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
    "required": ["email"],
}
_ADDRESSES = {"type": "array", "items": _ADDRESS}
_MAIL = json_body(
    {
        "type": "object",
        "properties": {
            "personalizations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "to": _ADDRESSES,
                        "cc": _ADDRESSES,
                        "bcc": _ADDRESSES,
                        "subject": {"type": "string"},
                        "custom_args": {"type": "object", "additionalProperties": True},
                    },
                    "required": ["to"],
                },
            },
            "from": _ADDRESS,
            "reply_to": _ADDRESS,
            "subject": {"type": "string"},
            "content": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
                },
            },
            "template_id": {"type": "string"},
            "categories": {"type": "array", "items": {"type": "string"}},
            "custom_args": {"type": "object", "additionalProperties": True},
            "mail_settings": {"type": "object", "additionalProperties": True},
        },
        "required": ["personalizations", "from"],
        "additionalProperties": True,
    }
)


async def current_email(request: Request) -> EmailService:
    return service_in(request, EmailService)


Email = Annotated[EmailService, Depends(current_email)]


def _parsed(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (the service refuses it)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


@router.post(
    "/v3/mail/send",
    status_code=202,
    summary="Send an email (SendGrid v3)",
    responses=error_responses(SendGridErrors, *BODY_STATUSES, 409),
    openapi_extra=_MAIL,
)
async def send_mail(request: Request, email: Email) -> Response:
    mail = _parsed(await request.body())
    key = request.headers.get("idempotency-key") or None
    stored, replayed = await email.submit(mail, key)
    headers = dict(stored.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(status_code=stored.status, headers=headers)
