"""The eligibility API: verdicts that follow from the dataset, its errors, auth, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mocks.dataset import Customer, Dataset, Product
from mocks.registry import MockEnterprise

CHECKS = "/eligibility/v1/checks"


@pytest.fixture
def dataset(enterprise: MockEnterprise) -> Dataset:
    if "eligibility" not in enterprise.services:
        pytest.skip("the eligibility system is not served (SWITCHBOARD_TEST_SYSTEMS)")
    return enterprise.context.dataset


@pytest.fixture
def api(client: httpx.Client, enterprise: MockEnterprise) -> httpx.Client:
    client.headers["X-Api-Key"] = enterprise.context.settings.credentials.eligibility_api_key
    return client


def _product(ds: Dataset, code: str) -> Product:
    product = ds.product_by_code(code)
    assert product is not None
    return product


def _first(ds: Dataset, wanted: Callable[[Customer], bool]) -> Customer:
    found = next((c for c in ds.customers if wanted(c)), None)
    assert found is not None, "the dataset has no such customer"
    return found


def _clean_record(ds: Dataset, c: Customer) -> bool:
    """No frozen account and no loans, so nothing but score and income decides."""
    frozen = any(a.status == "frozen" for a in ds.bank_accounts_for_customer(c.customer_id))
    return not frozen and not ds.loans_for_customer(c.customer_id)


def _check(
    api: httpx.Client, customer: str, product: str, amount: int | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"customer_id": customer, "product_code": product}
    if amount is not None:
        body["amount_cents"] = amount
    return api.post(CHECKS, json=body, headers=headers)


def test_a_strong_applicant_is_eligible(api: httpx.Client, dataset: Dataset) -> None:
    gold = _product(dataset, "CARD-GOLD")
    strong = _first(
        dataset,
        lambda c: (
            c.credit_score >= gold.min_credit_score + 100
            and c.annual_income >= 2 * gold.min_income
            and _clean_record(dataset, c)
        ),
    )
    response = _check(api, strong.customer_id, gold.code)
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["decision"] == "eligible"
    assert [r["code"] for r in check["reasons"]] == ["meets_criteria"]
    assert gold.max_amount_cents is not None and gold.apr_bps is not None
    assert 0 < check["max_amount_cents"] <= gold.max_amount_cents
    assert check["apr_bps"] >= gold.apr_bps
    assert check["check_id"].startswith("chk_") and check["evaluated_at"].endswith("Z")
    assert api.get(f"{CHECKS}/{check['check_id']}").json() == check


def test_a_low_score_is_ineligible_with_the_reason(api: httpx.Client, dataset: Dataset) -> None:
    gold = _product(dataset, "CARD-GOLD")
    weak = _first(
        dataset,
        lambda c: c.credit_score < gold.min_credit_score and c.annual_income >= gold.min_income,
    )
    check = _check(api, weak.customer_id, gold.code).json()
    assert check["decision"] == "ineligible"
    reason = next(r for r in check["reasons"] if r["code"] == "credit_score_below_minimum")
    assert str(weak.credit_score) in reason["message"]
    assert check["max_amount_cents"] is None and check["apr_bps"] is None


def test_asking_for_more_than_the_limit_is_ineligible(api: httpx.Client, dataset: Dataset) -> None:
    loan = _product(dataset, "LOAN-PERSONAL")
    able = _first(
        dataset,
        lambda c: (
            c.credit_score >= loan.min_credit_score
            and c.annual_income >= loan.min_income
            and _clean_record(dataset, c)
        ),
    )
    limit = _check(api, able.customer_id, loan.code).json()["max_amount_cents"]
    over = _check(api, able.customer_id, loan.code, limit + 100).json()
    assert over["decision"] == "ineligible"
    assert [r["code"] for r in over["reasons"]] == ["amount_above_maximum"]
    assert over["max_amount_cents"] == limit
    assert _check(api, able.customer_id, loan.code, limit).json()["decision"] == "eligible"


def test_a_frozen_account_sends_the_check_to_review(api: httpx.Client, dataset: Dataset) -> None:
    frozen = next(a for a in dataset.bank_accounts if a.status == "frozen")
    check = _check(api, frozen.customer_id, "ACCT-CHECKING").json()
    assert check["decision"] == "review"
    assert "account_frozen" in [r["code"] for r in check["reasons"]]


def test_the_catalog_is_the_datasets(api: httpx.Client, dataset: Dataset) -> None:
    listed = api.get("/eligibility/v1/products").json()["products"]
    assert [p["code"] for p in listed] == [p.code for p in dataset.products]
    assert listed[0]["min_credit_score"] == dataset.products[0].min_credit_score


def test_unknown_customer_product_and_check(api: httpx.Client, dataset: Dataset) -> None:
    missing = _check(api, "C9999999", "LOAN-PERSONAL")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "customer_not_found"
    product = _check(api, dataset.customers[0].customer_id, "LOAN-YACHT")
    assert product.status_code == 422
    assert product.json()["error"]["param"] == "product_code"
    assert "LOAN-YACHT" not in product.json()["error"]["message"]  # never echoed
    unknown = api.get(f"{CHECKS}/chk_nope")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "check_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_code": "LOAN-AUTO"}, "customer_id"),
        (
            {"customer_id": "C0000001", "product_code": "LOAN-AUTO", "amount_cents": -5},
            "amount_cents",
        ),
        (
            {"customer_id": "C0000001", "product_code": "LOAN-AUTO", "amount_cents": "lots"},
            "amount_cents",
        ),
        # A key the API does not define is never echoed: its place reads "*".
        ({"customer_id": "C0000001", "product_code": "LOAN-AUTO", "colour": "red"}, "*"),
    ],
)
def test_invalid_bodies_name_the_field(
    api: httpx.Client, dataset: Dataset, body: dict[str, Any], field: str
) -> None:
    response = api.post(CHECKS, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", field)
    assert field in error["message"]


def test_a_body_that_is_not_json(api: httpx.Client, dataset: Dataset) -> None:
    response = api.post(CHECKS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "body"


def test_the_api_key_is_required(client: httpx.Client, dataset: Dataset) -> None:
    body = {"customer_id": dataset.customers[0].customer_id, "product_code": "LOAN-AUTO"}
    missing = client.post(CHECKS, json=body)
    assert missing.status_code == 401
    expected = {"error": {"code": "unauthorized", "message": "Missing X-Api-Key header"}}
    assert missing.json() == expected
    wrong = client.get("/eligibility/v1/products", headers={"X-Api-Key": "guess"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"


def _ledger(control: httpx.Client) -> dict[str, Any]:
    ledger: dict[str, Any] = control.get(
        "/_mock/eligibility/ledger", params={"operation": "check.create"}
    ).json()
    return ledger


def test_a_replay_returns_the_same_check_and_records_once(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    customer = dataset.customers[1].customer_id
    first = _check(api, customer, "LOAN-AUTO", 500_000, **{"Idempotency-Key": "elig-1"})
    again = _check(api, customer, "LOAN-AUTO", 500_000, **{"Idempotency-Key": "elig-1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["check_id"] == first.json()["check_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    ledger = _ledger(control)
    assert ledger["count"] == 1 and ledger["entries"][0]["idempotency_key"] == "elig-1"
    assert ledger["entries"][0]["resource"] == first.json()["check_id"]
    reused = _check(api, customer, "LOAN-AUTO", 600_000, **{"Idempotency-Key": "elig-1"})
    assert reused.status_code == 400
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    fresh = _check(api, customer, "LOAN-AUTO", 500_000)
    assert fresh.json()["check_id"] != first.json()["check_id"]
    assert _ledger(control)["count"] == 2


def test_injected_faults_use_the_same_envelope(
    api: httpx.Client, control: httpx.Client, dataset: Dataset
) -> None:
    profile = {"errors": {"rate": 1.0, "kinds": {"503": 1.0}}}
    control.put("/_chaos/systems/eligibility", json=profile).raise_for_status()
    response = api.get("/eligibility/v1/products")
    assert response.status_code == 503
    assert response.headers["X-Injected-Fault"] == "503"
    assert response.json()["error"]["code"] == "unavailable"
