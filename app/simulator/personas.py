"""Who calls: a few kinds of caller, each backed by real records of the shared dataset.

The simulator draws callers from the same dataset the mocks serve (same customer count
and seed), so a simulated caller's number is found by the lookup and their lead or loan
exists in the CRM and the loan system, exactly as for a real customer. A "new caller"
uses a number that is in no system, which is a failure mode of its own (missing data).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TextIO

import httpx

from mocks.dataset.model import Dataset

__all__ = ["PERSONA_KINDS", "Persona", "PersonaBook", "dataset_shape", "load_personas"]

# kind -> what that caller is like (the summary table and `simulate --help` show these)
PERSONA_KINDS: dict[str, str] = {
    "customer": "an established customer with a CRM contact and bank accounts",
    "borrower": "a customer waiting on a loan application",
    "prospect": "a customer the CRM also holds as an open sales lead",
    "newcomer": "a caller whose number no system knows",
}
# Far from the dataset's numbers: the 555-01xx block is reserved for fiction.
_NEWCOMER_NUMBERS = tuple(f"+1415555{n:04d}" for n in range(150, 199))
_PRODUCTS = ("LOAN-PERSONAL", "LOAN-AUTO", "CARD-CLASSIC", "CARD-GOLD", "HELOC", "MORTGAGE-30Y")
DEFAULT_SHAPE = (1000, 42)  # the mocks' own defaults (MockSettings)


@dataclass(frozen=True)
class Persona:
    kind: str
    phone: str  # E.164, as the caller ID presents it
    first_name: str
    customer_id: str | None = None
    email: str | None = None
    preferred_channel: str = "sms"
    lead_id: str | None = None
    loan_id: str | None = None
    loan_stage: str | None = None
    product_code: str = "LOAN-PERSONAL"

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.customer_id or self.phone[-4:]}"


class PersonaBook:
    """Callers by kind, drawn with the simulator's seeded random source."""

    def __init__(self, by_kind: dict[str, Sequence[Persona]]) -> None:
        self.by_kind = {kind: tuple(found) for kind, found in by_kind.items() if found}

    @classmethod
    def from_dataset(cls, dataset: Dataset, *, most: int = 2000) -> PersonaBook:
        """Up to ``most`` callers of each kind (the first customers of the dataset)."""
        customers: list[Persona] = []
        borrowers: list[Persona] = []
        prospects: list[Persona] = []
        for index, person in enumerate(dataset.customers):
            product = _PRODUCTS[index % len(_PRODUCTS)]
            base = Persona(
                kind="customer",
                phone=person.phone_e164,
                first_name=person.first_name,
                customer_id=person.customer_id,
                email=person.email,
                preferred_channel=person.preferred_channel,
                product_code=product,
            )
            if len(customers) < most:
                customers.append(base)
            loans = dataset.loans_for_customer(person.customer_id)
            if loans and len(borrowers) < most:
                loan = loans[0]
                borrowers.append(
                    replace(base, kind="borrower", loan_id=loan.loan_id, loan_stage=loan.stage)
                )
            leads = [
                lead
                for lead in dataset.leads_for_customer(person.customer_id)
                if not lead.status.startswith("Closed")
            ]
            if leads and len(prospects) < most:
                prospects.append(replace(base, kind="prospect", lead_id=leads[0].id))
        newcomers = [
            Persona(kind="newcomer", phone=phone, first_name="there", product_code=_PRODUCTS[i % 3])
            for i, phone in enumerate(_NEWCOMER_NUMBERS)
        ]
        return cls(
            {
                "customer": customers,
                "borrower": borrowers,
                "prospect": prospects,
                "newcomer": newcomers,
            }
        )

    def pick(self, kinds: Sequence[str], rng: random.Random) -> Persona:
        """A caller of one of ``kinds`` (the first kind the book holds any of, by weight)."""
        held = [kind for kind in kinds if kind in self.by_kind]
        if not held:
            raise LookupError(f"no callers of kinds {list(kinds)} in the dataset")
        return rng.choice(self.by_kind[rng.choice(held)])

    def counts(self) -> dict[str, int]:
        return {kind: len(found) for kind, found in self.by_kind.items()}


def dataset_shape(mocks_url: str) -> tuple[int, int, bool]:
    """(customers, seed, asked): what the mocks say they serve, else their defaults."""
    try:
        health = httpx.get(f"{mocks_url.rstrip('/')}/_mock/health", timeout=5).json()
        info = health["dataset"]
        return int(info["customers"]), int(info["seed"]), True
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return (*DEFAULT_SHAPE, False)


def load_personas(mocks_url: str, out: TextIO | None = None) -> PersonaBook:
    """The callers of the dataset the mocks at ``mocks_url`` serve (a note on ``out`` when
    they do not answer and their defaults are assumed)."""
    from mocks.dataset import generate_dataset

    out = out or sys.stdout  # looked up now: a test runner may have swapped it

    customers, seed, asked = dataset_shape(mocks_url)
    if not asked:
        out.write(
            f"(the mocks at {mocks_url} did not answer; assuming their defaults: "
            f"{customers} customers, seed {seed})\n"
        )
    return PersonaBook.from_dataset(generate_dataset(customers, seed=seed))
