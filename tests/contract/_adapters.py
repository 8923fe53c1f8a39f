"""Adapters that point vendor SDKs at the mocks through each SDK's own extension point.

Most SDKs take a base URL and need nothing here. Two do not:

* simple-salesforce always builds ``https://{instance}/...`` URLs, while the mocks serve
  plain HTTP on loopback. It accepts a ``requests.Session``, so a transport adapter mounted
  for ``https://`` sends those URLs as ``http://``.
* twilio-python serves every resource from one host (``https://api.twilio.com``), while the
  mocks split Twilio into two systems: Messages live under ``/messaging`` and Calls under
  ``/telephony``. It accepts ``http_client=``, so a ``TwilioHttpClient`` subclass routes
  each request by the resource it names. Next-page links come back as absolute
  ``api.twilio.com`` URLs too, so paging goes through the same routing.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

__all__ = [
    "TWILIO_API",
    "TWILIO_SYSTEMS",
    "MockTwilioHttpClient",
    "PlainHttpAdapter",
    "plain_http_session",
]

TWILIO_API = "https://api.twilio.com"
# Which mock system serves which Twilio REST resource (the segment after the account SID).
TWILIO_SYSTEMS = {"Messages": "messaging", "Calls": "telephony"}
_ACCOUNT_RESOURCE = re.compile(r"^/2010-04-01/Accounts/[^/]+/(?P<resource>[A-Za-z]+)")


class PlainHttpAdapter(HTTPAdapter):
    """Sends the https URLs an SDK insists on as plain http, to the same host and path."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


def plain_http_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", PlainHttpAdapter())
    return session


class MockTwilioHttpClient(TwilioHttpClient):
    """A ``TwilioHttpClient`` that sends each Twilio resource to the mock system serving it."""

    def __init__(self, mocks_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mocks_url = mocks_url.rstrip("/")

    def route(self, url: str) -> str:
        path = url.removeprefix(TWILIO_API)
        match = _ACCOUNT_RESOURCE.match(path) if path != url else None
        system = TWILIO_SYSTEMS.get(match["resource"]) if match else None
        if system is None:
            # Better a loud failure than a request that leaves loopback for the real Twilio.
            raise ValueError(f"no mock serves {url}")
        return f"{self.mocks_url}/{system}{path}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.route(url), *args, **kwargs)
