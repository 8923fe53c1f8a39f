"""The loan origination mock over real HTTP: applications, paperwork, the stage machine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mocks.dataset import LOAN_DOCUMENTS
from mocks.settings import MockCredentials
from tests.live._problem_helpers import PROBLEM_FIELDS, assert_problem, ledger_of

API = "/loans/api/v1"
KEY = {"X-Api-Key": MockCredentials().loans_api_key}
ledger = ledger_of("loans")


def apply_for(
    client: httpx.Client,
    product: str = "LOAN-PERSONAL",
    amount: int = 1_500_000,
    key: str | None = None,
) -> httpx.Response:
    body = {"customer_id": "C0000001", "product_code": product, "amount_cents": amount}
    headers = {**KEY, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"{API}/applications", json=body, headers=headers)


def new_application(client: httpx.Client, product: str = "LOAN-PERSONAL") -> dict[str, Any]:
    response = apply_for(client, product)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def move(client: httpx.Client, app_id: str, to: str, **headers: str) -> httpx.Response:
    return client.post(
        f"{API}/applications/{app_id}/transitions",
        json={"to": to, "reason": f"test moves it to {to}"},
        headers={**KEY, **headers},
    )


def mark(
    client: httpx.Client, app_id: str, name: str, status: str, **headers: str
) -> httpx.Response:
    return client.put(
        f"{API}/applications/{app_id}/documents/{name}",
        json={"status": status},
        headers={**KEY, **headers},
    )


# -- auth and faults ---------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": MockCredentials().erp_api_key}])
def test_missing_or_wrong_api_key_is_a_401_problem(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    response = client.get(f"{API}/applications", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS and body["title"] == "Unauthorized"


def test_injected_faults_keep_the_problem_shape(
    control: httpx.Client, client: httpx.Client
) -> None:
    profile = {"errors": {"rate": 1, "kinds": {"429": 1}, "retry_after_s": 2}}
    control.put("/_chaos/systems/loans", json=profile).raise_for_status()
    response = client.get(f"{API}/applications", headers=KEY)
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert response.headers["x-injected-fault"] == "429"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS and body["title"] == "Too Many Requests"


def test_unknown_endpoints_and_methods_are_problems_too(client: httpx.Client) -> None:
    assert_problem(client.get(f"{API}/nothing-here", headers=KEY), 404)
    wrong = client.delete(f"{API}/applications", headers=KEY)
    assert_problem(wrong, 405)
    assert wrong.headers["allow"] == "GET, POST"


# -- reads -------------------------------------------------------------------------------


def test_applications_filter_by_stage_and_customer(client: httpx.Client) -> None:
    funded = client.get(
        f"{API}/applications", params={"stage": "funded", "limit": 100}, headers=KEY
    ).json()["data"]
    assert funded and all(a["stage"] == "funded" for a in funded)
    customer = funded[0]["customer_id"]
    mine = client.get(f"{API}/applications", params={"customer_id": customer}, headers=KEY).json()
    assert mine["data"] and all(a["customer_id"] == customer for a in mine["data"])
    assert_problem(
        client.get(f"{API}/applications", params={"stage": "paid"}, headers=KEY), 422, "stage"
    )


def test_pages_cover_every_application_once(client: httpx.Client) -> None:
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 40, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{API}/applications", params=params, headers=KEY).json()
        ids += [a["application_id"] for a in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) > 40


def test_a_seeded_funded_application_shows_its_whole_history(client: httpx.Client) -> None:
    summary = client.get(f"{API}/applications", params={"stage": "funded"}, headers=KEY).json()[
        "data"
    ][0]
    response = client.get(f"{API}/applications/{summary['application_id']}", headers=KEY)
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    application = response.json()["data"]
    walk = [(h["from"], h["to"]) for h in application["history"]]
    assert walk == [
        (None, "submitted"),
        ("submitted", "underwriting"),
        ("underwriting", "approved"),
        ("approved", "funded"),
    ]
    stamps = [h["at"] for h in application["history"]]
    assert stamps == sorted(stamps)
    assert application["allowed_transitions"] == []
    assert all(doc["status"] == "verified" for doc in application["documents"])


def test_unknown_application_and_document_are_404(client: httpx.Client) -> None:
    assert_problem(client.get(f"{API}/applications/LN00000000", headers=KEY), 404, "application_id")
    app_id = new_application(client)["application_id"]
    body = assert_problem(mark(client, app_id, "passport", "received"), 404, "name")
    assert "government_id" in body["detail"]


# -- submitting --------------------------------------------------------------------------


def test_a_new_application_starts_submitted_with_its_paperwork_missing(
    client: httpx.Client, control: httpx.Client
) -> None:
    response = apply_for(client, "LOAN-AUTO", 2_000_000)
    assert response.status_code == 201, response.text
    application = response.json()["data"]
    assert application["stage"] == "submitted"
    assert application["allowed_transitions"] == ["underwriting"]
    names = [doc["name"] for doc in application["documents"]]
    assert names == list(LOAN_DOCUMENTS["LOAN-AUTO"])
    assert {doc["status"] for doc in application["documents"]} == {"missing"}
    assert [(h["from"], h["to"]) for h in application["history"]] == [(None, "submitted")]
    assert response.headers["location"] == f"{API}/applications/{application['application_id']}"
    entries = ledger(control, "application.create")["entries"]
    assert [e["resource"] for e in entries] == [application["application_id"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_id": "C9999999"}, "customer_id"),
        ({"product_code": "CARD-GOLD"}, "product_code"),
        ({"product_code": "LOAN-NOPE"}, "product_code"),
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": -5}, "amount_cents"),
        ({"amount_cents": 50_000 * 100 + 1}, "amount_cents"),
        ({"amount_cents": "lots"}, "amount_cents"),
        ({"term_months": 12}, "*"),  # a key the API does not define is never echoed
    ],
)
def test_bad_applications_are_422_naming_the_field(
    client: httpx.Client, control: httpx.Client, changes: dict[str, Any], field: str
) -> None:
    body = {
        "customer_id": "C0000001",
        "product_code": "LOAN-PERSONAL",
        "amount_cents": 1_000_000,
        **changes,
    }
    assert_problem(client.post(f"{API}/applications", json=body, headers=KEY), 422, field)
    assert ledger(control, "application.create")["count"] == 0


def test_a_retried_application_is_created_once(client: httpx.Client, control: httpx.Client) -> None:
    first = apply_for(client, key="apply-1")
    again = apply_for(client, key="apply-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert ledger(control, "application.create")["count"] == 1
    other = apply_for(client, amount=2_000_000, key="apply-1")
    assert_problem(other, 422, "Idempotency-Key")


# -- the stage machine -------------------------------------------------------------------


def test_the_whole_walk_from_submitted_to_funded(
    client: httpx.Client, control: httpx.Client
) -> None:
    application = new_application(client)
    app_id = application["application_id"]
    names = [doc["name"] for doc in application["documents"]]
    assert move(client, app_id, "underwriting").status_code == 200
    early = assert_problem(
        move(client, app_id, "approved"), 409, *(f"documents.{name}" for name in names)
    )
    assert early["unverified_documents"] == names
    for name in names:
        assert mark(client, app_id, name, "received").status_code == 200
    assert mark(client, app_id, names[0], "verified").status_code == 200
    still = assert_problem(move(client, app_id, "approved"), 409)
    assert still["unverified_documents"] == names[1:]
    for name in names[1:]:
        assert mark(client, app_id, name, "verified").status_code == 200
    approved = move(client, app_id, "approved")
    assert approved.status_code == 200
    assert approved.json()["data"]["allowed_transitions"] == ["funded"]
    funded = move(client, app_id, "funded").json()["data"]
    assert funded["stage"] == "funded" and funded["allowed_transitions"] == []
    walk = [(h["from"], h["to"], h["reason"]) for h in funded["history"]][1:]
    assert walk == [
        ("submitted", "underwriting", "test moves it to underwriting"),
        ("underwriting", "approved", "test moves it to approved"),
        ("approved", "funded", "test moves it to funded"),
    ]
    stamps = [h["at"] for h in funded["history"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert ledger(control, "application.transition")["count"] == 3
    assert ledger(control, "document.update")["count"] == 2 * len(names)
    final = assert_problem(move(client, app_id, "declined"), 409, "to")
    assert final["allowed_transitions"] == []


@pytest.mark.parametrize(
    ("walk", "to", "allowed"),
    [
        ((), "approved", ["underwriting"]),
        ((), "funded", ["underwriting"]),
        (("underwriting",), "funded", ["approved", "declined"]),
        (("underwriting", "declined"), "underwriting", []),
        ((), "submitted", ["underwriting"]),
    ],
)
def test_illegal_transitions_are_409_naming_from_to_and_allowed(
    client: httpx.Client, walk: tuple[str, ...], to: str, allowed: list[str]
) -> None:
    app_id = new_application(client)["application_id"]
    for stage in walk:
        assert move(client, app_id, stage).status_code == 200
    body = assert_problem(move(client, app_id, to), 409, "to")
    current = walk[-1] if walk else "submitted"
    assert body["current_stage"] == current and body["requested_stage"] == to
    assert body["allowed_transitions"] == allowed
    assert current in body["detail"] and to in body["detail"]


def test_unknown_stage_or_document_status_is_422(client: httpx.Client) -> None:
    app_id = new_application(client)["application_id"]
    assert_problem(move(client, app_id, "paid"), 422, "to")
    assert_problem(mark(client, app_id, "government_id", "missing"), 422, "status")


def test_documents_lock_once_a_decision_is_made(client: httpx.Client) -> None:
    app_id = new_application(client)["application_id"]
    move(client, app_id, "underwriting")
    assert move(client, app_id, "declined").status_code == 200
    body = assert_problem(mark(client, app_id, "government_id", "verified"), 409)
    assert body["current_stage"] == "declined"


def test_retried_transitions_and_document_updates_apply_once(
    client: httpx.Client, control: httpx.Client
) -> None:
    app_id = new_application(client)["application_id"]
    first = move(client, app_id, "underwriting", **{"Idempotency-Key": "uw-1"})
    again = move(client, app_id, "underwriting", **{"Idempotency-Key": "uw-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert ledger(control, "application.transition")["count"] == 1
    for _ in range(2):
        assert (
            mark(
                client, app_id, "government_id", "received", **{"Idempotency-Key": "doc-1"}
            ).status_code
            == 200
        )
    assert mark(client, app_id, "government_id", "received").status_code == 200  # no change
    entries = ledger(control, "document.update")["entries"]
    assert len(entries) == 1 and entries[0]["resource"] == app_id
    assert entries[0]["detail"]["document"] == "government_id"


def test_a_stale_if_match_is_412(client: httpx.Client) -> None:
    app_id = new_application(client)["application_id"]
    assert move(client, app_id, "underwriting", **{"If-Match": '"1"'}).status_code == 200
    stale = mark(client, app_id, "government_id", "received", **{"If-Match": '"1"'})
    assert_problem(stale, 412, "If-Match")
    assert stale.headers["etag"] == '"2"'
