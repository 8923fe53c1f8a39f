"""Applying a scenario's timeline to the mocks through their control plane (bearer token).

Everything a scenario changes is put back afterwards (``restore``): fault profiles are
cleared, database faults released, the messaging callback settings and the CRM session
lifetime set to what they were before the run, the payments webhooks' faults lifted (the
endpoint, the layer's own route, stays).
"""

from __future__ import annotations

from typing import Any

import httpx

from app.scenarios.model import TimelineEvent

__all__ = ["ChaosControl", "ControlError"]


class ControlError(RuntimeError):
    """The control plane refused an action (the message says which and why)."""


class ChaosControl:
    def __init__(self, http: httpx.AsyncClient, layer: httpx.AsyncClient | None = None) -> None:
        self.http = http  # rooted at the mocks, carrying the chaos token
        self.layer = layer  # rooted at the integration layer, carrying its API token
        self._saved_callbacks: dict[str, Any] | None = None
        self._saved_ttl: float | None = None
        self._touched: set[str] = set()

    async def _send(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = await self.http.request(method, path, json=body)
        if response.status_code >= 400:
            detail = response.text[:200]
            raise ControlError(f"{method} {path}: HTTP {response.status_code} {detail}")
        return response.json() if response.content else {}

    async def apply(self, event: TimelineEvent) -> str:
        """Do what ``event`` says; answers a short description of what was done."""
        system, action = event.system, event.action
        self._touched.add(system)
        if action == "faults":
            assert event.profile is not None
            profile = event.profile.model_dump(mode="json", exclude_none=True)
            await self._send("PUT", f"/_chaos/systems/{system}", profile)
            return f"{system}: fault profile applied"
        if action == "outage":
            assert event.seconds is not None
            if system == "database":  # SQL, not HTTP: the database has its own outage
                await self._send("POST", "/_chaos/database/outage", {"seconds": event.seconds})
            else:
                await self._send(
                    "POST", f"/_chaos/systems/{system}/outage", {"seconds": event.seconds}
                )
            return f"{system}: down for {event.seconds:g}s"
        if action == "lock":
            await self._send("POST", "/_chaos/database/lock", {"seconds": event.seconds})
            return f"database: locked for {event.seconds:g}s"
        if action == "slow":
            body = {"seconds": event.seconds, "hold_ms": event.hold_ms, "every_ms": event.every_ms}
            await self._send("POST", "/_chaos/database/slow", body)
            return f"database: slow for {event.seconds:g}s"
        if action == "transform":
            assert event.transform is not None
            body = event.transform.model_dump(mode="json")
            await self._send("PUT", "/_chaos/middleware/transform", body)
            return f"middleware: {len(event.transform.faults)} field faults set"
        if action == "batch_window":
            await self._send("POST", "/_chaos/core/batch-window", {"seconds": event.seconds})
            return f"core: batch window open for {event.seconds:g}s"
        if action == "callbacks":
            assert event.callbacks is not None
            if self._saved_callbacks is None:
                self._saved_callbacks = await self._send("GET", "/_mock/messaging/callbacks")
            await self._send(
                "PUT", "/_mock/messaging/callbacks", event.callbacks.model_dump(mode="json")
            )
            return "messaging: status callbacks bent"
        if action == "webhooks":
            assert event.webhooks is not None
            await self._point_webhooks_at_the_layer()
            await self._send(
                "PUT", "/_mock/payments/webhooks/faults", event.webhooks.model_dump(mode="json")
            )
            return "payments: signed events to the layer, bent"
        if action == "credentials_expire":
            if event.ttl is not None:
                if self._saved_ttl is None:
                    tokens = await self._send("GET", "/_mock/crm/tokens")
                    self._saved_ttl = float(tokens["ttl_s"])
                await self._send("PUT", "/_mock/crm/config/token-ttl", {"seconds": event.ttl})
            expired = await self._send("POST", "/_mock/crm/tokens/expire")
            return f"crm: {expired.get('expired', 0)} sessions expired"
        await self.clear(system)
        return f"{system}: cleared"

    async def clear(self, system: str) -> None:
        await self._send("DELETE", f"/_chaos/systems/{system}")
        if system == "database":
            await self._send("DELETE", "/_chaos/database")
        if system == "core":
            await self._send("DELETE", "/_chaos/core/batch-window")
        if system == "messaging" and self._saved_callbacks is not None:
            await self._send("PUT", "/_mock/messaging/callbacks", self._saved_callbacks)
            self._saved_callbacks = None
        if system == "crm" and self._saved_ttl is not None:
            await self._send("PUT", "/_mock/crm/config/token-ttl", {"seconds": self._saved_ttl})
            self._saved_ttl = None
        if system == "middleware":
            await self._send("DELETE", "/_chaos/middleware/transform")
        if system == "payments":
            await self._send("PUT", "/_mock/payments/webhooks/faults", {})

    async def _point_webhooks_at_the_layer(self) -> None:
        """The payments mock posts its events to the layer's route, signed with its secret."""
        if self.layer is None:
            raise ControlError("webhooks: the scenario has no integration layer to send to")
        response = await self.layer.get("/payments/webhook-endpoint")
        if response.status_code != 200:
            raise ControlError(f"webhooks: the layer answered HTTP {response.status_code}")
        wanted = response.json()
        endpoint = {"url": wanted["url"], "secret": wanted["secret"]}
        retry = {"max_attempts": 8, "base_delay_s": 0.2, "max_delay_s": 2.0}
        await self._send(
            "PUT", "/_mock/payments/webhook-endpoints", {"endpoints": [endpoint], "retry": retry}
        )

    async def webhook_deliveries(self, wait_ms: int = 0) -> list[dict[str, Any]]:
        """The payments mock's webhook deliveries (after waiting until none is under way)."""
        params = {"wait_ms": wait_ms, "limit": 1000}
        response = await self.http.get("/_mock/payments/webhooks", params=params)
        return list(response.json().get("deliveries", [])) if response.status_code == 200 else []

    async def restore(self) -> list[str]:
        """Undo everything the scenario touched; answers the problems met (if any)."""
        problems = []
        for system in sorted(self._touched):
            try:
                await self.clear(system)
            except (ControlError, httpx.HTTPError) as exc:
                problems.append(f"{system}: {exc}")
        self._touched.clear()
        return problems

    # -- what the mocks saw -------------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        return (await self._send("GET", "/_chaos/stats")).get("systems", {})

    async def failed_automation_runs(self) -> int:
        """CRM automation runs with a failed step so far (``partial``: later steps went on)."""
        total = 0
        for status in ("failed", "partial"):
            response = await self.http.get("/_mock/crm/automations/runs", params={"status": status})
            if response.status_code == 200:
                total += int(response.json().get("count", 0))
        return total

    async def callback_attempts(self) -> list[dict[str, Any]]:
        response = await self.http.get("/_mock/messaging/callbacks/log")
        return list(response.json().get("entries", [])) if response.status_code == 200 else []

    async def ledger(self, system: str, since: int = 0) -> dict[str, Any]:
        response = await self.http.get(f"/_mock/{system}/ledger", params={"since": since})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data
