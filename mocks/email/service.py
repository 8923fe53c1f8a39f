"""The email system: SendGrid's v3 Mail Send, with an outbox to look into."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import APIRouter

from mocks.email.outbox import Outbox, mails_from_request
from mocks.email.routes import build_outbox_router, build_router
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["EmailService"]

_INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"


class EmailService(MockService):
    name: ClassVar[str] = "email"
    title: ClassVar[str] = "Email"
    vendor: ClassVar[str] = "SendGrid Web API v3 (Mail Send)"
    summary: ClassVar[str] = (
        "POST /v3/mail/send with 'Authorization: Bearer <API key>'; 202 and X-Message-Id, or "
        "SendGrid's field-naming 400s. Accepted mails are listed at /_mock/email/outbox."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.api_key = ctx.settings.credentials.sendgrid_api_key
        self.outbox = Outbox(seed=ctx.settings.seed)

    def router(self) -> APIRouter:
        return build_router(self)

    def inspection_router(self) -> APIRouter:
        return build_outbox_router(self)

    def reset(self) -> None:
        self.outbox.clear()
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if not scheme:
            return AuthFailure(401, "unauthorized", "authorization required")
        if scheme.lower() != "bearer" or not secrets.compare_digest(key.strip(), self.api_key):
            return AuthFailure(401, "unauthorized", _INVALID_GRANT)
        return None

    def error_body(self, status: int, reason: str, message: str) -> Any:
        return {"errors": [{"message": message, "field": None, "help": None}]}

    def send(self, mail: dict[str, Any], key: str | None) -> str:
        """Apply one validated send: put it in the outbox and the ledger; returns its id."""
        message_id = self.outbox.new_message_id()
        mails = mails_from_request(mail, message_id, self.outbox.now())
        self.outbox.add(mails)
        subjects = list(dict.fromkeys(m.subject for m in mails))
        # Recipients and subjects only: bodies stay out of the ledger (they may hold PII).
        self.ledger.record(
            "mail.send",
            message_id,
            key,
            recipients=[address for m in mails for address in m.recipients],
            subject=subjects[0] if len(subjects) == 1 else subjects,
            personalizations=len(mails),
            template_id=mail.get("template_id"),
            categories=list(mail.get("categories") or ()),
        )
        return message_id
