"""Telephony: Twilio's Calls resource, so the integration layer can read a caller's history."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.telephony.store import CallLog
from mocks.telephony.twilio_format import twilio_error

__all__ = ["TelephonyService"]


class TelephonyService(MockService):
    name: ClassVar[str] = "telephony"
    title: ClassVar[str] = "Telephony"
    vendor: ClassVar[str] = "Twilio REST API 2010-04-01 (Calls)"
    summary: ClassVar[str] = (
        "The account's call history in Twilio's wire format: list with filters and "
        "PageToken paging, fetch one call. HTTP Basic auth with the account SID and auth "
        "token; point twilio-python's base URL at /telephony."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.calls = CallLog(ctx.dataset)

    @property
    def account_sid(self) -> str:
        return self.ctx.settings.credentials.twilio_account_sid

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return AuthFailure(401, "unauthorized", "Authenticate")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 inside
            return AuthFailure(401, "unauthorized", "Authenticate")
        creds = self.ctx.settings.credentials
        good_user = secrets.compare_digest(user.encode(), creds.twilio_account_sid.encode())
        good_password = secrets.compare_digest(password.encode(), creds.twilio_auth_token.encode())
        if not (good_user and good_password):
            return AuthFailure(401, "unauthorized", "Authenticate")
        return None

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        # Twilio says only "Authenticate" for any credential problem, expired or wrong.
        return twilio_error(status, "Authenticate" if status == 401 else message)
