"""The Salesforce side: Accounts, Contacts (with duplicates and stale ones) and Leads."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import cast, mess
from ._clock import between
from ._draw import pick
from ._ids import salesforce_ids
from ._leads import LEAD_SOURCES, make_leads
from ._people import Prospect, old_email
from .mess import MESS_RATES, FormatPicker, conditional_rate, primary_rate
from .model import CrmAccount, CrmContact, CrmLead, Customer
from .phones import PHONE_FORMATS, STATES
from .pools import Address, Pools

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OLDEST_STALE_EDIT = timedelta(days=5 * 365)  # before the stale cutoff, at most this far


@dataclass(frozen=True, slots=True)
class CrmData:
    accounts: list[CrmAccount]
    contacts: list[CrmContact]
    leads: list[CrmLead]
    duplicate_contact_ids: dict[str, tuple[str, ...]]
    phone_format_of: dict[str, str]
    stale_contact_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Rates:
    """Per-primary-contact probabilities, calibrated so rates over all contacts hit target."""

    stale_if_eligible: float
    missing_email_extra: float
    missing_address_if_fresh: float
    missing_mobile: float

    @classmethod
    def calibrate(cls, eligible_share: float) -> _Rates:
        eligible_share = max(eligible_share, 1e-9)
        dup_stale = mess.DUPLICATE_STALE_SHARE * eligible_share
        stale = primary_rate(MESS_RATES["contact_stale"], dup_stale)
        no_email_base = MESS_RATES["customer_missing_email"]
        dup_no_email = no_email_base + (1 - no_email_base) * mess.DUPLICATE_MISSING_EMAIL
        no_email = primary_rate(MESS_RATES["contact_missing_email"], dup_no_email)
        no_address = primary_rate(
            MESS_RATES["contact_missing_mailing_address"], mess.DUPLICATE_MISSING_ADDRESS
        )
        return cls(
            stale_if_eligible=min(1.0, stale / eligible_share),
            missing_email_extra=conditional_rate(no_email, no_email_base),
            # stale primaries always keep an (old) address, so fresh ones carry the rate
            missing_address_if_fresh=no_address / (1 - stale),
            missing_mobile=primary_rate(
                MESS_RATES["contact_missing_mobile_phone"], mess.DUPLICATE_MISSING_MOBILE
            ),
        )


def _other_address(rng: random.Random, pools: Pools, current_street: str) -> Address:
    while True:
        address = pick(rng, pools.addresses[pick(rng, STATES)])
        if address.street != current_street:
            return address


def _account(
    rng: random.Random, pools: Pools, c: Customer, id_: str, fmt: str, now: datetime
) -> CrmAccount:
    created = between(rng, c.created_at, min(c.created_at + 3 * DAY, now - 2 * HOUR))
    business = c.segment == "small_business"
    return CrmAccount(
        id=id_,
        name=pick(rng, pools.companies) if business else f"{c.last_name} Household",
        type="Business" if business else "Household",
        phone=PHONE_FORMATS[fmt](c.phone_e164),
        customer_id=c.customer_id,
        created_date=created,
        last_modified_date=between(rng, created, now),
    )


def make_crm(
    rng: random.Random,
    pools: Pools,
    customers: list[Customer],
    prospects: list[Prospect],
    now: datetime,
) -> CrmData:
    picker = FormatPicker(rng)
    cutoff = now - mess.STALE_AFTER
    # A contact can only be stale if it existed before the cutoff (with a month's margin).
    old_enough = cutoff - timedelta(days=30)
    eligible = sum(1 for c in customers if c.created_at < old_enough)
    rates = _Rates.calibrate(eligible / max(len(customers), 1))
    triple, double = MESS_RATES["contact_triplicate"], MESS_RATES["contact_duplicate"]
    counts = [
        3 if r < triple else 2 if r < double else 1 for r in (rng.random() for _ in customers)
    ]
    # The example callers (cast.py): the clean one has one contact, the messy one two.
    for index in range(min(2, len(counts))):
        counts[index] = 1 if cast.is_clean(index) else 2
    account_ids = salesforce_ids(rng, "001", len(customers))
    contact_ids = iter(salesforce_ids(rng, "003", sum(counts)))
    account_formats = picker.many(len(customers))

    accounts: list[CrmAccount] = []
    contacts: list[CrmContact] = []
    duplicates: dict[str, tuple[str, ...]] = {}
    format_of: dict[str, str] = {}
    for index, (c, count, account_id, account_fmt) in enumerate(
        zip(customers, counts, account_ids, account_formats, strict=True)
    ):
        account = _account(rng, pools, c, account_id, account_fmt, now)
        accounts.append(account)
        stale = c.created_at < old_enough and rng.random() < rates.stale_if_eligible
        stale = stale and not cast.is_clean(index)
        primary, fmt = _primary(
            rng, pools, picker, rates, next(contact_ids), account, c, stale, cutoff, now
        )
        if cast.is_clean(index):
            primary, fmt = cast.clean_contact(primary, c), "e164"
        elif cast.is_messy(index):
            fmt = cast.MESSY_PRIMARY_FORMAT
            primary = cast.messy_contact(primary, fmt)
        contacts.append(primary)
        format_of[primary.id] = fmt
        ids = [primary.id]
        for _ in range(count - 1):
            dup = _duplicate(
                rng, pools, picker, next(contact_ids), account, c, primary, fmt, cutoff
            )
            if cast.is_messy(index):
                fmt_dup = cast.MESSY_DUPLICATE_FORMAT
                dup = (cast.messy_contact(dup[0], fmt_dup), fmt_dup)
            contacts.append(dup[0])
            format_of[dup[0].id] = dup[1]
            ids.append(dup[0].id)
        if len(ids) > 1:
            duplicates[c.customer_id] = tuple(ids)

    leads = make_leads(rng, picker, customers, accounts, prospects, now)
    stale_ids = frozenset(x.id for x in contacts if x.last_modified_date < cutoff)
    return CrmData(accounts, contacts, leads, duplicates, format_of, stale_ids)


def _primary(
    rng: random.Random,
    pools: Pools,
    picker: FormatPicker,
    rates: _Rates,
    id_: str,
    account: CrmAccount,
    c: Customer,
    stale: bool,
    cutoff: datetime,
    now: datetime,
) -> tuple[CrmContact, str]:
    """The customer's main contact: current data unless stale, some fields missing."""
    created = between(rng, account.created_date, account.created_date + HOUR)
    if stale:
        modified = between(rng, max(created, cutoff - OLDEST_STALE_EDIT), cutoff - DAY)
    else:
        modified = between(rng, max(created + HOUR, cutoff + DAY), now)
    email = c.email
    if email is not None and rng.random() < rates.missing_email_extra:
        email = None
    address: Address | None = Address(c.street, c.city, c.state, c.postal_code or "")
    if stale:  # the person moved and changed address since anyone last touched this
        email = old_email(rng, email) if email else None
        address = _other_address(rng, pools, c.street)
    elif rng.random() < rates.missing_address_if_fresh:
        address = None
    fmt = picker.one()
    mobile = None
    if rng.random() >= rates.missing_mobile:
        mobile = PHONE_FORMATS[picker.one()](c.phone_e164)
    contact = _contact(rng, id_, account, c, email, fmt, mobile, address, created, modified)
    return contact, fmt


