"""CRM Leads: existing customers being cross-sold, and prospects who are not customers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ._clock import between
from ._draw import Weighted, pick
from ._ids import salesforce_ids
from ._people import NOT_PROVIDED, Prospect
from .mess import FormatPicker
from .model import CrmAccount, CrmLead, Customer
from .phones import PHONE_FORMATS

# Salesforce's default LeadSource and Lead Status picklist values.
LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Employee Referral",
    "Advertisement",
    "Other",
)
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Qualified", "Unqualified")
_LEAD_STATUS = Weighted(LEAD_STATUSES, (30, 35, 15, 20))
CROSS_SELL_LEAD_RATE = 0.20  # customers who also appear as a Lead for another product
LEAD_HISTORY = timedelta(days=730)


def make_leads(
    rng: random.Random,
    picker: FormatPicker,
    customers: list[Customer],
    accounts: list[CrmAccount],
    prospects: list[Prospect],
    now: datetime,
) -> list[CrmLead]:
    """Cross-sell leads in customer order, then one lead per prospect in prospect order."""
    latest = now - timedelta(hours=1)
    drafts: list[tuple[str, str, str, str | None, str, str | None, datetime]] = []
    for c, account in zip(customers, accounts, strict=True):
        if rng.random() < CROSS_SELL_LEAD_RATE:
            company = account.name if account.type == "Business" else NOT_PROVIDED
            created = between(rng, max(c.created_at, now - LEAD_HISTORY), latest)
            drafts.append(
                (c.first_name, c.last_name, company, c.email, c.phone_e164, c.customer_id, created)
            )
    for p in prospects:
        created = between(rng, now - LEAD_HISTORY, latest)
        drafts.append((p.first_name, p.last_name, p.company, p.email, p.phone_e164, None, created))
    ids = salesforce_ids(rng, "00Q", len(drafts))
    return [
        CrmLead(
            id=id_,
            first_name=first,
            last_name=last,
            company=company,
            email=email,
            phone=PHONE_FORMATS[picker.one()](phone),
            status=_LEAD_STATUS.draw(rng),
            lead_source=pick(rng, LEAD_SOURCES),
            customer_id=customer_id,
            created_date=created,
            last_modified_date=between(rng, created, now),
        )
        for id_, (first, last, company, email, phone, customer_id, created) in zip(
            ids, drafts, strict=True
        )
    ]
