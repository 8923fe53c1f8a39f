"""The dataset's planted mess: each documented rate, measured at N=20,000, plus the truth.

Tolerance is four binomial standard deviations plus 0.3 points of slack for the
calibration approximations in mocks.dataset._crm; a real drift of a point fails.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from mocks.dataset import MESS_RATES, PHONE_FORMAT_WEIGHTS, STALE_AFTER, Dataset, generate_dataset
from mocks.dataset import mess as mess_module
from mocks.dataset.phones import to_e164

N = 20_000


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return generate_dataset(customers=N, seed=2024)


def assert_rate(hits: int, total: int, expected: float) -> None:
    measured = hits / total
    tolerance = 4 * math.sqrt(expected * (1 - expected) / total) + 0.003
    assert abs(measured - expected) <= tolerance, (
        f"measured {measured:.4f}, expected {expected:.4f} +/- {tolerance:.4f}"
    )


def test_every_rate_is_documented_in_the_table() -> None:
    doc = mess_module.__doc__ or ""
    for key, rate in MESS_RATES.items():
        assert key in doc and f"{rate * 100:.1f}%" in doc, key
    for name, weight in PHONE_FORMAT_WEIGHTS.items():
        assert name in doc and f"{round(weight * 100)}%" in doc, name


def test_duplicate_contact_rates(ds: Dataset) -> None:
    sizes = Counter(len(ids) for ids in ds.truth.duplicate_contact_ids.values())
    assert set(sizes) <= {2, 3}
    assert_rate(sizes[2] + sizes[3], N, MESS_RATES["contact_duplicate"])
    assert_rate(sizes[3], N, MESS_RATES["contact_triplicate"])


def test_missing_field_rates(ds: Dataset) -> None:
    contacts, total = ds.crm_contacts, len(ds.crm_contacts)
    assert_rate(sum(c.email is None for c in contacts), total, MESS_RATES["contact_missing_email"])
    no_address = [c for c in contacts if c.mailing_street is None]
    assert all(
        c.mailing_city is c.mailing_state is c.mailing_postal_code is None for c in no_address
    )
    assert_rate(len(no_address), total, MESS_RATES["contact_missing_mailing_address"])
    assert_rate(
        sum(c.mobile_phone is None for c in contacts),
        total,
        MESS_RATES["contact_missing_mobile_phone"],
    )
    assert_rate(
        sum(c.postal_code is None for c in ds.customers),
        N,
        MESS_RATES["customer_missing_postal_code"],
    )
    assert_rate(sum(c.email is None for c in ds.customers), N, MESS_RATES["customer_missing_email"])


def test_non_english_name_rate(ds: Dataset) -> None:
    locales = ds.truth.locale_of
    assert set(locales) == {c.customer_id for c in ds.customers}
    assert_rate(sum(loc != "en_US" for loc in locales.values()), N, MESS_RATES["non_english_name"])
    non_ascii = [c for c in ds.customers if not (c.first_name + c.last_name).isascii()]
    # Plenty of German or Spanish names are plain ASCII; at least a third are not.
    assert len(non_ascii) > 0.03 * N
    assert all(locales[c.customer_id] != "en_US" for c in non_ascii)
    assert any(locales[c.customer_id] == "vi_VN" and " " in c.first_name for c in non_ascii)


def test_phone_format_mix(ds: Dataset) -> None:
    used = Counter(ds.truth.phone_format_of.values())
    assert set(ds.truth.phone_format_of) == {c.id for c in ds.crm_contacts}
    for name, weight in PHONE_FORMAT_WEIGHTS.items():
        assert_rate(used[name], len(ds.crm_contacts), weight)
    # The recorded format is the one actually used.
    from mocks.dataset import PHONE_FORMATS

    for contact in ds.crm_contacts[:2000]:
        customer = ds.customer_by_id(contact.customer_id)
        assert customer is not None
        fmt = ds.truth.phone_format_of[contact.id]
        assert contact.phone == PHONE_FORMATS[fmt](customer.phone_e164)


def test_duplicates_look_like_older_copies(ds: Dataset) -> None:
    for customer_id, ids in ds.truth.duplicate_contact_ids.items():
        contacts = ds.contacts_for_customer(customer_id)
        assert tuple(c.id for c in contacts) == ids
        primary, *copies = contacts
        customer = ds.customer_by_id(customer_id)
        assert customer is not None
        for copy in copies:
            assert copy.account_id == primary.account_id
            assert to_e164(copy.phone) == customer.phone_e164
            assert ds.truth.phone_format_of[copy.id] != ds.truth.phone_format_of[primary.id]
            assert copy.last_modified_date <= primary.last_modified_date
            outdated_email = copy.email is not None and copy.email != customer.email
            outdated_address = (
                copy.mailing_street is not None and copy.mailing_street != customer.street
            )
            assert outdated_email or outdated_address


def test_stale_contacts(ds: Dataset) -> None:
    cutoff = ds.reference_now - STALE_AFTER
    stale = ds.truth.stale_contact_ids
    assert_rate(len(stale), len(ds.crm_contacts), MESS_RATES["contact_stale"])
    for contact in ds.crm_contacts:
        customer = ds.customer_by_id(contact.customer_id)
        assert customer is not None
        assert (contact.last_modified_date < cutoff) == (contact.id in stale)
        email_differs = contact.email is not None and contact.email != customer.email
        street_differs = (
            contact.mailing_street is not None and contact.mailing_street != customer.street
        )
        if contact.id in stale:
            assert email_differs or street_differs
        elif ds.contacts_for_customer(customer.customer_id)[0] is contact:
            # A fresh primary contact agrees with the bank wherever it has a value.
            assert not email_differs and not street_differs
            if contact.mailing_street is not None:
                assert contact.mailing_postal_code == customer.postal_code


def test_cross_sell_leads(ds: Dataset) -> None:
    cross_sell = {x.customer_id for x in ds.crm_leads if x.customer_id is not None}
    assert_rate(len(cross_sell), N, 0.20)
    statuses = {x.status for x in ds.crm_leads}
    assert statuses == {"Open - Not Contacted", "Working - Contacted", "Qualified", "Unqualified"}