def _contact(
    rng: random.Random,
    id_: str,
    account: CrmAccount,
    c: Customer,
    email: str | None,
    fmt: str,
    mobile: str | None,
    address: Address | None,
    created: datetime,
    modified: datetime,
    last_name: str | None = None,
) -> CrmContact:
    return CrmContact(
        id=id_,
        account_id=account.id,
        customer_id=c.customer_id,
        first_name=c.first_name,
        last_name=last_name or c.last_name,
        email=email,
        phone=PHONE_FORMATS[fmt](c.phone_e164),
        mobile_phone=mobile,
        mailing_street=address.street if address else None,
        mailing_city=address.city if address else None,
        mailing_state=address.state if address else None,
        mailing_postal_code=(address.postal_code or None) if address else None,
        lead_source=pick(rng, LEAD_SOURCES),
        created_date=created,
        last_modified_date=modified,
    )


def _duplicate(
    rng: random.Random,
    pools: Pools,
    picker: FormatPicker,
    id_: str,
    account: CrmAccount,
    c: Customer,
    primary: CrmContact,
    primary_fmt: str,
    cutoff: datetime,
) -> tuple[CrmContact, str]:
    """An older second record for the same person: another phone format, outdated data."""
    created = between(rng, account.created_date, primary.created_date)
    # Always edited before the primary; old enough to be stale about half the time,
    # when the customer is old enough for that (a stale primary forces a stale copy).
    newest = primary.last_modified_date - timedelta(seconds=1)
    stale = (max(created, cutoff - OLDEST_STALE_EDIT), min(newest, cutoff - DAY))
    fresh = (max(created, cutoff + DAY), newest)
    windows = (stale, fresh) if rng.random() < mess.DUPLICATE_STALE_SHARE else (fresh, stale)
    modified = next((between(rng, low, high) for low, high in windows if low <= high), created)
    email = None
    if c.email is not None and rng.random() >= mess.DUPLICATE_MISSING_EMAIL:
        email = old_email(rng, c.email)
    roll = rng.random()
    address: Address | None = None
    if roll >= mess.DUPLICATE_MISSING_ADDRESS:
        address = Address(c.street, c.city, c.state, c.postal_code or "")
        # Something on a duplicate must be outdated, or it is not telling a story.
        if email is None or roll < 0.6:
            address = _other_address(rng, pools, c.street)
    elif email is None:
        address = _other_address(rng, pools, c.street)
    fmt = picker.other_than(primary_fmt)
    mobile = None
    if rng.random() >= mess.DUPLICATE_MISSING_MOBILE:
        mobile = PHONE_FORMATS[picker.one()](c.phone_e164)
    # Legacy imports often shouted surnames in capitals.
    last_name = c.last_name.upper() if rng.random() < 0.3 else None
    dup = _contact(rng, id_, account, c, email, fmt, mobile, address, created, modified, last_name)
    return dup, fmt
