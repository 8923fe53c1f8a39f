"""The shared dataset: determinism, identifiers, and consistency across mock systems.

The mess rates themselves are asserted in test_dataset_mess.py at N=20,000.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers
import pytest

from mocks.dataset import (
    COMPANY_NUMBER,
    PHONE_FORMAT_WEIGHTS,
    PHONE_FORMATS,
    PRODUCTS,
    REFERENCE_NOW,
    SKUS,
    Dataset,
    generate_dataset,
    to_e164,
)
from mocks.dataset._ids import case_safe_suffix
from mocks.dataset.catalog import LOAN_DOCUMENTS
from mocks.dataset.phones import AREA_CODES, EXCHANGES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return generate_dataset(customers=3000, seed=11)


# -- determinism ---------------------------------------------------------------------


def test_same_arguments_give_identical_data() -> None:
    first, second = generate_dataset(500, seed=3), generate_dataset(500, seed=3)
    assert first == second
    assert first.fingerprint() == second.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", first.fingerprint())


def test_seed_and_size_change_the_data() -> None:
    base = generate_dataset(500, seed=3)
    other_seed = generate_dataset(500, seed=4)
    assert other_seed.fingerprint() != base.fingerprint()
    assert other_seed.customers[0] != base.customers[0]
    assert generate_dataset(501, seed=3).fingerprint() != base.fingerprint()


def test_defaults_are_1000_customers_seed_42() -> None:
    ds = generate_dataset()
    assert (len(ds.customers), ds.seed) == (1000, 42)
    assert ds.fingerprint() == generate_dataset(1000, 42).fingerprint()


def test_fingerprint_is_stable_across_processes_and_hash_seeds() -> None:
    # Sets and dicts iterate in hash order, which PYTHONHASHSEED changes per process.
    code = (
        "from mocks.dataset import generate_dataset; print(generate_dataset(300, 5).fingerprint())"
    )
    prints = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert prints == {generate_dataset(300, 5).fingerprint()}


def test_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError):
        generate_dataset(0)


# -- identifiers ---------------------------------------------------------------------


def test_salesforce_suffix_matches_known_ids() -> None:
    assert case_safe_suffix("0015000000Gv7qJ") == "AAR"
    assert case_safe_suffix("001A0000006Vm9r") == "IAC"


@pytest.mark.parametrize(
    ("collection", "attr", "pattern"),
    [
        ("customers", "customer_id", r"C\d{7}"),
        ("crm_accounts", "id", r"001[0-9A-Za-z]{15}"),
        ("crm_contacts", "id", r"003[0-9A-Za-z]{15}"),
        ("crm_leads", "id", r"00Q[0-9A-Za-z]{15}"),
        ("bank_accounts", "account_number", r"ACC\d{9}"),
        ("transactions", "txn_id", r"TXN\d{12}"),
        ("loans", "loan_id", r"LN\d{8}"),
        ("orders", "order_id", r"SO\d{8}"),
        ("calls", "sid", r"CA[0-9a-f]{32}"),
        ("products", "code", r"[A-Z]+(-[A-Z0-9]+)*"),
        ("inventory", "sku", r"SKU-\d{4}"),
    ],
)
def test_ids_are_unique_and_well_formed(
    ds: Dataset, collection: str, attr: str, pattern: str
) -> None:
    ids = [getattr(record, attr) for record in getattr(ds, collection)]
    assert ids and len(set(ids)) == len(ids)
    bad = [i for i in ids if not re.fullmatch(pattern, i)]
    assert not bad, bad[:5]
    if collection.startswith("crm_"):
        assert all(i[15:] == case_safe_suffix(i[:15]) for i in ids)


# -- phones --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(PHONE_FORMATS))
@pytest.mark.parametrize("e164", ["+14155550123", "+12129871234", "+18005550100"])
def test_every_phone_format_parses_back(fmt: str, e164: str) -> None:
    rendered = PHONE_FORMATS[fmt](e164)
    parsed = phonenumbers.parse(rendered, "US")
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
    assert to_e164(rendered) == e164


def test_format_weights_cover_exactly_the_formats() -> None:
    assert set(PHONE_FORMAT_WEIGHTS) == set(PHONE_FORMATS)
    assert sum(PHONE_FORMAT_WEIGHTS.values()) == pytest.approx(1.0)


def test_every_area_code_and_exchange_is_valid() -> None:
    for area in AREA_CODES:
        for exchange in EXCHANGES[::37]:  # every area, a spread of exchanges
            assert phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}{exchange}0142"))
    assert phonenumbers.is_valid_number(phonenumbers.parse(COMPANY_NUMBER))


def test_customer_phones_are_unique_valid_and_disjoint_from_prospects(ds: Dataset) -> None:
    phones = [c.phone_e164 for c in ds.customers]
    assert len(set(phones)) == len(phones)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones[::7])
    prospects = [to_e164(lead.phone) for lead in ds.crm_leads if lead.customer_id is None]
    assert len(prospects) == round(0.1 * len(ds.customers))
    assert len(set(prospects)) == len(prospects)
    assert not set(prospects) & set(phones)


# -- consistency across systems -----------------------------------------------------


def test_crm_records_point_at_their_customer(ds: Dataset) -> None:
    accounts = {a.id: a for a in ds.crm_accounts}
    assert Counter(a.customer_id for a in ds.crm_accounts) == Counter(
        c.customer_id for c in ds.customers
    )
    for contact in ds.crm_contacts:
        customer = ds.customer_by_id(contact.customer_id)
        assert customer is not None
        assert accounts[contact.account_id].customer_id == customer.customer_id
        assert to_e164(contact.phone) == customer.phone_e164
        assert contact.mobile_phone is None or to_e164(contact.mobile_phone) == customer.phone_e164
        assert ds.customer_by_phone(contact.phone) == customer
    for account in ds.crm_accounts:
        customer = ds.customer_by_id(account.customer_id)
        assert customer is not None and to_e164(account.phone) == customer.phone_e164
    for lead in ds.crm_leads:
        if lead.customer_id is not None:
            customer = ds.customer_by_id(lead.customer_id)
            assert customer is not None and to_e164(lead.phone) == customer.phone_e164


def test_every_customer_has_contacts_and_one_to_three_bank_accounts(ds: Dataset) -> None:
    for customer in ds.customers:
        assert 1 <= len(ds.contacts_for_customer(customer.customer_id)) <= 3
        assert 1 <= len(ds.bank_accounts_for_customer(customer.customer_id)) <= 3
        assert ds.customer_by_phone(customer.phone_e164) == customer


def test_banking_loans_orders_reference_known_records(ds: Dataset) -> None:
    customer_ids = {c.customer_id for c in ds.customers}
    accounts = {a.account_number: a for a in ds.bank_accounts}
    assert {a.customer_id for a in ds.bank_accounts} == customer_ids
    assert all(t.account_number in accounts for t in ds.transactions)
    assert all(accounts[t.account_number].opened_at <= t.posted_at for t in ds.transactions)
    assert all(loan.customer_id in customer_ids for loan in ds.loans)
    assert all(o.customer_id in customer_ids for o in ds.orders)
    assert 2.5 < len(ds.transactions) / len(ds.bank_accounts) < 3.5
    assert 0.25 < len({loan.customer_id for loan in ds.loans}) / len(customer_ids) < 0.35
    assert 0.35 < len({o.customer_id for o in ds.orders}) / len(customer_ids) < 0.45


def test_calls_use_the_crm_numbers(ds: Dataset) -> None:
    prospect_numbers = {to_e164(x.phone) for x in ds.crm_leads if x.customer_id is None}
    for call in ds.calls:
        caller = call.from_number if call.direction == "inbound" else call.to_number
        company = call.to_number if call.direction == "inbound" else call.from_number
        assert company == COMPANY_NUMBER
        if call.customer_id is None:
            assert caller in prospect_numbers
        else:
            customer = ds.customer_by_id(call.customer_id)
            assert customer is not None and caller == customer.phone_e164
        assert (call.end_time is not None) == (call.status == "completed")
        assert (call.price_cents is not None) == (call.status == "completed")
        assert call.duration_s > 0 or call.status != "completed"
        if call.end_time is not None:
            assert (call.end_time - call.start_time).total_seconds() == call.duration_s
    per_customer = Counter(c.customer_id for c in ds.calls if c.customer_id)
    assert max(per_customer.values()) <= 6


def test_all_datetimes_are_utc_and_not_in_the_future(ds: Dataset) -> None:
    assert REFERENCE_NOW == datetime(2026, 11, 1, tzinfo=UTC) == ds.reference_now
    stamps = [c.created_at for c in ds.customers]
    stamps += [x.last_modified_date for x in ds.crm_contacts]
    stamps += [x.posted_at for x in ds.transactions] + [x.updated_at for x in ds.orders]
    stamps += [x.end_time or x.start_time for x in ds.calls] + [x.updated_at for x in ds.loans]
    assert all(s.tzinfo is UTC and s <= REFERENCE_NOW for s in stamps)
    crm_spans = [(x.created_date, x.last_modified_date) for x in ds.crm_accounts]
    crm_spans += [(x.created_date, x.last_modified_date) for x in ds.crm_contacts]
    crm_spans += [(x.created_date, x.last_modified_date) for x in ds.crm_leads]
    assert all(created <= modified for created, modified in crm_spans)
    for customer in ds.customers:
        age_at_signup = customer.created_at.date().year - customer.birth_date.year
        assert age_at_signup >= 18 and 300 <= customer.credit_score <= 850


def test_orders_and_inventory_agree(ds: Dataset) -> None:
    assert len(ds.inventory) == len(SKUS) == 50
    held = Counter[str]()
    for order in ds.orders:
        assert order.total_cents == sum(x.quantity * x.unit_price_cents for x in order.lines)
        assert order.created_at <= order.updated_at
        if order.status in ("pending", "confirmed"):
            for line in order.lines:
                held[line.sku] += line.quantity
    for item in ds.inventory:
        assert item.reserved == held[item.sku] and item.on_hand >= item.reserved


def test_loans_follow_product_rules(ds: Dataset) -> None:
    products = {p.code: p for p in PRODUCTS}
    assert 14 <= len(PRODUCTS) <= 18
    assert {"LOAN-PERSONAL", "CARD-GOLD", "MORTGAGE-30Y", "PLAN-PREMIER"} <= set(products)
    for loan in ds.loans:
        product = products[loan.product_code]
        customer = ds.customer_by_id(loan.customer_id)
        assert customer is not None and product.kind == "loan"
        assert 0 < loan.amount_cents <= (product.max_amount_cents or 0)
        assert [d.name for d in loan.documents] == list(LOAN_DOCUMENTS[loan.product_code])
        if loan.stage in ("approved", "funded"):
            assert customer.credit_score >= product.min_credit_score
            assert customer.annual_income >= product.min_income
            assert all(d.status == "verified" for d in loan.documents)


def test_records_are_immutable(ds: Dataset) -> None:
    with pytest.raises(AttributeError):
        ds.customers[0].first_name = "Mallory"  # type: ignore[misc]


@pytest.mark.slow
def test_generates_100k_customers_within_budget() -> None:
    started = time.perf_counter()
    big = generate_dataset(100_000, seed=1)
    elapsed = time.perf_counter() - started
    assert len(big.customers) == 100_000
    assert elapsed < 30, f"100k customers took {elapsed:.1f}s"
