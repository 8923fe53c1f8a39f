"""Adapters that point vendor SDKs at the mocks through each SDK's own extension point.

Most SDKs take a base URL and need nothing here (docs/sdk-recipes.md). One does not:
simple-salesforce always builds ``https://{instance}/...`` URLs, while the mocks serve
plain HTTP on loopback. It accepts a ``requests.Session``, so a transport adapter mounted
for ``https://`` sends those URLs as ``http://``.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

__all__ = ["PlainHttpAdapter", "plain_http_session"]


class PlainHttpAdapter(HTTPAdapter):
    """Sends the https URLs an SDK insists on as plain http, to the same host and path."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        request.url = "http://" + request.url.removeprefix("https://")
        return super().send(request, *args, **kwargs)


def plain_http_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", PlainHttpAdapter())
    return session
