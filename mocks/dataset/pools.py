"""Pools of names, addresses and companies, drawn once from seeded Faker instances.

Calling Faker per record costs tens of microseconds; at 100k customers that alone would
blow the time budget. So each pool is filled once per seed and the generator combines
entries with its own `random.Random`, which is both fast and deterministic.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from faker import Faker

from .mess import ENGLISH_LOCALE, NON_ENGLISH_LOCALES
from .phones import STATES

FIRST_NAMES_PER_LOCALE = 300
LAST_NAMES_PER_LOCALE = 400
ENGLISH_SCALE = 3  # most people are en_US, so their pools are larger for variety
ADDRESSES_PER_STATE = 120
COMPANIES = 600


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class NamePool:
    first: tuple[str, ...]
    last: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pools:
    names: dict[str, NamePool]
    addresses: dict[str, tuple[Address, ...]]  # state -> addresses in it
    companies: tuple[str, ...]


def _unique(values: list[str]) -> tuple[str, ...]:
    # dict keeps first-seen order, so the pool is deterministic for a given seed.
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def _first_names(fake: Faker, locale: str, count: int) -> tuple[str, ...]:
    # Faker's generic first_name() is broken for vi_VN (it yields "John"/"Jane"), so
    # draw from the gendered lists, which every locale we use provides.
    names: list[str] = []
    for i in range(count):
        given = fake.first_name_female() if i % 2 else fake.first_name_male()
        if locale == "vi_VN" and i % 3:
            # Vietnamese given names usually travel with their middle name: "Văn An".
            given = f"{fake.middle_name()} {given}"
        names.append(given)
    return _unique(names)


def _name_pool(locale: str, seed: int) -> NamePool:
    fake = Faker(locale)
    fake.seed_instance(seed)
    scale = ENGLISH_SCALE if locale == ENGLISH_LOCALE else 1
    first = _first_names(fake, locale, FIRST_NAMES_PER_LOCALE * scale)
    last = _unique([fake.last_name() for _ in range(LAST_NAMES_PER_LOCALE * scale)])
    return NamePool(first=first, last=last)


def _address_pools(seed: int) -> dict[str, tuple[Address, ...]]:
    fake = Faker(ENGLISH_LOCALE)
    fake.seed_instance(seed)
    pools: dict[str, tuple[Address, ...]] = {}
    for state in STATES:
        cities = [fake.city() for _ in range(12)]  # a dozen towns per state is plenty
        pools[state] = tuple(
            Address(
                street=fake.street_address(),
                city=cities[i % len(cities)],
                state=state,
                postal_code=fake.zipcode_in_state(state),
            )
            for i in range(ADDRESSES_PER_STATE)
        )
    return pools


@lru_cache(maxsize=4)
def build_pools(seed: int) -> Pools:
    """Every pool for `seed`. Cached: tests and the mocks often generate the same seed."""
    locales = (ENGLISH_LOCALE, *NON_ENGLISH_LOCALES)
    names = {loc: _name_pool(loc, seed + i) for i, loc in enumerate(locales)}
    fake = Faker(ENGLISH_LOCALE)
    fake.seed_instance(seed + 1000)
    companies = _unique([fake.company() for _ in range(COMPANIES)])
    return Pools(names=names, addresses=_address_pools(seed + 2000), companies=companies)


_FOLD = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
    }
)


@lru_cache(maxsize=20_000)
def ascii_slug(text: str) -> str:
    """Lowercase ASCII letters and digits only: "Nguyễn Văn" -> "nguyenvan" (for emails).

    NFKD splits accents off their letters; the table covers letters that have no
    decomposition (ł, ß, đ, ı...).
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()
