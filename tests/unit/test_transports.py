"""HttpxTransport over httpx.MockTransport, and the status -> error table (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from integration.clients._http import VendorHttp, classify, parse_retry_after, vendor_message
from integration.clients.crm import soql_quote
from integration.clients.phone_formats import phone_variants
from integration.clients.telephony import rfc2822_to_iso
from integration.errors import (
    CredentialsRejected,
    InvalidPhoneNumber,
    MalformedResponse,
    NotFound,
    Rejected,
    SourceError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from integration.policies.executor import Attempt
from integration.transports import AiohttpTransport, HttpxTransport, make_transport
from integration.transports.base import HttpResponse, TransportFailure, TransportTimeout


def mock_transport(handler: Callable[[httpx.Request], object]) -> HttpxTransport:
    return HttpxTransport(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


@pytest.fixture
async def echo() -> AsyncIterator[HttpxTransport]:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "method": request.method,
            "url": str(request.url),
            "headers": dict(request.headers),
            "body": request.content.decode(),
        }
        headers = [("X-Injected-Fault", "latency"), ("Set-Thing", "a"), ("Set-Thing", "b")]
        return httpx.Response(201, json=body, headers=headers)

    transport = mock_transport(handler)
    yield transport
    await transport.aclose()


# -- the transport itself ---------------------------------------------------------------


async def test_a_request_goes_out_as_asked_and_headers_come_back_lower_case(
    echo: HttpxTransport,
) -> None:
    response = await echo.request(
        "POST",
        "http://vendor.test/v1/things",
        timeout_s=1.0,
        headers={"X-Api-Key": "k"},
        params={"q": "a b"},
        json={"n": 1},
    )
    sent = response.json()
    assert response.status == 201
    assert sent["method"] == "POST" and sent["url"] == "http://vendor.test/v1/things?q=a+b"
    assert sent["headers"]["x-api-key"] == "k" and json.loads(sent["body"]) == {"n": 1}
    assert response.headers["x-injected-fault"] == "latency" == response.injected_fault
    assert response.headers["set-thing"] == "a, b"  # repeated headers folded, not lost
    assert all(name == name.lower() for name in response.headers)


async def test_a_form_body_is_form_encoded(echo: HttpxTransport) -> None:
    response = await echo.request(
        "POST", "http://vendor.test/token", timeout_s=1.0, data={"grant_type": "x y"}
    )
    assert response.json()["body"] == "grant_type=x+y"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), TransportFailure),
        (httpx.RemoteProtocolError("peer closed mid-body"), TransportFailure),
        (httpx.ReadError("reset"), TransportFailure),
        (httpx.ReadTimeout("slow"), TransportTimeout),
        (httpx.PoolTimeout("no connection free"), TransportTimeout),
    ],
)
async def test_httpx_errors_become_the_two_transport_errors(
    raised: Exception, expected: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    transport = mock_transport(handler)
    with pytest.raises(expected):
        await transport.request("GET", "http://vendor.test/", timeout_s=1.0)
    await transport.aclose()


async def test_the_whole_request_is_bounded_not_just_each_phase() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    transport = mock_transport(handler)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TransportTimeout):
        await transport.request("GET", "http://vendor.test/", timeout_s=0.05)
    assert asyncio.get_running_loop().time() - started < 1
    await transport.aclose()


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_no_time_left_fails_at_once_without_a_request(kind: str) -> None:
    # Both libraries read a zero limit as "wait forever": the transport must not pass it on.
    transport = make_transport(kind, 4)  # type: ignore[arg-type]
    with pytest.raises(TransportTimeout):
        await transport.request("GET", "http://127.0.0.1:9/", timeout_s=0)
    await transport.aclose()


def test_make_transport_knows_two_kinds_and_opens_nothing() -> None:
    assert isinstance(make_transport("aiohttp", 10), AiohttpTransport)
    assert isinstance(make_transport("httpx", 10), HttpxTransport)
    with pytest.raises(ValueError, match="unknown transport"):
        make_transport("requests", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_connections"):
        AiohttpTransport(0)


# -- the classification table -------------------------------------------------------------


def vendor(handler: Callable[[httpx.Request], object]) -> VendorHttp:
    return VendorHttp(
        mock_transport(handler), "crm", "http://vendor.test/crm/", wall_clock=lambda: 1000.0
    )


def answering(status: int, body: bytes = b"{}", **headers: str) -> VendorHttp:
    return vendor(lambda request: httpx.Response(status, content=body, headers=headers))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, CredentialsRejected),
        (404, NotFound),
        (429, SourceRateLimited),
        (500, SourceUnavailable),
        (502, SourceUnavailable),
        (503, SourceUnavailable),
        (504, SourceUnavailable),
        (400, Rejected),
        (403, Rejected),
        (409, Rejected),
        (422, Rejected),
        (302, Rejected),
    ],
)
async def test_each_status_raises_its_error_and_the_attempt_says_what_came_back(
    status: int, expected: type[SourceError]
) -> None:
    http = answering(
        status, b'[{"message": "nope", "errorCode": "X"}]', **{"X-Injected-Fault": str(status)}
    )
    attempt = Attempt(number=1, timeout_s=1.0)
    with pytest.raises(expected) as caught:
        await http.send("query", attempt, "GET", "/services/data")
    error = caught.value
    assert type(error) is expected
    assert (error.system, error.operation, error.status) == ("crm", "query", status)
    assert error.injected_fault == str(status) == attempt.injected_fault
    assert attempt.status == status
    assert "nope" in str(error)  # the vendor's own words travel with the error
    await http.transport.aclose()


async def test_a_2xx_comes_back_and_paths_join_the_base_url() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    http = vendor(handler)
    attempt = Attempt(number=1, timeout_s=1.0, injected_fault="stale", status=500)
    assert await http.send_json("q", attempt, "GET", "/services/data") == {"ok": True}
    assert await http.send_json("q", attempt, "GET", "http://elsewhere.test/x") == {"ok": True}
    assert seen == ["http://vendor.test/crm/services/data", "http://elsewhere.test/x"]
    assert (attempt.status, attempt.injected_fault) == (200, None)
    await http.transport.aclose()


async def test_a_2xx_that_is_not_json_is_malformed() -> None:
    http = answering(
        200, b'{"records": [\x00<!-- upstream proxy error -->', **{"X-Injected-Fault": "malformed"}
    )
    attempt = Attempt(number=1, timeout_s=1.0)
    with pytest.raises(MalformedResponse) as caught:
        await http.send_json("q", attempt, "GET", "/x")
    assert caught.value.injected_fault == "malformed" == attempt.injected_fault
    assert caught.value.status == 200 == attempt.status
    await http.transport.aclose()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), SourceUnavailable),
        (httpx.ReadTimeout("slow"), SourceTimeout),
    ],
)
async def test_transport_errors_become_source_errors(
    raised: Exception, expected: type[SourceError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    http = vendor(handler)
    attempt = Attempt(number=1, timeout_s=1.0, status=200, injected_fault="old")
    with pytest.raises(expected) as caught:
        await http.send("q", attempt, "GET", "/x")
    assert caught.value.status is None and attempt.status is None and attempt.injected_fault is None
    await http.transport.aclose()


async def test_429_carries_retry_after() -> None:
    http = answering(429, b"{}", **{"Retry-After": "3"})
    with pytest.raises(SourceRateLimited) as caught:
        await http.send("q", Attempt(number=1, timeout_s=1.0), "GET", "/x")
    assert caught.value.retry_after_s == 3.0
    await http.transport.aclose()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    in_90_s = format_datetime(datetime(2026, 1, 1, 12, 1, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after(in_90_s, now) == 90.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("-4", now) == 0.0
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unreadable, now) is None


def test_classify_leaves_2xx_alone() -> None:
    for status in (200, 201, 204):
        assert classify("s", "op", HttpResponse(status, {}, b""), now=0.0) is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            b'[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]',
            "Session expired or invalid",
        ),
        (b'{"code": 20003, "message": "Authenticate", "status": 401}', "Authenticate"),
        (b'{"type": "about:blank", "title": "Not Found", "detail": "gone"}', "gone"),
        (b'{"error": {"code": "x", "message": "No customer"}}', "No customer"),
        (b'{"error": "invalid_client", "error_description": "bad secret"}', "bad secret"),
        (b"<html>gateway</html>", "<html>gateway</html>"),
    ],
)
def test_vendor_message_finds_the_words_in_each_error_shape(body: bytes, words: str) -> None:
    assert vendor_message(body) == words


# -- small pure pieces of the clients ----------------------------------------------------------


def test_phone_variants_spell_a_us_number_every_stored_way() -> None:
    assert phone_variants("+14155550123") == (
        "+14155550123",
        "(415) 555-0123",
        "415-555-0123",
        "415.555.0123",
        "+1 415 555 0123",
        "4155550123",
        "1-415-555-0123",
    )
    assert phone_variants("+442071234567") == ("+442071234567",)
    for bad in ("4155550123", "+1 415 555 0123", "+1415555012x", "", "' OR Id != '"):
        with pytest.raises(InvalidPhoneNumber):
            phone_variants(bad)


def test_soql_quote_escapes_what_would_end_the_literal() -> None:
    assert soql_quote("O'Brien") == "'O\\'Brien'"
    assert soql_quote("a\\b") == "'a\\\\b'"
    assert soql_quote("x' OR Name != '") == "'x\\' OR Name != \\''"
    assert soql_quote("line\nbreak") == "'line\\nbreak'"


def test_twilio_dates_become_iso_utc() -> None:
    assert rfc2822_to_iso("Tue, 10 Aug 2010 08:02:17 +0000") == "2010-08-10T08:02:17Z"
    assert rfc2822_to_iso("Tue, 10 Aug 2010 10:02:17 +0200") == "2010-08-10T08:02:17Z"
    assert rfc2822_to_iso(None) is None and rfc2822_to_iso("not a date") is None
