"""The integration gateway over real HTTP: it maps its sources' records, wraps their errors
in its own with a correlation id, passes writes through once, and drops or mangles a field
on demand."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mocks.middleware.mapping import canonical_application, canonical_order
from mocks.settings import MockCredentials

API = "/middleware/api/v1"
CREDS = MockCredentials()
GATEWAY = {
    "client_id": CREDS.middleware_client_id,
    "client_secret": CREDS.middleware_client_secret,
}
LOANS = {"X-Api-Key": CREDS.loans_api_key}
ERP = {"X-Api-Key": CREDS.erp_api_key}


def a_borrower(client: httpx.Client, stage: str | None = None) -> dict[str, Any]:
    query = f"?stage={stage}&limit=1" if stage else "?limit=1"
    found = client.get(f"/loans/api/v1/applications{query}", headers=LOANS).json()["data"]
    assert found, "the dataset has loan applications"
    return dict(found[0])


def assert_gateway_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["code"] == code
    assert len(error["correlationId"]) == 16
    return dict(error)


def test_loan_applications_come_back_in_the_canonical_shape(client: httpx.Client) -> None:
    customer = a_borrower(client)["customer_id"]
    direct = client.get(
        "/loans/api/v1/applications", params={"customer_id": customer}, headers=LOANS
    ).json()["data"]
    response = client.get(f"{API}/customers/{customer}/loan-applications", headers=GATEWAY)
    assert response.status_code == 200, response.text
    assert len(response.headers["x-correlation-id"]) == 16
    body = response.json()
    assert body["customerRef"] == customer
    assert body["items"] == [canonical_application(record) for record in direct]
    first = body["items"][0]
    assert first["status"] == direct[0]["stage"].upper()
    assert first["amount"]["value"] == f"{direct[0]['amount_cents'] / 100:.2f}"


def test_orders_come_back_in_the_canonical_shape(client: httpx.Client) -> None:
    order = client.get("/erp/api/v1/orders?limit=1", headers=ERP).json()["data"][0]
    customer = order["customer_id"]
    direct = client.get(
        "/erp/api/v1/orders", params={"customer_id": customer, "limit": 100}, headers=ERP
    ).json()["data"]
    body = client.get(f"{API}/customers/{customer}/orders", headers=GATEWAY).json()
    assert body["items"] == [canonical_order(record) for record in direct]
    assert "order_id" not in body["items"][0] and body["items"][0]["orderId"]


def test_without_its_credentials_the_gateway_refuses_in_its_own_shape(
    client: httpx.Client,
) -> None:
    for headers in ({}, {**GATEWAY, "client_secret": "wrong"}):
        response = client.get(f"{API}/customers/C0000001/orders", headers=headers)
        assert_gateway_error(response, 401, "UNAUTHORIZED")


def test_a_source_outage_is_a_502_with_a_correlation_id(
    client: httpx.Client, control: httpx.Client
) -> None:
    customer = a_borrower(client)["customer_id"]
    control.post("/_chaos/systems/loans/outage", json={"seconds": 30}).raise_for_status()
    response = client.get(f"{API}/customers/{customer}/loan-applications", headers=GATEWAY)
    error = assert_gateway_error(response, 502, "SOURCE_UNAVAILABLE")
    assert error["source"] == {"system": "loans", "status": 503}
    assert response.headers["x-correlation-id"] == error["correlationId"]
    assert response.headers["x-injected-fault"] == "outage"
    seen = control.get("/_mock/middleware/exchanges").json()["exchanges"][-1]
    assert seen["correlation_id"] == error["correlationId"] and seen["outcome"] == "wrapped"
    # The other source is untouched.
    assert client.get(f"{API}/customers/{customer}/orders", headers=GATEWAY).status_code == 200


def test_the_gateways_own_faults_come_in_its_shape(
    client: httpx.Client, control: httpx.Client
) -> None:
    control.post("/_chaos/systems/middleware/outage", json={"seconds": 30}).raise_for_status()
    response = client.get(f"{API}/customers/C0000001/orders", headers=GATEWAY)
    assert_gateway_error(response, 503, "UNAVAILABLE")
    assert response.headers["x-injected-fault"] == "outage"


def test_a_status_change_goes_through_once_per_key(
    client: httpx.Client, control: httpx.Client
) -> None:
    application = a_borrower(client, stage="submitted")
    path = f"{API}/loan-applications/{application['application_id']}/status"
    headers = {**GATEWAY, "Idempotency-Key": "sb:mw-test:loan"}
    first = client.post(path, json={"status": "UNDERWRITING"}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "UNDERWRITING"
    again = client.post(path, json={"status": "UNDERWRITING"}, headers=headers)
    assert again.json() == first.json()
    loans = control.get("/_mock/loans/ledger").json()
    gateway = control.get("/_mock/middleware/ledger").json()
    assert loans["count"] == 1 and loans["duplicate_keys"] == []
    assert (
        gateway["count"] == 1
        and gateway["entries"][0]["idempotency_key"] == headers["Idempotency-Key"]
    )
    # A move the source's stage machine refuses: the gateway's 422, not the source's 409.
    refused = client.post(path, json={"status": "FUNDED"}, headers=GATEWAY)
    assert_gateway_error(refused, 422, "SOURCE_REJECTED")
    missing = client.post(f"{API}/loan-applications/NOPE1/status", json={"status": "FUNDED"})
    assert missing.status_code == 401
    unknown = client.post(
        f"{API}/loan-applications/NOPE1/status", json={"status": "FUNDED"}, headers=GATEWAY
    )
    assert_gateway_error(unknown, 404, "NOT_FOUND")


def test_bad_input_is_a_400_naming_the_field_without_echoing_it(client: httpx.Client) -> None:
    response = client.post(
        f"{API}/loan-applications/A1/status", json={"status": "zq7echo"}, headers=GATEWAY
    )
    error = assert_gateway_error(response, 400, "INVALID_REQUEST")
    assert error["field"] == "status" and "zq7echo" not in response.text
    key = {**GATEWAY, "Idempotency-Key": "caf\xe9zq7echo".encode("latin-1")}
    response = client.post(
        f"{API}/loan-applications/A1/status", json={"status": "FUNDED"}, headers=key
    )
    error = assert_gateway_error(response, 400, "INVALID_REQUEST")
    assert error["field"] == "idempotency-key" and "zq7echo" not in response.text
    response = client.get(f"{API}/customers/zq7echo!/orders", headers=GATEWAY)
    error = assert_gateway_error(response, 400, "INVALID_REQUEST")
    assert error["field"] == "customer_id" and "zq7echo" not in response.text


@pytest.mark.parametrize("action", ["drop", "mangle"])
def test_a_field_fault_drops_or_mangles_the_field_until_cleared(
    client: httpx.Client, control: httpx.Client, action: str
) -> None:
    customer = a_borrower(client)["customer_id"]
    fault = {"route": "loan_applications", "field": "status", "action": action}
    control.put("/_chaos/middleware/transform", json={"faults": [fault]}).raise_for_status()
    url = f"{API}/customers/{customer}/loan-applications"
    response = client.get(url, headers=GATEWAY)
    assert response.status_code == 200
    assert response.headers["x-injected-fault"] == f"field_{action}_status"
    first = response.json()["items"][0]
    if action == "drop":
        assert "status" not in first
    else:
        assert first["status"] == "#[payload.status]"
    assert first["applicationId"]  # only the named field is touched
    kind = "dropped" if action == "drop" else "mangled"
    assert control.get("/_mock/middleware/stats").json()["counts"][kind] == 1
    stats = control.get("/_chaos/stats").json()["systems"]["middleware"]
    assert stats["faults_by_kind"][f"field_{kind}"] == 1
    # Only its route: orders are mapped faithfully.
    orders = client.get(f"{API}/customers/{customer}/orders", headers=GATEWAY)
    assert "x-injected-fault" not in orders.headers
    control.post("/_chaos/reset").raise_for_status()
    assert control.get("/_chaos/middleware/transform").json() == {"faults": []}
    assert "status" in client.get(url, headers=GATEWAY).json()["items"][0]


def test_a_field_fault_must_name_a_field_of_its_route(control: httpx.Client) -> None:
    fault = {"route": "orders", "field": "zq7echo", "action": "drop"}
    response = control.put("/_chaos/middleware/transform", json={"faults": [fault]})
    assert response.status_code == 422 and "zq7echo" not in response.text
    assert "orderId" in response.text
    unguarded = httpx.put(
        f"{control.base_url}/_chaos/middleware/transform", json={"faults": []}, timeout=5
    )
    assert unguarded.status_code == 401
