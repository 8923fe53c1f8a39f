"""The ERP mock over real HTTP: orders, stock, shipping, ETags, idempotency, problem+json."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mocks.settings import MockCredentials
from tests.live._problem_helpers import PROBLEM_FIELDS, assert_problem, ledger_of

API = "/erp/api/v1"
KEY = {"X-Api-Key": MockCredentials().erp_api_key}
ledger = ledger_of("erp")


def stocked_item(client: httpx.Client, at_least: int = 3) -> dict[str, Any]:
    items = client.get(
        f"{API}/inventory", params={"in_stock": "true", "limit": 100}, headers=KEY
    ).json()["data"]
    return next(item for item in items if item["available"] >= at_least)


def item(client: httpx.Client, sku: str) -> dict[str, Any]:
    return client.get(f"{API}/inventory/{sku}", headers=KEY).json()["data"]


def place_order(
    client: httpx.Client, sku: str, quantity: int = 1, **headers: str
) -> httpx.Response:
    body = {"customer_id": "C0000001", "lines": [{"sku": sku, "quantity": quantity}]}
    return client.post(f"{API}/orders", json=body, headers={**KEY, **headers})


def patch(
    client: httpx.Client, order_id: str, status: str, if_match: str | None, **headers: str
) -> httpx.Response:
    extra = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(
        f"{API}/orders/{order_id}", json={"status": status}, headers={**KEY, **extra, **headers}
    )


# -- auth and faults ---------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
def test_missing_or_wrong_api_key_is_a_401_problem(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.get(f"{API}/orders", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["title"] == "Unauthorized" and "X-Api-Key" in body["detail"]


def test_injected_faults_keep_the_problem_shape(
    control: httpx.Client, client: httpx.Client
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {"503": 1}}}
    control.put("/_chaos/systems/erp", json=profile).raise_for_status()
    response = client.get(f"{API}/inventory", headers=KEY)
    assert response.status_code == 503
    assert response.headers["x-injected-fault"] == "503"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == 503 and body["title"] == "Service Unavailable"


# -- reads -------------------------------------------------------------------------------


def test_orders_page_newest_first_until_the_cursor_runs_out(client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(400):
        params: dict[str, Any] = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{API}/orders", params=params, headers=KEY).json()
        seen.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [order["order_id"] for order in seen]
    assert len(ids) == len(set(ids)) > 100
    created = [order["created_at"] for order in seen]
    assert created == sorted(created, reverse=True)


def test_orders_filter_by_customer_and_status(client: httpx.Client) -> None:
    delivered = client.get(f"{API}/orders", params={"status": "delivered"}, headers=KEY).json()
    customer = delivered["data"][0]["customer_id"]
    mine = client.get(f"{API}/orders", params={"customer_id": customer}, headers=KEY).json()
    assert mine["data"] and all(o["customer_id"] == customer for o in mine["data"])
    assert all(o["status"] == "delivered" for o in delivered["data"])
    shipped = [o for o in mine["data"] if o["status"] in ("shipped", "delivered")]
    assert all(o["fulfilments"][0]["tracking_number"] for o in shipped)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(
    client: httpx.Client, params: dict[str, Any], field: str
) -> None:
    assert_problem(client.get(f"{API}/orders", params=params, headers=KEY), 422, field)


def test_one_order_carries_a_strong_etag_and_honours_if_none_match(client: httpx.Client) -> None:
    order_id = client.get(f"{API}/orders", headers=KEY).json()["data"][0]["order_id"]
    response = client.get(f"{API}/orders/{order_id}", headers=KEY)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"' and response.json()["data"]["version"] == 1
    again = client.get(f"{API}/orders/{order_id}", headers={**KEY, "If-None-Match": '"1"'})
    assert again.status_code == 304


def test_unknown_order_and_sku_are_404_problems(client: httpx.Client) -> None:
    body = assert_problem(client.get(f"{API}/orders/SO00000000", headers=KEY), 404, "order_id")
    assert body["instance"] == f"{API}/orders/{{order_id}}"  # the route, not what was sent
    assert_problem(client.get(f"{API}/inventory/SKU-9999", headers=KEY), 404, "sku")


def test_inventory_pages_in_sku_order_and_filters_by_warehouse(client: httpx.Client) -> None:
    first = client.get(f"{API}/inventory", params={"limit": 20}, headers=KEY).json()
    rest = client.get(
        f"{API}/inventory", params={"limit": 100, "cursor": first["next_cursor"]}, headers=KEY
    ).json()
    skus = [i["sku"] for i in first["data"] + rest["data"]]
    assert skus == sorted(skus) and len(skus) == len(set(skus)) and rest["next_cursor"] is None
    warehouse = first["data"][0]["warehouse"]
    there = client.get(
        f"{API}/inventory", params={"warehouse": warehouse, "limit": 100}, headers=KEY
    ).json()["data"]
    assert there and all(i["warehouse"] == warehouse for i in there)
    one = client.get(f"{API}/inventory/{skus[0]}", headers=KEY)
    assert one.headers["etag"] == f'"{one.json()["data"]["version"]}"'


# -- placing orders ----------------------------------------------------------------------


def test_placing_an_order_reserves_stock(client: httpx.Client, control: httpx.Client) -> None:
    stock = stocked_item(client)
    response = place_order(client, stock["sku"], 2)
    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert order["status"] == "pending" and order["version"] == 1
    assert order["total_cents"] == 2 * stock["unit_price_cents"]
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{API}/orders/{order['order_id']}"
    after = item(client, stock["sku"])
    assert after["reserved"] == stock["reserved"] + 2 and after["on_hand"] == stock["on_hand"]
    assert after["version"] == stock["version"] + 1
    entries = ledger(control, "order.create")["entries"]
    assert [e["resource"] for e in entries] == [order["order_id"]]


def test_more_than_is_available_is_a_409_naming_the_sku(
    client: httpx.Client, control: httpx.Client
) -> None:
    stock = stocked_item(client)
    response = place_order(client, stock["sku"], stock["available"] + 1)
    body = assert_problem(response, 409, "lines[0].quantity")
    assert stock["sku"] in body["detail"] and body["sku"] == stock["sku"]
    assert item(client, stock["sku"])["reserved"] == stock["reserved"]
    assert ledger(control, "order.create")["count"] == 0


def test_unknown_customer_or_sku_is_a_422_naming_the_field(client: httpx.Client) -> None:
    sku = stocked_item(client)["sku"]
    nobody = {"customer_id": "C9999999", "lines": [{"sku": sku, "quantity": 1}]}
    assert_problem(client.post(f"{API}/orders", json=nobody, headers=KEY), 422, "customer_id")
    lines = [{"sku": sku, "quantity": 1}, {"sku": "SKU-NOPE", "quantity": 1}]
    body = {"customer_id": "C0000001", "lines": lines}
    assert_problem(client.post(f"{API}/orders", json=body, headers=KEY), 422, "lines[1].sku")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"customer_id": "C0000001", "lines": [{"sku": "SKU-0101", "quantity": 0}]},
            "lines[0].quantity",
        ),
        ({"customer_id": "C0000001"}, "lines"),
        ({"customer_id": "C0000001", "lines": [], "note": "x"}, "*"),  # never echoed
    ],
)
def test_malformed_order_bodies_are_422_naming_the_field(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert_problem(client.post(f"{API}/orders", json=body, headers=KEY), 422, field)


def test_a_retried_order_is_placed_once(client: httpx.Client, control: httpx.Client) -> None:
    stock = stocked_item(client)
    first = place_order(client, stock["sku"], 1, **{"Idempotency-Key": "order-1"})
    second = place_order(client, stock["sku"], 1, **{"Idempotency-Key": "order-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert item(client, stock["sku"])["reserved"] == stock["reserved"] + 1
    record = ledger(control, "order.create")
    assert record["count"] == 1 and record["entries"][0]["idempotency_key"] == "order-1"
    other = place_order(client, stock["sku"], 2, **{"Idempotency-Key": "order-1"})
    assert_problem(other, 422, "Idempotency-Key")


# -- changing orders ---------------------------------------------------------------------


def test_an_order_walks_to_delivered_and_shipping_takes_stock(
    client: httpx.Client, control: httpx.Client
) -> None:
    stock = stocked_item(client)
    order_id = place_order(client, stock["sku"], 2).json()["data"]["order_id"]
    confirmed = patch(client, order_id, "confirmed", '"1"')
    assert confirmed.status_code == 200 and confirmed.headers["etag"] == '"2"'
    shipment = client.post(
        f"{API}/orders/{order_id}/fulfilments",
        json={"carrier": "UPS"},
        headers={**KEY, "If-Match": '"2"'},
    )
    assert shipment.status_code == 201, shipment.text
    fulfilment = shipment.json()["data"]
    assert fulfilment["tracking_number"].startswith("1Z")
    assert fulfilment["order_status"] == "shipped"
    assert shipment.headers["etag"] == '"3"'
    after = item(client, stock["sku"])
    assert after["on_hand"] == stock["on_hand"] - 2 and after["reserved"] == stock["reserved"]
    delivered = patch(client, order_id, "delivered", '"3"')
    assert delivered.status_code == 200 and delivered.json()["data"]["status"] == "delivered"
    updates = ledger(control, "order.update")["entries"]
    assert [(e["detail"]["from_status"], e["detail"]["to_status"]) for e in updates] == [
        ("pending", "confirmed"),
        ("shipped", "delivered"),
    ]
    shipped = ledger(control, "fulfilment.create")["entries"]
    assert shipped[0]["resource"] == fulfilment["fulfilment_id"]
    assert shipped[0]["detail"]["order_id"] == order_id


def test_cancelling_releases_the_reservation(client: httpx.Client) -> None:
    stock = stocked_item(client)
    order_id = place_order(client, stock["sku"], 3).json()["data"]["order_id"]
    assert patch(client, order_id, "cancelled", '"1"').status_code == 200
    assert item(client, stock["sku"])["reserved"] == stock["reserved"]


def test_writes_without_if_match_are_428(client: httpx.Client, control: httpx.Client) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]
    assert_problem(patch(client, order_id, "confirmed", None), 428, "If-Match")
    ship = client.post(f"{API}/orders/{order_id}/fulfilments", json={"carrier": "DHL"}, headers=KEY)
    assert_problem(ship, 428, "If-Match")
    assert ledger(control, "order.update")["count"] == 0


def test_a_stale_etag_is_412_and_says_the_current_one(client: httpx.Client) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]
    assert patch(client, order_id, "confirmed", '"1"').status_code == 200
    second = patch(client, order_id, "cancelled", '"1"')
    body = assert_problem(second, 412, "If-Match")
    assert body["title"] == "Precondition failed"
    assert second.headers["etag"] == '"2"' and body["current_etag"] == '"2"'
    current = client.get(f"{API}/orders/{order_id}", headers=KEY).json()["data"]
    assert current["status"] == "confirmed"


def test_concurrent_writers_with_one_etag_let_exactly_one_win(
    client: httpx.Client, mocks_url: str
) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]

    def confirm(_: int) -> int:
        with httpx.Client(base_url=mocks_url, timeout=10) as own:
            return patch(own, order_id, "confirmed", '"1"').status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(confirm, range(8)))
    assert statuses == [200] + [412] * 7


def test_a_retried_patch_replays_instead_of_failing_the_precondition(
    client: httpx.Client, control: httpx.Client
) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]
    first = patch(client, order_id, "confirmed", '"1"', **{"Idempotency-Key": "confirm-1"})
    retry = patch(client, order_id, "confirmed", '"1"', **{"Idempotency-Key": "confirm-1"})
    assert first.status_code == retry.status_code == 200
    assert retry.headers["etag"] == '"2"' and retry.headers["idempotent-replayed"] == "true"
    assert ledger(control, "order.update")["count"] == 1


@pytest.mark.parametrize(
    ("walk", "to", "allowed"),
    [
        ((), "delivered", ["confirmed", "cancelled"]),
        (("confirmed",), "shipped", ["shipped", "cancelled"]),
        (("cancelled",), "confirmed", []),
    ],
)
def test_illegal_status_changes_are_409(
    client: httpx.Client, walk: tuple[str, ...], to: str, allowed: list[str]
) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]
    for version, status in enumerate(walk, start=1):
        assert patch(client, order_id, status, f'"{version}"').status_code == 200
    body = assert_problem(patch(client, order_id, to, f'"{len(walk) + 1}"'), 409, "status")
    assert body["requested_status"] == to and body["allowed_transitions"] == allowed


def test_only_confirmed_orders_ship_and_carriers_are_checked(client: httpx.Client) -> None:
    order_id = place_order(client, stocked_item(client)["sku"]).json()["data"]["order_id"]
    url = f"{API}/orders/{order_id}/fulfilments"
    headers = {**KEY, "If-Match": '"1"'}
    assert_problem(client.post(url, json={"carrier": "Pigeon"}, headers=headers), 422, "carrier")
    body = assert_problem(client.post(url, json={"carrier": "FedEx"}, headers=headers), 409)
    assert body["current_status"] == "pending"
