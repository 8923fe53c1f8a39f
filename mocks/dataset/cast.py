"""The example callers: a few people every dataset holds, whatever its seed and size.

The README, the docs, the notebooks, the dashboard's hints and the Vapi sample name these
callers, so their numbers must be found (or, for the unknown one, not found) in any
dataset a reader starts. Their numbers are in the 555-01xx block, which the generator
never allocates (`phones.EXCHANGES` leaves out 555), so no generated person can take one.
The known ones are the first customers (C0000001, ...): a dataset of N customers holds the
first min(N, 3). Their names and the rest of their records still come from the seed; the
generator only guarantees what each one is an example of:

==========  ============  ==========  ==================================================
role        phone         customer    what the generator guarantees
==========  ============  ==========  ==================================================
clean       +14155550101  C0000001    one CRM contact, current (email, mobile, address),
                                      its phone in E.164; postal code and email on file
messy       +14155550102  C0000002    two CRM contacts for one person: the newer one's
                                      phone as (415) 555-0102, the older one's as
                                      415.555.0102 and outdated
borrower    +14155550103  C0000003    a loan application in underwriting, waiting on at
                                      least one document
unknown     +14155550199  (none)      a number no system knows
==========  ============  ==========  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .phones import PHONE_FORMATS
from .records import CrmContact, Customer, DocumentItem

__all__ = [
    "BORROWER",
    "CAST",
    "CLEAN",
    "MESSY",
    "UNKNOWN",
    "ExampleCaller",
    "cast_phones",
    "clean_contact",
    "messy_contact",
    "waiting_documents",
]


@dataclass(frozen=True)
class ExampleCaller:
    role: str
    phone: str  # E.164, as a caller ID presents it
    customer_id: str | None  # None: in no system
    what: str

    @property
    def national(self) -> str:
        """The number as a person types it: ``(415) 555-0101``."""
        return PHONE_FORMATS["national"](self.phone)


CLEAN = ExampleCaller(
    "clean", "+14155550101", "C0000001", "one current CRM contact; every source answers"
)
MESSY = ExampleCaller(
    "messy",
    "+14155550102",
    "C0000002",
    "two CRM contacts for one person in different phone formats, the older one outdated",
)
BORROWER = ExampleCaller(
    "borrower", "+14155550103", "C0000003", "a loan application in underwriting, documents missing"
)
UNKNOWN = ExampleCaller("unknown", "+14155550199", None, "a number no system knows")
CAST: tuple[ExampleCaller, ...] = (CLEAN, MESSY, BORROWER, UNKNOWN)
_KNOWN = (CLEAN, MESSY, BORROWER)  # in customer order: C0000001, C0000002, C0000003

MESSY_PRIMARY_FORMAT = "national"
MESSY_DUPLICATE_FORMAT = "dotted"


def cast_phones(numbers: list[str]) -> list[str]:
    """The allocated numbers with the first customers' replaced by the cast's."""
    out = list(numbers)
    for index, caller in enumerate(_KNOWN[: len(out)]):
        out[index] = caller.phone
    return out


def is_clean(customer_index: int) -> bool:
    return customer_index == 0


def is_messy(customer_index: int) -> bool:
    return customer_index == 1


def is_borrower(customer_id: str) -> bool:
    return customer_id == BORROWER.customer_id


def clean_contact(contact: CrmContact, customer: Customer) -> CrmContact:
    """The clean caller's one contact: everything current, the phone in E.164."""
    return replace(
        contact,
        email=customer.email,
        phone=customer.phone_e164,
        mobile_phone=customer.phone_e164,
        mailing_street=customer.street,
        mailing_city=customer.city,
        mailing_state=customer.state,
        mailing_postal_code=customer.postal_code,
    )


def messy_contact(contact: CrmContact, fmt: str) -> CrmContact:
    """A contact of the messy caller with its phone in ``fmt``."""
    return replace(contact, phone=PHONE_FORMATS[fmt](MESSY.phone))


def waiting_documents(docs: tuple[DocumentItem, ...]) -> tuple[DocumentItem, ...]:
    """The borrower's checklist with at least its first document still missing."""
    if any(d.status == "missing" for d in docs) or not docs:
        return docs
    return (replace(docs[0], status="missing"), *docs[1:])
