"""The messaging system: Twilio Programmable Messaging (SMS and WhatsApp), with callbacks.

The twilio SDK reaches it with one line: ``client.api.base_url = "<mocks>/messaging"``; list
pages link on with relative ``next_page_uri``s, which the SDK joins with that base too.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from mocks.dataset import COMPANY_NUMBER
from mocks.messaging.addresses import Address
from mocks.messaging.errors import TwilioError, twilio_error_body
from mocks.messaging.lifecycle import DeliverySimulator, timeline
from mocks.messaging.send import SendRequest, parse_send_request
from mocks.messaging.store import API_VERSION, Message, MessageFilter, MessageStore
from mocks.platform.credentials import same_secret
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["MessagingService"]

_BAD_CREDENTIALS = "Your AccountSid or AuthToken was incorrect."


class MessagingService(MockService):
    name: ClassVar[str] = "messaging"
    title: ClassVar[str] = "Messaging"
    vendor: ClassVar[str] = "Twilio Programmable Messaging (API 2010-04-01)"
    summary: ClassVar[str] = (
        "SMS and WhatsApp sends in Twilio's wire format (HTTP Basic AccountSid:AuthToken). "
        "Messages walk queued -> sent -> delivered and post signed status callbacks; "
        "timeline and callback chaos at /_mock/messaging/callbacks."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        credentials = ctx.settings.credentials
        self.account_sid = credentials.twilio_account_sid
        self.auth_token = credentials.twilio_auth_token
        self.store = MessageStore(seed=ctx.settings.seed)
        self.delivery = DeliverySimulator(
            self.store, self.auth_token, seed=ctx.settings.seed, clock=ctx.clock, sleep=ctx.sleep
        )

    async def startup(self) -> None:
        await self.delivery.start()

    async def shutdown(self) -> None:
        await self.delivery.stop()

    def reset(self) -> None:
        self.delivery.reset()
        self.store.clear()
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            missing = "Authentication Error - No credentials provided"
            return AuthFailure(401, "unauthorized", missing)
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 inside
            return AuthFailure(401, "unauthorized", "Authenticate")
        valid = same_secret(username, self.account_sid) and same_secret(password, self.auth_token)
        # The account in the URL must be the one whose credentials were given.
        parts = path.strip("/").split("/")
        foreign = len(parts) >= 3 and parts[1] == "Accounts" and parts[2] != username
        if not valid or foreign:
            return AuthFailure(401, "unauthorized", "Authenticate")
        return None

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        body = twilio_error_body(status, None, message)
        if status == 401:
            body["detail"] = _BAD_CREDENTIALS
        return body

    # -- the Messages resource ------------------------------------------------------

    async def create_message(
        self, account_sid: str, pairs: Sequence[tuple[str, str]], key: str | None
    ) -> tuple[StoredResponse, bool]:
        """Check a Create Message form and send it once per key: (answer, whether replayed).

        A bad field raises ``TwilioError`` before the key is used."""
        draft = parse_send_request(pairs)

        async def apply() -> StoredResponse:
            message = self.send(account_sid, draft, key)
            return StoredResponse(201, message.to_json())

        try:
            return await self.idempotency.run(
                key, fingerprint("POST", account_sid, sorted(pairs)), apply
            )
        except IdempotencyMismatch:
            raise TwilioError(
                400, 20422, "This Idempotency-Key was already used with other parameters."
            ) from None
        except IdempotencyConflict:
            raise TwilioError(
                409, 20409, "A request with this Idempotency-Key is still being processed."
            ) from None

    def fetch(self, account_sid: str, sid: str) -> dict[str, Any]:
        message = self.store.get(sid)
        if message is None or message.account_sid != account_sid:
            # Twilio quotes the URI; this says why instead of repeating the path.
            raise TwilioError(
                404,
                20404,
                "The requested resource was not found: this account has no message with that Sid",
            )
        return message.to_json()

    def page(
        self,
        account_sid: str,
        where: MessageFilter,
        filters: Sequence[tuple[str, str]],
        page: int,
        size: int,
    ) -> dict[str, Any]:
        """One page of the account's messages, newest first, in Twilio's list envelope;
        ``filters`` are the query's own, carried into the page URIs."""
        found = [m for m in self.store.select(where) if m.account_sid == account_sid]
        start = page * size
        chunk = found[start : start + size]
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode([*filters, ('PageSize', size), ('Page', number)])}"

        return {
            "messages": [m.to_json() for m in chunk],
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + size < len(found) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }

    def send(self, account_sid: str, request: SendRequest, key: str | None) -> Message:
        """Apply one send: store it, record it, and start its walk through the statuses."""
        sender = request.sender
        if sender is None:
            # A Messaging Service picks one of its senders; this mock has one number.
            sender = Address(request.to.channel, COMPANY_NUMBER)
        steps = timeline(
            request.to.value,
            self.delivery.settings,
            via_service=request.messaging_service_sid is not None,
        )
        now = self.store.now()
        message = Message(
            sid=self.store.new_sid("MM" if request.media_urls else "SM"),
            account_sid=account_sid,
            to=str(request.to),
            from_=str(sender),
            body=request.body,
            status=steps[0].status,
            num_segments=request.num_segments,
            date_created=now,
            date_updated=now,
            messaging_service_sid=request.messaging_service_sid,
            media_urls=request.media_urls,
            status_callback=request.status_callback,
        )
        self.store.add(message)
        self.ledger.record(
            "message.create",
            message.sid,
            key,
            **{
                "to": message.to,
                "from": message.from_,
                "channel": request.to.channel,
                "num_segments": message.num_segments,
                "status_callback": message.status_callback,
            },
        )
        self.delivery.begin(message, steps)
        return message
