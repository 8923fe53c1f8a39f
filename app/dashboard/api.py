"""Talking to the services the dashboard watches, without ever raising at a page.

Every answer is a ``Fetched``: the data, or a sentence a person can act on ("the
integration service at ... is not reachable"). Pages show that sentence in place of the
chart, so a service that is down, or an endpoint that has not landed yet, never turns
into a stack trace on a stakeholder's screen. Nothing here imports Streamlit: the
caching layer (``data.py``) wraps these functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Fetched", "ServiceClient"]


@dataclass(frozen=True)
class Fetched:
    """One answer from a service (picklable, so Streamlit's cache can share it)."""

    data: Any = None
    error: str | None = None
    status: int | None = None
    fetched_at: float = 0.0  # wall clock, so a rate is measured between real fetches

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def absent(self) -> bool:
        """The service answered, but has no such endpoint (yet): a 404 or 405."""
        return self.status in (404, 405)


class ServiceClient:
    """One service at ``base_url``; ``name`` is what people call it in messages."""

    def __init__(
        self,
        name: str,
        base_url: str,
        http: httpx.Client,
        *,
        token: str | None = None,
        timeout_s: float = 3.0,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout_s = timeout_s

    def get(self, path: str, params: dict[str, Any] | None = None) -> Fetched:
        return self.send("GET", path, params=params)

    def text(self, path: str) -> Fetched:
        return self.send("GET", path, as_text=True)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        as_text: bool = False,
    ) -> Fetched:
        url = f"{self.base_url}{path}"
        clean = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = self.http.request(
                method, url, params=clean, json=json, headers=self.headers, timeout=self.timeout_s
            )
        except httpx.TimeoutException:
            return self._failed(f"the {self.name} at {self.base_url} did not answer in time")
        except httpx.HTTPError as exc:
            reason = type(exc).__name__.replace("Error", "").lower() or "error"
            return self._failed(f"the {self.name} at {self.base_url} is not reachable ({reason})")
        if response.status_code >= 400:
            return self._failed(_explain(self.name, method, path, response), response.status_code)
        if as_text:
            return Fetched(response.text, None, response.status_code, time.time())
        try:
            body = response.json() if response.content else None
        except ValueError:
            return self._failed(
                f"{method} {path} on the {self.name} answered something that is not JSON",
                response.status_code,
            )
        return Fetched(body, None, response.status_code, time.time())

    @staticmethod
    def _failed(message: str, status: int | None = None) -> Fetched:
        return Fetched(None, message, status, time.time())


def _explain(name: str, method: str, path: str, response: httpx.Response) -> str:
    status = response.status_code
    if status in (404, 405):
        return f"{method} {path} is not available on the {name} ({status})"
    if status in (401, 403):
        setting = (
            "SWITCHBOARD_INTEGRATION_API_TOKEN to the service's API token"
            if name.startswith("integration")
            else "SWITCHBOARD_CHAOS_TOKEN to the mocks' chaos token"
        )
        return f"the {name} refused the dashboard's token ({status}); set {setting}"
    detail = _detail(response)
    return f"{method} {path} on the {name} failed ({status}){': ' + detail if detail else ''}"


def _detail(response: httpx.Response) -> str:
    """FastAPI's 422 names the field: say which, briefly."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        parts = []
        for item in detail[:3]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
        return "; ".join(parts)
    return str(detail)[:200] if detail else ""
