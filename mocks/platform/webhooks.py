"""Signed webhooks out of a mock system, as Stripe sends them: at least once, retried.

A system ``emit``\\ s an event; every configured endpoint that wants its type gets a
delivery: a POST of the event's JSON, signed in ``Stripe-Signature: t=<unix>,v1=<hex>``
where the hex is HMAC-SHA256 under the endpoint's secret of ``"<t>.<body>"`` (the same
bytes each attempt, a fresh ``t`` each time, as Stripe does). Any 2xx ends it; anything
else (an error status, a timeout, a refused connection) is tried again after
``base_delay_s * 2**(n-1)`` (at most ``max_delay_s``) until ``max_attempts``, then it is
``failed``. Each delivery is its own task on the mock's event loop, so a request that
emits never waits for a receiver.

Bounded: at most ``MAX_IN_FLIGHT`` deliveries wait or run at once (another is ``dropped``
and counted, as a real sender sheds load) and the log keeps the last ``LOG_SIZE``.
``WebhookFaults`` makes deliveries late (``delay_s``) or doubled (``duplicate``: the same
event, same id, sent twice), which a receiver must survive since webhooks are at least once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LOG_SIZE",
    "MAX_IN_FLIGHT",
    "EndpointIn",
    "RetryPolicy",
    "WebhookFaults",
    "WebhookSender",
    "sign",
]

MAX_IN_FLIGHT = 500
LOG_SIZE = 1000
ATTEMPT_TIMEOUT_S = 5.0
SIGNATURE_HEADER = "Stripe-Signature"

DeliveryStatus = Literal["pending", "delivered", "failed", "dropped", "cancelled"]


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    max_attempts: int = Field(6, ge=1, le=20)
    base_delay_s: float = Field(1.0, ge=0, le=600)
    max_delay_s: float = Field(60.0, ge=0, le=3600)

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based)."""
        return min(self.base_delay_s * 2 ** min(attempt - 1, 30), self.max_delay_s)


class EndpointIn(BaseModel):
    """One receiver, as PUT to ``/_mock/<system>/webhook-endpoints``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$")
    secret: str | None = Field(
        None, min_length=8, max_length=200, description="made (whsec_...) when left out"
    )
    enabled_events: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=32)


class EndpointsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: list[EndpointIn] = Field(max_length=16)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class WebhookFaults(BaseModel):
    """What the chaos side may do to deliveries (``PUT /_mock/<system>/webhooks/faults``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    delay_s: float = Field(0.0, ge=0, le=60, description="before each delivery's first attempt")
    duplicate: bool = Field(False, description="send every event twice (same event id)")


@dataclass
class Endpoint:
    id: str
    url: str
    secret: str
    enabled_events: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return any(
            pattern == "*"
            or pattern == event_type
            or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.enabled_events
        )

    def view(self, *, with_secret: bool = False) -> dict[str, Any]:
        shown = self.secret if with_secret else self.secret[:6] + "..."
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "secret": shown,
        }


