"""People: the bank's customers and the prospects that are only CRM leads."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ._clock import DAY_S, EARLIEST_CUSTOMER
from ._draw import Weighted, pick, randint
from .cast import is_clean
from .mess import ENGLISH_LOCALE, MESS_RATES, NON_ENGLISH_LOCALES
from .model import Channel, Customer, Segment
from .phones import STATES, state_of
from .pools import Pools, ascii_slug

# Reserved example domains (RFC 2606/6761): fake mail can never reach a real inbox.
EMAIL_DOMAINS = Weighted(
    ("example.com", "example.net", "example.org", "mail.example", "inbox.example"),
    (40, 25, 15, 10, 10),
)
# Domains people used years ago; stale CRM records still carry them.
OLD_EMAIL_DOMAINS = ("oldmail.example", "isp.example", "work-old.example")

HOME_STATE_MATCHES_AREA_CODE = 0.85  # the rest moved and kept their number
NOT_PROVIDED = "[not provided]"  # what Salesforce orgs put in Lead.Company for individuals


@dataclass(frozen=True, slots=True)
class Prospect:
    """Someone the CRM knows as a lead who is not (yet) a customer."""

    first_name: str
    last_name: str
    email: str | None
    phone_e164: str
    company: str
    locale: str


class EmailMaker:
    """Builds plausible addresses from names, unique across customers and prospects."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def make(self, first: str, last: str) -> str:
        rng = self._rng
        f, last_slug = ascii_slug(first) or "user", ascii_slug(last) or "mail"
        local = (
            f"{f}.{last_slug}",
            f"{f}{last_slug}",
            f"{f[0]}{last_slug}",
            f"{f}_{last_slug}",
            f"{last_slug}.{f}",
        )[int(rng.random() * 5)]
        if rng.random() < 0.4:
            local += str(randint(rng, 1, 99))
        domain = EMAIL_DOMAINS.draw(rng)
        email = f"{local}@{domain}"
        while email in self._used:
            email = f"{local}{randint(rng, 100, 99_999)}@{domain}"
        self._used.add(email)
        return email


def old_email(rng: random.Random, current: str) -> str:
    """An address the person used before; its domain guarantees it differs from `current`."""
    local = current.split("@", 1)[0]
    if rng.random() < 0.5:
        local = f"{local}{randint(rng, 1, 9)}"
    return f"{local}@{pick(rng, OLD_EMAIL_DOMAINS)}"


def _pick_name(rng: random.Random, pools: Pools) -> tuple[str, str, str]:
    locale = ENGLISH_LOCALE
    if rng.random() < MESS_RATES["non_english_name"]:
        locale = pick(rng, NON_ENGLISH_LOCALES)
    pool = pools.names[locale]
    return pick(rng, pool.first), pick(rng, pool.last), locale


def _segment(rng: random.Random, income: int) -> Segment:
    if rng.random() < 0.12:
        return "small_business"
    if income >= 150_000 and rng.random() < 0.7:
        return "premier"
    return "retail"


def _channel(rng: random.Random, has_email: bool) -> Channel:
    roll = rng.random()
    if roll < 0.5:
        return "sms"
    if roll < 0.7 or not has_email:
        return "whatsapp"
    return "email"


def make_customers(
    rng: random.Random, pools: Pools, phones: list[str], emails: EmailMaker, now: datetime
) -> tuple[list[Customer], list[str]]:
    """Customers in id order, and the Faker locale each one's name came from."""
    # Growth: more customers joined recently, so skew sign-up dates toward `now`.
    span_s = int((now - EARLIEST_CUSTOMER).total_seconds()) - DAY_S
    oldest_birth = (now.date() - timedelta(days=90 * 365)).toordinal()
    customers: list[Customer] = []
    locales: list[str] = []
    for i, phone in enumerate(phones):
        first, last, locale = _pick_name(rng, pools)
        created = EARLIEST_CUSTOMER + timedelta(seconds=int(span_s * math.sqrt(rng.random())))
        # Adults only: born at least 18 years before they opened the relationship.
        youngest_birth = created.date().toordinal() - 6575
        birth = date.fromordinal(randint(rng, oldest_birth, youngest_birth))
        home = state_of(phone)
        if rng.random() >= HOME_STATE_MATCHES_AREA_CODE:
            home = pick(rng, STATES)
        address = pick(rng, pools.addresses[home])
        income = int(rng.lognormvariate(math.log(62_000), 0.6)) // 100 * 100
        income = min(max(income, 12_000), 2_500_000)
        segment = _segment(rng, income)
        has_email = rng.random() >= MESS_RATES["customer_missing_email"]
        score = min(max(round(rng.gauss(705, 75)), 300), 850)
        missing_postal_code = rng.random() < MESS_RATES["customer_missing_postal_code"]
        if is_clean(i):  # the clean example caller: nothing missing (cast.py)
            has_email, missing_postal_code = True, False
        customers.append(
            Customer(
                customer_id=f"C{i + 1:07d}",
                first_name=first,
                last_name=last,
                email=emails.make(first, last) if has_email else None,
                phone_e164=phone,
                birth_date=birth,
                street=address.street,
                city=address.city,
                state=address.state,
                postal_code=None if missing_postal_code else address.postal_code,
                credit_score=score,
                annual_income=income,
                segment=segment,
                preferred_channel=_channel(rng, has_email),
                created_at=created,
            )
        )
        locales.append(locale)
    return customers, locales


def make_prospects(
    rng: random.Random, pools: Pools, phones: list[str], emails: EmailMaker
) -> list[Prospect]:
    prospects: list[Prospect] = []
    for phone in phones:
        first, last, locale = _pick_name(rng, pools)
        business = rng.random() < 0.35
        prospects.append(
            Prospect(
                first_name=first,
                last_name=last,
                email=emails.make(first, last) if rng.random() >= 0.15 else None,
                phone_e164=phone,
                company=pick(rng, pools.companies) if business else NOT_PROVIDED,
                locale=locale,
            )
        )
    return prospects
