"""The legacy SOAP core (``mocks.core``) over raw HTTP, and the layer's client for it
(``integration.clients.core``) against it: safe XML, faults that never echo, the session
kept and renewed, and the batch window honoured without knocking on the closed core."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.clients.core import CoreSoapClient
from integration.errors import NotFound, SourceClosed, SourceUnavailable
from integration.policies.executor import Attempt
from integration.settings import VendorCredentials
from integration.transports.base import Transport
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import quick_policies, serve_layer

URL = "/core/ws/CustomerService"
ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:cl="urn:corelink:cif:v7"><soap:Body>{body}</soap:Body></soap:Envelope>'
)
LOGIN = "<cl:Login><cl:UserId>SWBVOICE</cl:UserId><cl:Password>{p}</cl:Password></cl:Login>"


def error_code(response: httpx.Response) -> str:
    return response.text.split("ErrorCode>")[1].split("<")[0]


def test_hostile_xml_is_a_fault_that_never_echoes(client: httpx.Client) -> None:
    secret = "zq7secret"
    hostile = {
        "external entity": f'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><x>&e;{secret}</x>',
        "entity expansion": '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        f"<l>&b;{secret}</l>",
        "not xml": f"{secret} <<<",
        "not soap": f"<{secret}/>",
        "too deep": ENVELOPE.format(
            body="<cl:Login>" + "<a>" * 40 + secret + "</a>" * 40 + "</cl:Login>"
        ),
        "unknown operation": ENVELOPE.format(body=f"<cl:{secret}/>"),
        "two operations": ENVELOPE.format(body="<cl:Logout/><cl:Logout/>"),
        "too large": ENVELOPE.format(
            body=f"<cl:Login><cl:UserId>{secret * 8000}</cl:UserId></cl:Login>"
        ),
        "long field": ENVELOPE.format(body=LOGIN.format(p=secret * 30)),
        "empty": "",
    }
    for what, body in hostile.items():
        response = client.post(URL, content=body.encode(), headers={"content-type": "text/xml"})
        assert 400 <= response.status_code < 500, (what, response.status_code)
        assert response.headers["content-type"] == "text/xml; charset=utf-8", what
        assert secret not in response.text and "etc/hostname" not in response.text, what
        assert error_code(response).startswith("CL-"), what


def test_a_soap_action_for_another_operation_is_refused(client: httpx.Client) -> None:
    body = ENVELOPE.format(body=LOGIN.format(p="switchboard-core-pass")).encode()
    wrong = client.post(URL, content=body, headers={"SOAPAction": '"urn:corelink:cif:v7#Logout"'})
    assert wrong.status_code == 400 and error_code(wrong) == "CL-REQ-0204"
    right = client.post(URL, content=body, headers={"SOAPAction": '"urn:corelink:cif:v7#Login"'})
    assert right.status_code == 200 and "SessionToken" in right.text


def test_answers_are_as_slow_as_configured(client: httpx.Client, control: httpx.Client) -> None:
    body = ENVELOPE.format(body=LOGIN.format(p="switchboard-core-pass")).encode()
    control.put("/_chaos/core/config", json={"service_ms": 300}).raise_for_status()
    started = time.perf_counter()
    assert client.post(URL, content=body).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_the_batch_window_schedule_is_checked_and_never_echoed(control: httpx.Client) -> None:
    bad = control.put("/_chaos/core/batch-window", json={"nightly": "25:00-zq7"})
    assert bad.status_code == 422 and "zq7" not in bad.text and "nightly" in bad.text
    assert (
        control.put("/_chaos/core/batch-window", json={"nightly": "23:30-00:15"}).json()["nightly"]
        == "23:30-00:15"
    )
    assert control.post("/_chaos/core/batch-window", json={"seconds": 0}).status_code == 422


# -- the layer's client ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def core(mocks_url: str, transport: Transport) -> AsyncIterator[tuple[CoreSoapClient, Clock]]:
    clock = Clock()
    client = CoreSoapClient(transport, f"{mocks_url}/core", VendorCredentials(), clock=clock)
    yield client, clock
    await client.aclose()


def attempt() -> Attempt:
    return Attempt(number=1, timeout_s=5.0)


async def test_the_client_reads_holdings_that_agree_with_the_dataset(
    core: tuple[CoreSoapClient, Clock], chaos: httpx.AsyncClient, enterprise: MockEnterprise
) -> None:
    client, _ = core
    dataset = enterprise.context.dataset
    customer = next(
        c for c in dataset.customers if dataset.bank_accounts_for_customer(c.customer_id)
    )
    holdings = await client.customer_holdings(attempt(), customer.customer_id)
    assert holdings["customer_number"] == customer.customer_id
    assert holdings["segment"] == customer.segment
    by_number = {a["account_number"]: a for a in holdings["accounts"]}
    for account in dataset.bank_accounts_for_customer(customer.customer_id):
        mine = by_number[account.account_number]
        assert mine["ledger_balance_cents"] == account.balance_cents
        assert (mine["type"], mine["status"]) == (account.type, account.status)
        assert mine["available_balance_cents"] <= mine["ledger_balance_cents"]
    await client.customer_holdings(attempt(), customer.customer_id)
    assert (await chaos.get("/_chaos/core/config")).json()["sessions_live"] == 1  # one Login
    with pytest.raises(NotFound):
        await client.customer_holdings(attempt(), "C9999999")


async def test_an_expired_session_is_renewed_inside_the_attempt(
    core: tuple[CoreSoapClient, Clock], chaos: httpx.AsyncClient
) -> None:
    client, _ = core
    await client.customer_holdings(attempt(), "C0000001")
    assert (await chaos.post("/_chaos/core/sessions/expire")).json() == {"expired": 1}
    holdings = await client.customer_holdings(attempt(), "C0000001")
    assert holdings["customer_number"] == "C0000001"


async def test_the_batch_window_closes_the_core_until_it_ends(
    core: tuple[CoreSoapClient, Clock], chaos: httpx.AsyncClient
) -> None:
    client, clock = core
    await client.customer_holdings(attempt(), "C0000001")
    (await chaos.post("/_chaos/core/batch-window", json={"seconds": 90})).raise_for_status()
    first = attempt()
    with pytest.raises(SourceClosed) as refused:
        await client.customer_holdings(first, "C0000001")
    assert refused.value.retry_after_s is not None and 60 <= refused.value.retry_after_s <= 90
    assert first.status == 503 and first.injected_fault == "batch_window"
    for _ in range(5):  # not one more request while the window is open
        local = attempt()
        with pytest.raises(SourceClosed):
            await client.customer_holdings(local, "C0000001")
        assert local.status is None and local.injected_fault == "batch_window"
    assert (await chaos.get("/_chaos/core/batch-window")).json()["refused"] == 1
    (await chaos.delete("/_chaos/core/batch-window")).raise_for_status()
    clock.now += 91  # the window the core announced is over: ask again
    assert (await client.customer_holdings(attempt(), "C0000001"))["accounts"] is not None


async def test_an_injected_fault_is_the_matching_source_error(
    core: tuple[CoreSoapClient, Clock], chaos: httpx.AsyncClient
) -> None:
    client, _ = core
    profile = {"errors": {"rate": 1.0, "kinds": {"503": 1.0}}}
    (await chaos.put("/_chaos/systems/core", json=profile)).raise_for_status()
    failed = attempt()
    with pytest.raises(SourceUnavailable):
        await client.customer_holdings(failed, "C0000001")
    assert failed.status == 503 and failed.injected_fault == "503"


# -- the layer during a batch window -----------------------------------------------------


@pytest.fixture
def layer_api(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[httpx.Client]:
    # Roomy time limits: this is about the batch window, not about a loaded machine's speed.
    roomy = quick_policies(tmp_path, core={"timeout": {"per_attempt_ms": 2000}})
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=roomy) as (_, http):
        yield http


def start(api: httpx.Client, phone: str) -> dict[str, Any]:
    response = api.post("/calls", json={"phone": phone, "deadline_ms": 4000})
    response.raise_for_status()
    view: dict[str, Any] = response.json()["view"]
    return view


def test_a_lookup_in_the_batch_window_answers_from_cache_and_leaves_the_core_alone(
    layer_api: httpx.Client, control: httpx.Client, enterprise: MockEnterprise
) -> None:
    dataset = enterprise.context.dataset
    seen = (
        c for c in dataset.customers[20:] if len(dataset.contacts_for_customer(c.customer_id)) == 1
    )
    warm = next(seen)  # a fresh layer's first lookup opens every connection and session
    start(layer_api, warm.phone_e164)
    first = next(seen)
    live = start(layer_api, first.phone_e164)
    assert live["holdings"]["provenance"]["status"] == "live"
    assert live["holdings"]["value"]["customer_number"] == first.customer_id
    control.post("/_chaos/core/batch-window", json={"seconds": 120}).raise_for_status()

    cached = start(layer_api, first.phone_e164)
    holdings = cached["holdings"]["provenance"]
    assert (holdings["status"], holdings["reason"]) == ("cached", "batch_window")
    assert holdings["injected_fault"] == "batch_window"
    assert cached["holdings"]["value"] == live["holdings"]["value"]
    assert cached["recommendation"]["action"] == "carry_on"  # holdings are not essential
    for _ in range(3):
        new = next(seen)
        view = start(layer_api, new.phone_e164)
        assert view["holdings"]["provenance"]["status"] == "missing"
        assert view["contact"]["provenance"]["status"] == "live"
    assert control.get("/_chaos/core/batch-window").json()["refused"] == 1
