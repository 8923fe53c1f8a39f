"""Who calls in a load test: the customers of the mocks' dataset, built here from the same
size and seed the mocks were started with, so every number is one the lookup finds."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mocks.dataset import generate_dataset

__all__ = ["Caller", "real_callers"]


@dataclass(frozen=True)
class Caller:
    phone: str
    customer_id: str


def real_callers(customers: int, seed: int) -> list[Caller]:
    """The dataset's customers (the mocks serve the same seed and size), shuffled so
    consecutive lookups meet unrelated records."""
    data = generate_dataset(customers=customers, seed=seed)
    callers = [Caller(c.phone_e164, c.customer_id) for c in data.customers]
    random.Random(seed).shuffle(callers)
    return callers
