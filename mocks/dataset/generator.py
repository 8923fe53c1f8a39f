"""Builds the whole fake enterprise from (customers, seed); the only public entry point.

Each domain draws from its own `random.Random`, seeded from the seed and the domain's
name, so tuning how orders are generated does not reshuffle the CRM. String seeds are
hashed with SHA-512 by `random`, which makes them stable across processes and
PYTHONHASHSEED values. Nothing reads the wall clock or the global `random`.
"""

from __future__ import annotations

import gc
import random
from datetime import datetime

from ._banking import make_accounts, make_transactions
from ._clock import REFERENCE_NOW
from ._crm import make_crm
from ._lending import make_loans
from ._orders import make_inventory, make_orders
from ._people import EmailMaker, make_customers, make_prospects
from ._telephony import make_calls
from .cast import cast_phones
from .catalog import PRODUCTS
from .model import Dataset, DatasetTruth
from .phones import allocate_numbers
from .pools import build_pools

PROSPECT_SHARE = 0.10  # leads who are not customers, as a share of the customer count
MAX_CUSTOMERS = 9_999_999  # customer ids have seven digits


def _rng(seed: int, domain: str) -> random.Random:
    return random.Random(f"switchboard/{seed}/{domain}")


def generate_dataset(customers: int = 1000, seed: int = 42) -> Dataset:
    """A deterministic dataset: the same arguments always give the same fingerprint."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS}, got {customers}")
    # Millions of new objects make the cyclic GC rescan an ever larger heap: a third of
    # the run time at 100k. The records are acyclic, and what little cyclic garbage there
    # is (Faker's instances) is collected once the GC is back on.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(customers, seed)
    finally:
        if was_enabled:
            gc.enable()


def _generate(customers: int, seed: int) -> Dataset:
    now = REFERENCE_NOW
    pools = build_pools(seed)
    prospect_count = round(customers * PROSPECT_SHARE)
    # One allocation for everybody keeps prospects' numbers disjoint from customers'.
    numbers = allocate_numbers(_rng(seed, "phones"), customers + prospect_count)
    numbers[:customers] = cast_phones(numbers[:customers])  # the example callers' numbers
    people_rng = _rng(seed, "people")
    emails = EmailMaker(people_rng)  # shared so prospects never reuse a customer's email
    people, locales = make_customers(people_rng, pools, numbers[:customers], emails, now)
    prospects = make_prospects(_rng(seed, "prospects"), pools, numbers[customers:], emails)

    crm = make_crm(_rng(seed, "crm"), pools, people, prospects, now)
    accounts = make_accounts(_rng(seed, "accounts"), people, now)
    transactions = make_transactions(_rng(seed, "transactions"), accounts, now)
    loans = make_loans(_rng(seed, "loans"), people, now)
    orders = make_orders(_rng(seed, "orders"), people, now)
    inventory = make_inventory(_rng(seed, "inventory"), orders)
    prospect_leads = crm.leads[len(crm.leads) - len(prospects) :]
    callers: list[tuple[str, str | None, datetime]] = [
        (c.phone_e164, c.customer_id, c.created_at) for c in people
    ]
    callers += [
        (p.phone_e164, None, lead.created_date)
        for p, lead in zip(prospects, prospect_leads, strict=True)
    ]
    calls = make_calls(_rng(seed, "calls"), callers, now)

    return Dataset(
        seed=seed,
        reference_now=now,
        customers=tuple(people),
        crm_accounts=tuple(crm.accounts),
        crm_contacts=tuple(crm.contacts),
        crm_leads=tuple(crm.leads),
        bank_accounts=tuple(accounts),
        transactions=tuple(transactions),
        products=PRODUCTS,
        loans=tuple(loans),
        orders=tuple(orders),
        inventory=tuple(inventory),
        calls=tuple(calls),
        truth=DatasetTruth(
            duplicate_contact_ids=crm.duplicate_contact_ids,
            phone_format_of=crm.phone_format_of,
            stale_contact_ids=crm.stale_contact_ids,
            locale_of={c.customer_id: loc for c, loc in zip(people, locales, strict=True)},
        ),
    )
