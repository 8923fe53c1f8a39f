"""The payments system: Stripe's PaymentIntents API, enough for the ``stripe`` SDK to work.

Point the SDK at it with ``stripe.StripeClient("sk_test_switchboard",
base_addresses={"api": "http://127.0.0.1:8100/payments"})`` (docs/sdk-recipes.md).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mocks.payments.store import PaymentsStore
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.platform.webhooks import EndpointIn, EndpointsIn, WebhookSender

__all__ = ["PaymentsConfig", "PaymentsService"]

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)

# Refusals Stripe words as an invalid request: bad keys, and what no route takes.
_REQUEST_REASONS = frozenset(
    {"missing_api_key", "invalid_api_key", "not_found", "method_not_allowed"}
)


class PaymentsConfig(BaseModel):
    """Behaviour knobs of the mock itself (not faults: those belong to the chaos engine)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    processing_delay_s: float = Field(
        default=0.0,
        ge=0,
        le=30,
        description="how long a confirm waits for the simulated card network; while it "
        "waits the intent is 'processing' and its idempotency key is in flight",
    )


class PaymentsService(MockService):
    name: ClassVar[str] = "payments"
    title: ClassVar[str] = "Payments"
    vendor: ClassVar[str] = "Stripe API v1 (PaymentIntents)"
    summary: ClassVar[str] = (
        "Stripe PaymentIntents: create, confirm (test cards and pm_card_* methods), update, "
        "capture (capture_method=manual), cancel, list; Idempotency-Key with Stripe's replay "
        "semantics; card declines as 402."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.config = PaymentsConfig()
        self.store = self._new_store()
        self.webhooks = WebhookSender(now=ctx.now, sleep=ctx.sleep)
        self._configured_endpoint()

    def _configured_endpoint(self) -> None:
        """The receiver named in the settings (``switchboard up`` names the layer's)."""
        url = self.ctx.settings.payments_webhook_url
        secret = self.ctx.settings.payments_webhook_secret
        if url and secret:
            self.webhooks.configure(EndpointsIn(endpoints=[EndpointIn(url=url, secret=secret)]))

    async def startup(self) -> None:
        await self.webhooks.start()

    async def shutdown(self) -> None:
        await self.webhooks.stop()

    def emit(self, event_type: str, obj: dict[str, Any], key: str | None) -> None:
        """A Stripe event about ``obj`` to every webhook endpoint that wants it."""
        self.webhooks.emit(event_type, obj, request={"id": None, "idempotency_key": key})

    def _new_store(self) -> PaymentsStore:
        # ``created`` is a Unix timestamp, so the store needs wall time, not ctx.clock.
        return PaymentsStore(self.ctx.settings.seed, now=lambda: self.ctx.now().timestamp())

    def reset(self) -> None:
        self.store = self._new_store()
        self.config = PaymentsConfig()
        self.webhooks.reset()
        self._configured_endpoint()
        super().reset()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        given = _api_key(headers.get("authorization", ""))
        if given is None:
            return AuthFailure(401, "missing_api_key", _NO_KEY)
        expected = self.ctx.settings.credentials.stripe_secret_key
        if not secrets.compare_digest(given.encode(), expected.encode()):
            return AuthFailure(
                401, "invalid_api_key", f"Invalid API Key provided: {_redacted(given)}"
            )
        return None

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        """Stripe's error shape, also for faults the chaos engine injects."""
        error: dict[str, Any]
        if reason in _REQUEST_REASONS:
            error = {"type": "invalid_request_error", "message": message}
        elif reason in ("invalid_request", "payload_too_large"):  # the gateway's body limits
            error = {"type": "invalid_request_error", "message": message}
            if field:
                error["param"] = field
        elif status == 401:  # an injected credential expiry
            error = {
                "type": "invalid_request_error",
                "code": "api_key_expired",
                "message": "Expired API Key provided: the key has been rolled or expired.",
            }
        elif status == 429:
            error = {
                "type": "rate_limit_error",
                "code": "rate_limit",
                "message": "Request rate limit exceeded. Learn more about rate limits "
                "here https://stripe.com/docs/rate-limits.",
            }
        else:
            error = {"type": "api_error", "message": message}
        return {"error": error}


def _api_key(authorization: str) -> str | None:
    """Stripe takes the key as a Bearer token or as the Basic auth user name."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
        except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 inside
            return ""
        return user or None
    return None


def _redacted(key: str) -> str:
    """Stripe shows a wrong key's prefix and last four characters only."""
    prefix = next(
        (
            p
            for p in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")
            if key.startswith(p)
        ),
        "",
    )
    tail = key[len(prefix) :]
    shown = tail[-4:] if len(tail) > 8 else ""
    return prefix + "*" * max(4, len(tail) - len(shown)) + shown
