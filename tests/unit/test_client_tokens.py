"""The CRM token manager: single flight, early refresh on the injected clock (no sockets).

The token endpoint is an ``httpx.MockTransport`` handler that counts requests and can be
held open with an event, so "200 callers at once" is exact rather than timing-dependent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from integration.clients._http import VendorHttp
from integration.clients.tokens import OAuthTokenManager
from integration.errors import CredentialsRejected, SourceTimeout, SourceUnavailable
from integration.transports import HttpxTransport
from tests._support.clocks import ManualClock


@dataclass
class TokenEndpoint:
    issued: int = 0
    status: int = 200
    expires_in: int | None = None
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    forms: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gate.set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(request.content.decode())
        await self.gate.wait()
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "invalid_client"})
        self.issued += 1
        body: dict[str, Any] = {"access_token": f"token-{self.issued}", "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return httpx.Response(200, json=body)


@pytest.fixture
def endpoint() -> TokenEndpoint:
    return TokenEndpoint()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0.0)


@pytest.fixture
async def tokens(endpoint: TokenEndpoint, clock: ManualClock) -> AsyncIterator[OAuthTokenManager]:
    transport = HttpxTransport(transport=httpx.MockTransport(endpoint))
    manager = OAuthTokenManager(
        VendorHttp(transport, "crm", "http://crm.test"),
        "id",
        "secret",
        clock=clock,
        default_ttl_s=100,
        refresh_margin_s=10,
    )
    yield manager
    await manager.aclose()
    await transport.aclose()


async def test_first_use_fetches_a_token_with_client_credentials(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint
) -> None:
    assert await tokens.token(1.0) == "token-1"
    assert await tokens.token(1.0) == "token-1"
    assert tokens.refresh_count == 1
    assert endpoint.forms == ["grant_type=client_credentials&client_id=id&client_secret=secret"]


async def test_many_callers_at_once_share_one_request(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint
) -> None:
    endpoint.gate.clear()
    waiting = [asyncio.create_task(tokens.token(1.0)) for _ in range(200)]
    await asyncio.sleep(0.01)
    endpoint.gate.set()
    assert set(await asyncio.gather(*waiting)) == {"token-1"}
    assert tokens.refresh_count == 1 == len(endpoint.forms)


async def test_a_storm_of_invalidations_refreshes_once(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint
) -> None:
    stale = await tokens.token(1.0)
    endpoint.gate.clear()
    early = [asyncio.create_task(tokens.invalidate(stale, 1.0)) for _ in range(100)]
    await asyncio.sleep(0.01)
    endpoint.gate.set()
    assert set(await asyncio.gather(*early)) == {"token-2"}
    # 401s that come back after the refresh carry the stale token: no second refresh.
    late = await asyncio.gather(*(tokens.invalidate(stale, 1.0) for _ in range(100)))
    assert set(late) == {"token-2"}
    assert tokens.refresh_count == 2 == len(endpoint.forms)


async def test_inside_the_margin_the_old_token_serves_while_a_new_one_comes(
    tokens: OAuthTokenManager, clock: ManualClock
) -> None:
    assert await tokens.token(1.0) == "token-1"  # lives until t=100, margin 10
    clock.now = 89.0
    assert await tokens.token(1.0) == "token-1" and tokens.refresh_count == 1
    clock.now = 91.0
    assert await tokens.token(1.0) == "token-1"  # no waiting: the refresh runs alongside
    await tokens.settle()
    assert tokens.refresh_count == 2 and tokens.current == "token-2"
    clock.now = 200.0  # past the new token's end (191): callers wait for a fresh one
    assert await tokens.token(1.0) == "token-3" and tokens.refresh_count == 3


async def test_expires_in_is_honoured_when_the_response_has_it(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint, clock: ManualClock
) -> None:
    endpoint.expires_in = 30
    await tokens.token(1.0)
    clock.now = 21.0  # inside 30 - 10
    await tokens.token(1.0)
    await tokens.settle()
    assert tokens.refresh_count == 2


async def test_a_refused_refresh_reaches_every_waiter_as_its_own_error(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint
) -> None:
    endpoint.status = 401
    results = await asyncio.gather(*(tokens.token(1.0) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, CredentialsRejected) for r in results)
    assert len({id(r) for r in results}) == 5  # the executor may mark one; others must not see it
    assert tokens.refresh_count == 1
    endpoint.status = 200
    assert await tokens.token(1.0) == "token-1"  # the next caller tries again


async def test_a_failing_early_refresh_is_not_retried_on_every_call(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint, clock: ManualClock
) -> None:
    await tokens.token(1.0)
    endpoint.status = 503
    clock.now = 95.0
    for _ in range(10):
        assert await tokens.token(1.0) == "token-1"
        await tokens.settle()
    assert tokens.refresh_count == 2  # one early try, then quiet for background_retry_s
    clock.now = 101.0  # expired now: the caller waits, and hears why it failed
    with pytest.raises(SourceUnavailable):
        await tokens.token(1.0)


async def test_a_caller_that_gives_up_does_not_cancel_the_refresh_for_others(
    tokens: OAuthTokenManager, endpoint: TokenEndpoint
) -> None:
    endpoint.gate.clear()
    with pytest.raises(SourceTimeout):
        await tokens.token(0.01)
    patient = asyncio.create_task(tokens.token(1.0))
    await asyncio.sleep(0.01)
    endpoint.gate.set()
    assert await patient == "token-1"
    assert tokens.refresh_count == 1
