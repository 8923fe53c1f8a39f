"""Twilio Programmable Messaging: one SMS or WhatsApp message from the company's number,
and the signature Twilio puts on the status callbacks it posts back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from integration.clients._http import AttemptState, VendorHttp
from integration.clients._write import send_write_json
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["COMPANY_NUMBER", "TwilioMessagesClient", "twilio_signature", "valid_twilio_signature"]

API_VERSION = "2010-04-01"
# The number callers ring and see texts from (the mock enterprise's dataset uses the same).
COMPANY_NUMBER = "+18005550100"
_WHATSAPP = "whatsapp:"

Channel = Literal["sms", "whatsapp"]


def _address(number: str, channel: Channel) -> str:
    """Twilio tells WhatsApp from SMS by the ``whatsapp:`` prefix on both ends."""
    bare = number.removeprefix(_WHATSAPP)
    return f"{_WHATSAPP}{bare}" if channel == "whatsapp" else bare


class TwilioMessagesClient:
    system = "messaging"

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        credentials: VendorCredentials,
        *,
        from_number: str = COMPANY_NUMBER,
        status_callback: str | None = None,
    ) -> None:
        """``base_url`` is Twilio's API root (the mocks: ``<mocks_url>/messaging``);
        ``status_callback``: where Twilio posts each message's status changes (None: nowhere)."""
        self.http = VendorHttp(transport, self.system, base_url)
        sid = credentials.twilio_account_sid
        pair = f"{sid}:{credentials.twilio_auth_token}".encode()
        self._auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        self._path = f"/{API_VERSION}/Accounts/{quote(sid, safe='')}/Messages.json"
        self.from_number = from_number
        self.status_callback = status_callback

    async def send(
        self, attempt: AttemptState, *, to: str, body: str, key: str, channel: Channel = "sms"
    ) -> dict[str, Any]:
        """The Message resource Twilio created (``sid``, ``status``...). Twilio has no
        idempotency header of its own; the platform's ``Idempotency-Key`` is sent."""
        if channel not in ("sms", "whatsapp"):
            raise ValueError(f"channel must be sms or whatsapp, not {channel!r}")
        form = {
            "To": _address(to, channel),
            "From": _address(self.from_number, channel),
            "Body": body,
        }
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        message = await send_write_json(
            self.http,
            "send_message",
            attempt,
            "POST",
            self._path,
            data=form,
            headers={**self._auth, "Idempotency-Key": key},
        )
        if not isinstance(message, dict) or not message.get("sid"):
            raise self.http.malformed("send_message", attempt, "message has no sid")
        return message


# Twilio's SDK has a validator, but it is a dev dependency here and this is six lines.
def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the auth token, over the full URL
    followed by each form field's name and value, sorted (as Twilio's validator sorts them)."""
    payload = url + "".join(f"{key}{value}" for key, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(
    signature: str, urls: Iterable[str], params: Iterable[tuple[str, str]], auth_token: str
) -> bool:
    """True when ``signature`` signs ``params`` for one of ``urls`` (the URL we gave Twilio,
    or the one the request reached: a proxy in front may change the latter)."""
    fields = list(params)
    return any(
        hmac.compare_digest(twilio_signature(url, fields, auth_token), signature) for url in urls
    )
