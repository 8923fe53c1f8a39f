"""SendGrid v3 ``POST /v3/mail/send``: 202 with ``X-Message-Id`` and no body, or 400 errors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from mocks.email.validation import sendgrid_error, validate_mail
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)

if TYPE_CHECKING:
    from mocks.email.service import EmailService

__all__ = ["build_outbox_router", "build_router"]


def _errors(status: int, *errors: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"errors": list(errors)}, status_code=status)


def _sandboxed(mail: dict[str, Any]) -> bool:
    settings = mail.get("mail_settings")
    sandbox = settings.get("sandbox_mode") if isinstance(settings, dict) else None
    return isinstance(sandbox, dict) and sandbox.get("enable") is True


def build_router(service: EmailService) -> APIRouter:
    router = APIRouter(tags=["Mail Send"])

    @router.post("/v3/mail/send", status_code=202, summary="Send an email (SendGrid v3)")
    async def send_mail(request: Request) -> Response:
        try:
            mail = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            mail = None
        if not isinstance(mail, dict):
            return _errors(400, sendgrid_error("Bad Request"))
        problems = validate_mail(mail)
        if problems:
            return _errors(400, *problems)
        if _sandboxed(mail):
            # Sandbox mode: SendGrid validates, answers 200 and sends nothing.
            return Response(status_code=200)
        key = request.headers.get("idempotency-key") or None

        async def apply() -> StoredResponse:
            message_id = service.send(mail, key)
            return StoredResponse(202, None, (("X-Message-Id", message_id),))

        try:
            stored, replayed = await service.idempotency.run(key, fingerprint("POST", mail), apply)
        except IdempotencyMismatch:
            return _errors(400, sendgrid_error(
                f"Idempotency-Key {key} was already used with a different request body.",
                "Idempotency-Key",
            ))
        except IdempotencyConflict:
            return _errors(409, sendgrid_error(
                f"A request with Idempotency-Key {key} is still being processed.",
                "Idempotency-Key",
            ))
        headers = dict(stored.headers)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(status_code=stored.status, headers=headers)

    return router


def build_outbox_router(service: EmailService) -> APIRouter:
    router = APIRouter(tags=["email"])

    @router.get("/outbox", summary="Mails accepted, one entry per personalization, oldest first")
    async def outbox(
        to: str | None = Query(None, description="only mails with this recipient (to, cc or bcc)"),
    ) -> dict[str, Any]:
        return service.outbox.as_json(to)

    return router
