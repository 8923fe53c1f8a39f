"""The CRM's OAuth 2.0 client-credentials token: cached, refreshed early, refreshed once.

Salesforce's token response says nothing about when the session ends (the org's timeout
setting decides), so the manager assumes ``default_ttl_s`` unless the response carries
``expires_in``, refreshes ``refresh_margin_s`` before that on the injected clock, and
otherwise relies on a 401 telling it the session is gone.

Single flight: at most one token request is ever in the air. It runs as its own task, so
a caller that gives up (its attempt timed out, its call was cancelled) does not cancel it
for the others. ``invalidate(stale)`` refreshes only while the stale token is still the
current one: 200 requests that all got a 401 with the same token cause one refresh.

Across workers (``shared``, the store every worker of the service uses): before asking
the vendor, a worker looks for a token another worker already got, and only the one that
takes the refresh in the store asks; the others wait for its token. So a 401 storm over
all the workers is still one refresh, and a worker that starts uses the token already
there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from integration.clients._http import VendorHttp
from integration.errors import MalformedResponse, SourceError, SourceTimeout

__all__ = ["OAuthTokenManager", "SharedToken"]

log = logging.getLogger(__name__)

TOKEN_PATH = "/services/oauth2/token"
OPERATION = "oauth_token"


class SharedToken(Protocol):
    """One credential every worker shares (``integration.store.credentials``)."""

    async def load(self) -> tuple[str, float] | None:
        """The stored token and the seconds it has left, if any."""
        ...

    async def take_refresh(self, stale: str | None, hold_s: float) -> bool:
        """True when this worker should ask the vendor: nobody else is asking, and the
        stored token is ``stale`` (or missing). False: load, or wait and load."""
        ...

    async def save(self, token: str, ttl_s: float) -> None: ...


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # on the injected clock


@dataclass
class _TokenAttempt:
    """The token request is nobody's attempt; this carries its own time limit."""

    timeout_s: float
    status: int | None = None
    injected_fault: str | None = None


class OAuthTokenManager:
    def __init__(
        self,
        http: VendorHttp,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float],
        default_ttl_s: float = 3600.0,
        refresh_margin_s: float = 60.0,
        request_timeout_s: float = 3.0,
        background_retry_s: float = 5.0,
        shared: SharedToken | None = None,
        shared_poll_s: float = 0.05,
    ) -> None:
        self.http = http
        self.clock = clock
        self.default_ttl_s = default_ttl_s
        self.refresh_margin_s = refresh_margin_s
        self.request_timeout_s = request_timeout_s
        self.background_retry_s = background_retry_s
        self.refresh_count = 0  # token requests started
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._current: _Token | None = None
        self._stale: str | None = None  # the token the refresh in the air replaces
        self._shared = shared
        self._shared_poll_s = shared_poll_s
        self.adopted = 0  # tokens taken from another worker instead of asked for
        self._inflight: asyncio.Task[_Token] | None = None
        self._quiet_until = float("-inf")  # no early refresh before this (one just failed)

    @property
    def current(self) -> str | None:
        return self._current.value if self._current else None

    async def token(self, timeout_s: float) -> str:
        """A live token. Inside the refresh margin the old one is still returned while a
        new one is fetched alongside; once it has expired, callers wait for the new one."""
        now = self.clock()
        held = self._current
        if held is not None and now < held.expires_at - self.refresh_margin_s:
            return held.value
        if held is not None and now < held.expires_at:
            if now >= self._quiet_until:
                self._refresh(held.value)
            return held.value
        return await self._wait(self._refresh(held.value if held else None), timeout_s)

    async def invalidate(self, stale: str, timeout_s: float) -> str:
        """The source refused ``stale``: a new token (one refresh however many ask)."""
        held = self._current
        if held is not None and held.value != stale:
            return held.value  # someone else's refresh already replaced it
        self._current = None  # nobody else should send a token the source has refused
        return await self._wait(self._refresh(stale), timeout_s)

    async def settle(self) -> None:
        """Wait until no token request is in the air (its outcome is already recorded)."""
        task = self._inflight
        if task is not None and not task.done():
            await asyncio.wait([task])

    async def aclose(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- the one request in the air -----------------------------------------------------

    def _refresh(self, stale: str | None) -> asyncio.Task[_Token]:
        if self._inflight is None or self._inflight.done():
            self._stale = stale
            self._inflight = asyncio.get_running_loop().create_task(self._fetch())
            self._inflight.add_done_callback(self._settled)
        return self._inflight

    async def _fetch(self) -> _Token:
        if self._shared is not None:
            adopted = await self._from_others()
            if adopted is not None:
                return adopted
        self.refresh_count += 1
        attempt = _TokenAttempt(self.request_timeout_s)
        body = await self.http.send_json(OPERATION, attempt, "POST", TOKEN_PATH, data=self._form)
        value, ttl = _read_token(body, self.default_ttl_s, attempt)
        token = _Token(value, self.clock() + ttl)
        self._current = token
        if self._shared is not None:
            try:
                await self._shared.save(value, ttl)
            except Exception:  # the others ask for their own; this worker has its token
                log.warning("sharing the crm token failed", exc_info=True)
        return token

    async def _from_others(self) -> _Token | None:
        """A token another worker got (waiting while one is getting it), or None when this
        worker should ask the vendor itself."""
        assert self._shared is not None
        gives_up = self.clock() + self.request_timeout_s
        while True:
            try:
                found = await self._shared.load()
                if found is not None:
                    value, left_s = found
                    if value != self._stale and left_s > self.refresh_margin_s:
                        self.adopted += 1
                        token = _Token(value, self.clock() + left_s)
                        self._current = token
                        return token
                if await self._shared.take_refresh(self._stale, self.request_timeout_s):
                    return None
            except Exception:  # the store is out of reach: ask the vendor directly
                log.warning("reading the shared crm token failed", exc_info=True)
                return None
            if self.clock() >= gives_up:  # the worker refreshing never came back
                return None
            await asyncio.sleep(self._shared_poll_s)

    def _settled(self, task: asyncio.Task[_Token]) -> None:
        if task.cancelled():
            return
        error = task.exception()  # retrieved here, so a refresh nobody awaited logs no warning
        if error is not None:
            self._quiet_until = self.clock() + self.background_retry_s
            log.warning("crm token refresh failed: %s", error)

    async def _wait(self, task: asyncio.Task[_Token], timeout_s: float) -> str:
        try:
            async with asyncio.timeout(max(timeout_s, 0.0)):
                token = await asyncio.shield(task)
        except TimeoutError:
            raise SourceTimeout(
                self.http.system, OPERATION, f"no token within {timeout_s:.3f}s"
            ) from None
        except SourceError as error:
            # Every waiter gets its own copy: the executor marks errors (retry_suppressed),
            # and one caller's marks must not show up on another's.
            raise _copy(error) from error
        return token.value


def _read_token(body: Any, default_ttl_s: float, attempt: _TokenAttempt) -> tuple[str, float]:
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise MalformedResponse(
            "crm",
            OPERATION,
            "token response has no access_token",
            status=attempt.status,
            injected_fault=attempt.injected_fault,
        )
    expires_in = body.get("expires_in")
    try:
        ttl = float(expires_in) if expires_in is not None else default_ttl_s
    except (TypeError, ValueError):
        ttl = default_ttl_s
    return value, ttl if ttl > 0 else default_ttl_s


def _copy(error: SourceError) -> SourceError:
    clone = error.__class__.__new__(error.__class__)
    clone.args = error.args
    clone.__dict__.update(error.__dict__)
    return clone
