"""The real-world mess the dataset carries on purpose, and how often.

An integration that only ever sees clean data learns nothing, so the generator plants
the defects a real CRM accumulates. Every rate lives here; tests assert each one at
N=20,000 and `truth` on the dataset records which records were touched.

===================================  ======  ==========================================
MESS_RATES key                        rate    measured over
===================================  ======  ==========================================
contact_duplicate                     2.0%    customers with 2+ CRM contacts
contact_triplicate                    0.3%    customers with 3 CRM contacts
contact_missing_email                 6.0%    all contacts (email None)
contact_missing_mailing_address       4.0%    all contacts (all four mailing fields None)
contact_missing_mobile_phone         10.0%    all contacts (mobile_phone None)
contact_stale                         5.0%    all contacts (see below)
customer_missing_postal_code          3.0%    customers
customer_missing_email                2.0%    customers (their contacts have none either)
non_english_name                     10.0%    customers and prospects (NON_ENGLISH_LOCALES)
===================================  ======  ==========================================

Phone strings in CRM fields (contact phone, account phone, lead phone) use one of the
`phones.PHONE_FORMATS`, drawn per record with PHONE_FORMAT_WEIGHTS:

============  ======  =====================
format        weight  example
============  ======  =====================
e164           35%    +14155550123
national       25%    (415) 555-0123
dashed         15%    415-555-0123
dotted          8%    415.555.0123
spaced          7%    +1 415 555 0123
digits          5%    4155550123
leading_one     5%    1-415-555-0123
============  ======  =====================

A duplicate contact shares its customer's phone in a different format, was modified
earlier than the primary, and always carries something outdated (an old email or an old
mailing address) or missing. A stale contact was last modified more than STALE_AFTER
before the reference time and its email and/or mailing address differ from the Customer.
Old duplicates count as stale too, so `truth.stale_contact_ids` is exactly the set of
contacts modified before the cutoff.
"""

from __future__ import annotations

import random
from datetime import timedelta

from ._draw import Weighted

MESS_RATES: dict[str, float] = {
    "contact_duplicate": 0.02,
    "contact_triplicate": 0.003,
    "contact_missing_email": 0.06,
    "contact_missing_mailing_address": 0.04,
    "contact_missing_mobile_phone": 0.10,
    "contact_stale": 0.05,
    "customer_missing_postal_code": 0.03,
    "customer_missing_email": 0.02,
    "non_english_name": 0.10,
}

PHONE_FORMAT_WEIGHTS: dict[str, float] = {
    "e164": 0.35,
    "national": 0.25,
    "dashed": 0.15,
    "dotted": 0.08,
    "spaced": 0.07,
    "digits": 0.05,
    "leading_one": 0.05,
}

NON_ENGLISH_LOCALES: tuple[str, ...] = (
    "de_DE",
    "es_ES",
    "fr_FR",
    "pl_PL",
    "vi_VN",
    "tr_TR",
    "pt_BR",
)
ENGLISH_LOCALE = "en_US"

STALE_AFTER = timedelta(days=730)

# How duplicates look (documented above; these shape rather than set the headline rates).
DUPLICATE_STALE_SHARE = 0.5  # of duplicates whose customer is old enough to have stale ones
DUPLICATE_MISSING_EMAIL = 0.35
DUPLICATE_MISSING_MOBILE = 0.5
DUPLICATE_MISSING_ADDRESS = 0.2

# Expected extra contacts per customer, used to calibrate rates "over all contacts".
EXTRA_CONTACTS_PER_CUSTOMER = MESS_RATES["contact_duplicate"] + MESS_RATES["contact_triplicate"]


def primary_rate(target: float, duplicate_rate: float) -> float:
    """Rate to apply to primary contacts so that primaries + duplicates hit `target`.

    Per customer: target * (1 + extra) contacts must be affected, duplicates supply
    extra * duplicate_rate of them.
    """
    extra = EXTRA_CONTACTS_PER_CUSTOMER
    return max(0.0, target * (1 + extra) - extra * duplicate_rate)


def conditional_rate(target: float, already: float) -> float:
    """Rate among the not-yet-affected so that the overall share reaches `target`."""
    return max(0.0, (target - already) / (1 - already))


class FormatPicker:
    """Draws phone format names with PHONE_FORMAT_WEIGHTS from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._weighted = Weighted(PHONE_FORMAT_WEIGHTS, PHONE_FORMAT_WEIGHTS.values())

    def one(self) -> str:
        return self._weighted.draw(self._rng)

    def many(self, count: int) -> list[str]:
        return [self._weighted.draw(self._rng) for _ in range(count)]

    def other_than(self, name: str) -> str:
        """A weighted draw that differs from `name` (a duplicate's phone looks different)."""
        while True:
            picked = self._weighted.draw(self._rng)
            if picked != name:
                return picked
