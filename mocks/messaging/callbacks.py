"""Status callbacks as Twilio sends them: signed form posts, retried, and logged.

``CallbackSettings`` is the per-service knob set (timeline and callback chaos) behind
``PUT /_mock/messaging/callbacks``; ``CallbackLog`` records every attempt for
``GET /_mock/messaging/callbacks/log``; ``CallbackSender`` posts one callback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "CallbackAttempt",
    "CallbackLog",
    "CallbackSender",
    "CallbackSettings",
    "twilio_signature",
]

Outcome = Literal["delivered", "retrying", "failed", "dropped"]


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """``X-Twilio-Signature``: HMAC-SHA1 over the URL followed by each sorted key and value."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class CallbackSettings(BaseModel):
    """How messages move through their statuses, and how their callbacks misbehave."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sent_after_ms: float = Field(default=50.0, ge=0, le=60_000, description="queued -> sent")
    final_after_ms: float = Field(
        default=150.0,
        ge=0,
        le=60_000,
        description="-> delivered or undelivered (failed happens at sent_after_ms)",
    )
    delay_ms: float = Field(
        default=0.0, ge=0, le=60_000, description="extra delay before each callback"
    )
    duplicate_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of callbacks sent twice"
    )
    reorder: bool = Field(
        default=False, description="deliver the last status before the one preceding it"
    )
    drop_rate: float = Field(default=0.0, ge=0, le=1, description="share of callbacks never sent")
    max_attempts: int = Field(
        default=3, ge=1, le=10, description="tries per callback before giving up"
    )
    retry_backoff_ms: float = Field(
        default=50.0, ge=0, le=10_000, description="wait before retry n is n times this"
    )

    @field_validator("final_after_ms")
    @classmethod
    def _after_sent(cls, value: float, info: ValidationInfo) -> float:
        sent = info.data.get("sent_after_ms")
        if sent is not None and value < sent:
            raise ValueError("final_after_ms must not be before sent_after_ms")
        return value


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    seq: int
    at: str  # ISO 8601, UTC
    message_sid: str
    status: str
    url: str
    attempt: int  # 0 for a dropped callback (never tried)
    http_status: int | None
    outcome: Outcome
    error: str | None
    duplicated: bool
    reordered: bool
    idempotency_token: str


class CallbackLog:
    """The newest ``keep`` callback attempts (a long run sends millions; ``seq`` keeps
    counting). Entries from before a reset are refused by generation."""

    def __init__(self, keep: int = 100_000) -> None:
        self._entries: deque[CallbackAttempt] = deque(maxlen=keep)
        self._seq = 0
        self._lock = threading.Lock()
        self.generation = 0

    def add(self, generation: int, **fields: Any) -> None:
        with self._lock:
            if generation != self.generation:
                return
            self._seq += 1
            at = datetime.now(UTC).isoformat()
            self._entries.append(CallbackAttempt(seq=self._seq, at=at, **fields))

    def clear(self) -> int:
        with self._lock:
            self._entries.clear()
            self._seq = 0
            self.generation += 1
            return self.generation

    def as_json(self, message_sid: str | None = None) -> dict[str, Any]:
        with self._lock:
            chosen = [e for e in self._entries if message_sid in (None, e.message_sid)]
        return {"count": len(chosen), "entries": [asdict(e) for e in chosen]}


@dataclass(frozen=True, slots=True)
class Callback:
    """One status event for one message: what to post and how it was mangled."""

    message_sid: str
    status: str
    url: str
    params: dict[str, str]
    duplicated: bool = False
    reordered: bool = False

    @property
    def idempotency_token(self) -> str:
        # Same event, same token, across retries and duplicates: receivers dedupe on it.
        return hashlib.sha256(f"{self.message_sid}:{self.status}".encode()).hexdigest()[:32]


class CallbackSender:
    """Posts callbacks with an aiohttp session that the service opens at startup.

    aiohttp, as the integration layer's transport: every text brings two or three callbacks,
    and with httpx's stock pool a benchmark phase of fifty calls a second left the mocks too
    busy to answer their own statistics within 10 s (``make bench-transport`` measures the
    two clients).
    """

    def __init__(
        self,
        auth_token: str,
        log: CallbackLog,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._auth_token = auth_token
        self._log = log
        self._sleep = sleep
        self.client: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        # trust_env off (aiohttp's default): receivers are local, and a proxy from the
        # environment must not swallow loopback callbacks.
        self.client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5.0))

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    def drop(self, callback: Callback, generation: int) -> None:
        self._record(callback, generation, 0, None, "dropped", None)

    async def send(self, callback: Callback, settings: CallbackSettings, generation: int) -> bool:
        """Try up to ``max_attempts`` times; True once the receiver answered 2xx."""
        headers = {
            "X-Twilio-Signature": twilio_signature(callback.url, callback.params, self._auth_token),
            "I-Twilio-Idempotency-Token": callback.idempotency_token,
            "User-Agent": "TwilioProxy/1.1",
        }
        for attempt in range(1, settings.max_attempts + 1):
            if generation != self._log.generation:
                return False  # the service was reset: this message no longer exists
            status, error = await self._post(callback, headers)
            if status is not None and 200 <= status < 300:
                self._record(callback, generation, attempt, status, "delivered", None)
                return True
            last = attempt == settings.max_attempts
            outcome: Outcome = "failed" if last else "retrying"
            self._record(callback, generation, attempt, status, outcome, error)
            if not last:
                await self._sleep(settings.retry_backoff_ms * attempt / 1000)
        return False

    async def _post(
        self, callback: Callback, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        if self.client is None:
            return None, "the messaging service has not started (no HTTP client)"
        try:
            async with self.client.post(
                callback.url, data=callback.params, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    def _record(
        self,
        callback: Callback,
        generation: int,
        attempt: int,
        http_status: int | None,
        outcome: Outcome,
        error: str | None,
    ) -> None:
        self._log.add(
            generation,
            message_sid=callback.message_sid,
            status=callback.status,
            url=callback.url,
            attempt=attempt,
            http_status=http_status,
            outcome=outcome,
            error=error,
            duplicated=callback.duplicated,
            reordered=callback.reordered,
            idempotency_token=callback.idempotency_token,
        )
