"""The shape every mock system has: one subclass of ``MockService`` per package.

A service is the vendor facade: it owns its store (seeded from the shared dataset), its
ledger and its idempotency keys, applies the vendor's behaviour, and tells the gateway how
it authenticates and how its vendor spells an error. It knows nothing of HTTP routes: the
registry pairs it with its routes module, so every system is wired the same way.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from mocks.platform.idempotency import IdempotencyStore
from mocks.platform.ledger import Ledger
from mocks.settings import MockSettings

if TYPE_CHECKING:
    from mocks.chaos.engine import ChaosEngine
    from mocks.dataset import Dataset

__all__ = ["AuthFailure", "MockService", "SystemContext"]


@dataclass
class SystemContext:
    """What the registry hands every system when it builds it."""

    settings: MockSettings
    dataset: Dataset
    chaos: ChaosEngine
    clock: Callable[[], float] = time.monotonic  # durations, expiry, windows
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)  # timestamps vendors print
    # Known only once the server has bound its port; callbacks and automations use it.
    base_url: str = ""


@dataclass(frozen=True, slots=True)
class AuthFailure:
    status: int  # usually 401 or 403; Slack answers auth errors with a 200
    reason: str  # a slug the system's error_body understands, e.g. "invalid_api_key"
    message: str


class MockService(ABC):
    """Base of every mock system. Subclasses set the class attributes and hold the state."""

    name: ClassVar[str]  # the URL prefix, e.g. "crm"
    title: ClassVar[str]  # e.g. "CRM"
    vendor: ClassVar[str]  # e.g. "Salesforce REST API v59.0"
    summary: ClassVar[str] = ""
    # Paths below the prefix that need no credentials (token endpoints, docs).
    public_paths: ClassVar[tuple[str, ...]] = ()
    # The content type of the gateway's error answers (RFC 9457 systems say problem+json).
    error_media_type: ClassVar[str] = "application/json"

    def __init__(self, ctx: SystemContext) -> None:
        self.ctx = ctx
        self.ledger = Ledger(self.name, now=ctx.now)
        self.idempotency = IdempotencyStore()

    def reset(self) -> None:
        """Back to the seeded state: subclasses reload their store and call super()."""
        self.ledger.clear()
        self.idempotency.clear()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        """Check the vendor's credentials (``headers`` keys are lower case)."""
        return None

    def revoked_credentials(self) -> AuthFailure:
        """How the vendor refuses a credential revoked at its end (the chaos fault
        ``revoked``): like an expired one, but no refresh or retry ends it, only someone
        renewing it. ``error_body`` renders it, so the reason must be one it knows."""
        return AuthFailure(401, "unauthorized", "Credentials revoked")

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        """The vendor's error body; ``reason`` is a short slug such as ``unavailable``, and
        ``field`` names the part of the request at fault where there is one (the gateway's
        body limits: reasons ``invalid_request`` and ``payload_too_large``)."""
        error = {"status": status, "code": reason, "message": message}
        return {"error": {**error, "field": field} if field else error}

    def clear_faults(self) -> None:  # noqa: B027 -- an optional hook
        """Stop faults the system runs itself (``POST /_chaos/reset`` calls it)."""

    def active_faults(self) -> list[dict[str, Any]]:
        """Faults the system runs itself, for ``GET /_chaos``."""
        return []

    async def startup(self) -> None:  # noqa: B027 -- an optional hook
        """Called once the server runs (``ctx.base_url`` is known)."""

    async def shutdown(self) -> None:  # noqa: B027 -- an optional hook
        """Called when the server stops."""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "vendor": self.vendor,
            "summary": self.summary,
            "prefix": f"/{self.name}",
            "docs": f"/{self.name}/docs",
            "ledger": f"/_mock/{self.name}/ledger",
        }
