"""The mocks' control plane from a notebook: break a system, watch it, put it back.

Every method is one request to ``/_chaos`` or ``/_mock`` (the same API the dashboard's
Chaos page and the scenarios use), so what a notebook does can be repeated with curl.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["Chaos"]


class Chaos:
    def __init__(self, mocks: httpx.Client) -> None:
        self.http = mocks  # rooted at the mocks, carrying the chaos token

    def _send(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text}")
        return response.json() if response.content else None

    # -- faults over HTTP ---------------------------------------------------------------

    def fault(self, system: str, **profile: Any) -> Any:
        """Replace ``system``'s fault profile, e.g. ``fault("crm", latency={...})``."""
        return self._send("PUT", f"/_chaos/systems/{system}", profile)

    def errors(self, system: str, kind: str, rate: float = 1.0, **extra: Any) -> Any:
        """A share of requests failing one way: ``"503"``, ``"429"``, ``"hang"``, ``"401"``..."""
        return self.fault(system, errors={"rate": rate, "kinds": {kind: 1}, **extra})

    def latency(self, system: str, ms: float) -> Any:
        return self.fault(system, latency={"kind": "fixed", "ms": ms})

    def outage(self, system: str, seconds: float) -> Any:
        if system == "database":  # not HTTP: the file itself becomes unreadable
            return self._send("POST", "/_chaos/database/outage", {"seconds": seconds})
        return self._send("POST", f"/_chaos/systems/{system}/outage", {"seconds": seconds})

    def clear(self, system: str) -> None:
        self._send("DELETE", f"/_chaos/systems/{system}")
        if system == "database":
            self._send("DELETE", "/_chaos/database")

    def reset(self) -> None:
        """Every fault cleared and the statistics zeroed (the systems' data stays)."""
        self._send("POST", "/_chaos/reset")
        self._send("DELETE", "/_chaos/database")

    # -- faults that are not HTTP errors --------------------------------------------------

    def expire_crm_sessions(self) -> int:
        """End every CRM session now: the next request with an old token gets a 401."""
        return int(self._send("POST", "/_mock/crm/tokens/expire").get("expired", 0))

    def lock_database(self, seconds: float) -> Any:
        """Hold the database's write lock, as a long batch job would."""
        return self._send("POST", "/_chaos/database/lock", {"seconds": seconds})

    # -- what the mocks saw --------------------------------------------------------------

    def active(self) -> Any:
        return self._send("GET", "/_chaos")

    def stats(self) -> dict[str, Any]:
        return dict(self._send("GET", "/_chaos/stats")["systems"])

    def ledger(self, system: str) -> dict[str, Any]:
        """``entries`` (every applied effect with its idempotency key) and
        ``duplicate_keys`` (keys applied more than once: there should be none)."""
        return dict(self._send("GET", f"/_mock/{system}/ledger"))

    def automation_runs(self, **filters: Any) -> list[dict[str, Any]]:
        """The CRM's automation runs; ``wait_ms=`` first waits for runs under way to end."""
        return list(self._send("GET", "/_mock/crm/automations/runs", **filters)["runs"])
