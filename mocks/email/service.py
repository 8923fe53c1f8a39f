"""The email system: SendGrid's v3 Mail Send, with an outbox to look into."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mocks.email.errors import SendGridRefusal
from mocks.email.outbox import Outbox, mails_from_request
from mocks.email.validation import sendgrid_error, validate_mail
from mocks.platform.credentials import same_secret
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["EmailService"]

_INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"


def _sandboxed(mail: dict[str, Any]) -> bool:
    settings = mail.get("mail_settings")
    sandbox = settings.get("sandbox_mode") if isinstance(settings, dict) else None
    return isinstance(sandbox, dict) and sandbox.get("enable") is True


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

    def reset(self) -> None:
        self.outbox.clear()
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if not scheme:
            return AuthFailure(401, "unauthorized", "authorization required")
        if scheme.lower() != "bearer" or not same_secret(key.strip(), self.api_key):
            return AuthFailure(401, "unauthorized", _INVALID_GRANT)
        return None

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        return {"errors": [{"message": message, "field": field, "help": None}]}

    async def submit(self, mail: Any, key: str | None) -> tuple[StoredResponse, bool]:
        """Check a Mail Send body and send it once per key: (answer, whether replayed).

        Refusals are raised as ``SendGridRefusal``, before the key is used."""
        if not isinstance(mail, dict):
            raise SendGridRefusal(400, [sendgrid_error("Bad Request")])
        problems = validate_mail(mail)
        if problems:
            raise SendGridRefusal(400, problems)
        if _sandboxed(mail):
            # Sandbox mode: SendGrid validates, answers 200 and sends nothing.
            return StoredResponse(200, None), False

        async def apply() -> StoredResponse:
            message_id = self.send(mail, key)
            return StoredResponse(202, None, (("X-Message-Id", message_id),))

        try:
            return await self.idempotency.run(key, fingerprint("POST", mail), apply)
        except IdempotencyMismatch:
            raise SendGridRefusal(
                400,
                [
                    sendgrid_error(
                        "This Idempotency-Key was already used with a different request body.",
                        "Idempotency-Key",
                    )
                ],
            ) from None
        except IdempotencyConflict:
            raise SendGridRefusal(
                409,
                [
                    sendgrid_error(
                        "A request with this Idempotency-Key is still being processed.",
                        "Idempotency-Key",
                    )
                ],
            ) from None

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
