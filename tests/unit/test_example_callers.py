"""The example callers the docs name are in every dataset, whatever its seed and size."""

from __future__ import annotations

import pytest

from mocks.dataset import generate_dataset, to_e164
from mocks.dataset.cast import BORROWER, CAST, CLEAN, MESSY, UNKNOWN


@pytest.mark.parametrize(("customers", "seed"), [(3, 1), (50, 7), (1000, 42), (1000, 5)])
def test_the_cast_is_in_every_dataset(customers: int, seed: int) -> None:
    ds = generate_dataset(customers, seed=seed)

    clean = ds.customer_by_phone(CLEAN.phone)
    assert clean is not None and clean.customer_id == CLEAN.customer_id
    assert clean.email and clean.postal_code
    (contact,) = ds.contacts_for_customer(clean.customer_id)
    assert contact.phone == CLEAN.phone and contact.email == clean.email
    assert contact.mailing_street == clean.street and contact.mobile_phone
    assert contact.id not in ds.truth.stale_contact_ids

    messy = ds.customer_by_phone(MESSY.phone)
    assert messy is not None and messy.customer_id == MESSY.customer_id
    newer, older = sorted(
        ds.contacts_for_customer(messy.customer_id), key=lambda c: c.last_modified_date
    )[::-1]
    assert (newer.phone, older.phone) == ("(415) 555-0102", "415.555.0102")
    assert {to_e164(newer.phone or ""), to_e164(older.phone or "")} == {MESSY.phone}
    assert ds.truth.duplicate_contact_ids[messy.customer_id]

    borrower = ds.customer_by_phone(BORROWER.phone)
    assert borrower is not None and borrower.customer_id == BORROWER.customer_id
    (loan,) = ds.loans_for_customer(borrower.customer_id)
    assert loan.stage == "underwriting"
    assert any(d.status == "missing" for d in loan.documents)

    assert ds.customer_by_phone(UNKNOWN.phone) is None
    known = {c.phone for c in ds.crm_contacts} | {lead.phone for lead in ds.crm_leads}
    assert not {to_e164(p or "") for p in known} & {UNKNOWN.phone}
    assert UNKNOWN.phone not in {c.from_number for c in ds.calls}


def test_a_smaller_dataset_holds_the_first_of_the_cast() -> None:
    ds = generate_dataset(1, seed=3)
    assert [c.phone_e164 for c in ds.customers] == [CLEAN.phone]
    assert {c.role for c in CAST} == {"clean", "messy", "borrower", "unknown"}
