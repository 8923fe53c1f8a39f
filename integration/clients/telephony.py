"""Twilio's Calls resource: the caller's recent calls, newest first."""

from __future__ import annotations

import base64
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from integration.clients._http import AttemptState, VendorHttp
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["TwilioCallsClient", "rfc2822_to_iso"]

API_VERSION = "2010-04-01"
MAX_PAGE_SIZE = 1000  # Twilio's own ceiling


def rfc2822_to_iso(value: Any) -> str | None:
    """``Tue, 10 Aug 2010 08:02:17 +0000`` -> ``2010-08-10T08:02:17Z``; None stays None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TwilioCallsClient:
    system = "telephony"

    def __init__(self, transport: Transport, base_url: str, credentials: VendorCredentials) -> None:
        """``base_url`` is Twilio's API root (the mocks: ``<mocks_url>/telephony``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        sid = credentials.twilio_account_sid
        pair = f"{sid}:{credentials.twilio_auth_token}".encode()
        self._auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        self._path = f"/{API_VERSION}/Accounts/{quote(sid, safe='')}/Calls.json"

    async def recent_calls(
        self, attempt: AttemptState, e164: str, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Calls placed from ``e164`` (at most ``limit``), dates as ISO 8601 UTC."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1..{MAX_PAGE_SIZE}, got {limit}")
        body = await self.http.send_json(
            "recent_calls",
            attempt,
            "GET",
            self._path,
            headers=self._auth,
            params={"From": e164, "PageSize": str(limit)},
        )
        calls = body.get("calls") if isinstance(body, dict) else None
        if not isinstance(calls, list):
            raise self.http.malformed("recent_calls", attempt, "call list has no calls")
        return [_call(c) for c in calls[:limit] if isinstance(c, dict)]


def _call(raw: dict[str, Any]) -> dict[str, Any]:
    duration = raw.get("duration")
    return {
        "sid": raw.get("sid"),
        "from": raw.get("from"),
        "to": raw.get("to"),
        "direction": raw.get("direction"),
        "status": raw.get("status"),
        "start_time": rfc2822_to_iso(raw.get("start_time")),
        "end_time": rfc2822_to_iso(raw.get("end_time")),
        "duration_s": int(duration) if isinstance(duration, str) and duration.isdigit() else None,
        "price": raw.get("price"),
        "price_unit": raw.get("price_unit"),
    }