@dataclass
class Delivery:
    id: str
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    created: str
    duplicate: bool = False
    status: DeliveryStatus = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_retry_at: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "created": self.created,
            "duplicate": self.duplicate,
            "status": self.status,
            "attempts": list(self.attempts),
            "next_retry_at": self.next_retry_at,
        }


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def sign(secret: str, payload: bytes, timestamp: int) -> str:
    """Stripe's signature header value for ``payload`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender:
    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._now = now
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.endpoints: list[Endpoint] = []
        self.retry = RetryPolicy()
        self.faults = WebhookFaults()
        self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)
        self.dropped = 0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            timeout=ATTEMPT_TIMEOUT_S, transport=self._transport, follow_redirects=False
        )

    async def stop(self) -> None:
        await self.cancel_all()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def reset(self) -> None:
        """No endpoints, no log, no faults; deliveries under way are cancelled (on their
        loop: ``/_mock/<system>/reset`` may call this from a worker thread)."""
        loop = self._loop
        for task in list(self._tasks):
            if loop is None or _running_loop() is loop:
                task.cancel()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)
        self.endpoints = []
        self.retry = RetryPolicy()
        self.faults = WebhookFaults()
        self.log.clear()
        self.dropped = 0

    def configure(self, wanted: EndpointsIn) -> list[Endpoint]:
        self.endpoints = [
            Endpoint(
                f"we_{secrets.token_hex(12)}",
                spec.url,
                spec.secret or f"whsec_{secrets.token_urlsafe(24)}",
                tuple(spec.enabled_events),
            )
            for spec in wanted.endpoints
        ]
        self.retry = wanted.retry
        return self.endpoints

    # -- sending ---------------------------------------------------------------------

    def emit(self, event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any] | None:
        """Queue ``event_type`` about ``obj`` for every endpoint that wants it; the event,
        or None when no endpoint does. Never waits: each delivery is a task of its own."""
        targets = [e for e in self.endpoints if e.wants(event_type)]
        if not targets:
            return None
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(self._now().timestamp()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": len(targets),
            "type": event_type,
            **extra,
        }
        payload = json.dumps(event, separators=(",", ":")).encode()
        copies = 2 if self.faults.duplicate else 1
        for endpoint in targets:
            for copy in range(copies):
                self._queue(endpoint, event, payload, duplicate=copy > 0)
        return event

    def _queue(
        self, endpoint: Endpoint, event: dict[str, Any], payload: bytes, *, duplicate: bool
    ) -> None:
        delivery = Delivery(
            f"whd_{secrets.token_hex(10)}",
            event["id"],
            event["type"],
            endpoint.id,
            endpoint.url,
            self._now().isoformat(),
            duplicate=duplicate,
        )
        self.log.append(delivery)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # emitted outside the server (a unit test): nothing can send
            delivery.status = "dropped"
            self.dropped += 1
            return
        if len(self._tasks) >= MAX_IN_FLIGHT:
            delivery.status = "dropped"
            self.dropped += 1
            return
        task = loop.create_task(self._deliver(delivery, endpoint.secret, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, secret: str, payload: bytes) -> None:
        retry, delay = self.retry, self.faults.delay_s
        try:
            if delay:
                delivery.next_retry_at = self._later(delay)
                await self._sleep(delay)
            for attempt in range(1, retry.max_attempts + 1):
                delivery.next_retry_at = None
                if await self._attempt(delivery, secret, payload):
                    delivery.status = "delivered"
                    return
                if attempt == retry.max_attempts:
                    break
                pause = retry.delay(attempt)
                delivery.next_retry_at = self._later(pause)
                await self._sleep(pause)
            delivery.status = "failed"
        except asyncio.CancelledError:
            if delivery.status == "pending":
                delivery.status = "cancelled"
            delivery.next_retry_at = None
            raise

    async def _attempt(self, delivery: Delivery, secret: str, payload: bytes) -> bool:
        client = self._client
        started = time.perf_counter()
        record: dict[str, Any] = {"at": self._now().isoformat(), "http_status": None}
        delivery.attempts.append(record)
        if client is None:
            record["error"] = "the sender is not running"
            return False
        headers = {
            "content-type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(secret, payload, int(self._now().timestamp())),
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            response = await client.post(delivery.url, content=payload, headers=headers)
        except httpx.TimeoutException:
            record["error"] = f"no answer within {ATTEMPT_TIMEOUT_S:g} s"
            return False
        except Exception as error:  # refused, reset, a URL no client can reach...
            record["error"] = type(error).__name__
            return False
        finally:
            record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        record["http_status"] = response.status_code
        return 200 <= response.status_code < 300

    def _later(self, seconds: float) -> str:
        now = self._now()
        return datetime.fromtimestamp(now.timestamp() + seconds, now.tzinfo).isoformat()

    # -- looking -----------------------------------------------------------------------

    def deliveries(
        self, event_id: str | None = None, status: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        found = [
            d.view()
            for d in self.log
            if (event_id is None or d.event_id == event_id)
            and (status is None or d.status == status)
        ]
        counts: dict[str, int] = {}
        for d in self.log:
            counts[d.status] = counts.get(d.status, 0) + 1
        return {
            "endpoints": [e.view() for e in self.endpoints],
            "retry": self.retry.model_dump(),
            "faults": self.faults.model_dump(),
            "in_flight": len(self._tasks),
            "dropped": self.dropped,
            "counts": counts,
            "deliveries": found[-limit:],
        }

    async def wait_idle(self, timeout_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout_s, 10.0)
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True
