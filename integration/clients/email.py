"""SendGrid v3 Mail Send: one plain-text email to one recipient."""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["DEFAULT_SENDER", "SendGridClient"]

DEFAULT_SENDER = "voice-agent@switchboard.example"


class SendGridClient:
    system = "email"

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        credentials: VendorCredentials,
        *,
        sender: str = DEFAULT_SENDER,
        sender_name: str = "Switchboard",
    ) -> None:
        """``base_url`` is SendGrid's API root above ``/v3`` (the mocks: ``<mocks_url>/email``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._auth = {"Authorization": f"Bearer {credentials.sendgrid_api_key}"}
        self.sender = {"email": sender, "name": sender_name}

    async def send(
        self, attempt: AttemptState, *, to: str, subject: str, text: str, key: str
    ) -> dict[str, Any]:
        """``{"message_id": ...}``: SendGrid answers 202 with no body, only X-Message-Id."""
        mail = {
            "personalizations": [{"to": [{"email": to}]}],
            "from": self.sender,
            "subject": subject,
            "content": [{"type": "text/plain", "value": text}],
        }
        response = await send_write(
            self.http,
            "send_mail",
            attempt,
            "POST",
            "/v3/mail/send",
            json=mail,
            headers={**self._auth, "Idempotency-Key": key},
        )
        message_id = response.headers.get("x-message-id")
        if not message_id:
            raise self.http.malformed("send_mail", attempt, "accepted without an X-Message-Id")
        return {"message_id": message_id}
