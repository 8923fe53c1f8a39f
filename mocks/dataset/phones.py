"""US phone numbers: allocation of unique numbers, and the messy ways CRMs store them.

Numbers use real area codes and ordinary exchanges, so `phonenumbers` accepts them as
valid (a caller-ID lookup that rejects fiction would be useless). That also means they
may be someone's real number: never point a live telephony or SMS provider at this data.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers

# The company's own line: to_number of inbound calls, from_number of outbound ones.
COMPANY_NUMBER = "+18005550100"

# Real area codes and the state each one serves; customers mostly live in that state.
AREA_CODE_STATE: dict[str, str] = {
    "212": "NY",
    "718": "NY",
    "917": "NY",
    "516": "NY",
    "213": "CA",
    "310": "CA",
    "415": "CA",
    "408": "CA",
    "619": "CA",
    "714": "CA",
    "916": "CA",
    "312": "IL",
    "773": "IL",
    "713": "TX",
    "214": "TX",
    "512": "TX",
    "210": "TX",
    "305": "FL",
    "407": "FL",
    "813": "FL",
    "404": "GA",
    "617": "MA",
    "215": "PA",
    "412": "PA",
    "206": "WA",
    "503": "OR",
    "602": "AZ",
    "303": "CO",
    "702": "NV",
    "612": "MN",
    "313": "MI",
    "614": "OH",
    "216": "OH",
    "704": "NC",
    "919": "NC",
    "615": "TN",
    "504": "LA",
    "801": "UT",
    "202": "DC",
    "410": "MD",
    "314": "MO",
    "414": "WI",
}
AREA_CODES: tuple[str, ...] = tuple(AREA_CODE_STATE)
STATES: tuple[str, ...] = tuple(sorted(set(AREA_CODE_STATE.values())))

# Exchanges 200-999, minus N11 service codes (411, 911...) and 555 (directory
# assistance and the fictional block the company line lives in).
EXCHANGES: tuple[int, ...] = tuple(e for e in range(200, 1000) if e % 100 != 11 and e != 555)


def allocate_numbers(rng: random.Random, count: int) -> list[str]:
    """`count` distinct E.164 numbers. Rejection sampling: the space (~330M) dwarfs any N."""
    per_area = len(EXCHANGES) * 10_000
    space = len(AREA_CODES) * per_area
    if count > space // 4:
        raise ValueError(f"cannot allocate {count} unique numbers from {space}")
    seen: set[int] = set()
    numbers: list[str] = []
    while len(numbers) < count:
        index = rng.randrange(space)
        if index in seen:
            continue
        seen.add(index)
        area, rest = divmod(index, per_area)
        exchange, line = divmod(rest, 10_000)
        numbers.append(f"+1{AREA_CODES[area]}{EXCHANGES[exchange]}{line:04d}")
    return numbers


def state_of(e164: str) -> str:
    return AREA_CODE_STATE[e164[2:5]]


# Each formatter takes "+1AAAEEELLLL" and renders it as a person or an import job might
# have typed it into a CRM. Every output parses back to the same E.164 with region US.
PHONE_FORMATS: dict[str, Callable[[str], str]] = {
    "e164": lambda n: n,
    "national": lambda n: f"({n[2:5]}) {n[5:8]}-{n[8:]}",
    "dashed": lambda n: f"{n[2:5]}-{n[5:8]}-{n[8:]}",
    "dotted": lambda n: f"{n[2:5]}.{n[5:8]}.{n[8:]}",
    "spaced": lambda n: f"+1 {n[2:5]} {n[5:8]} {n[8:]}",
    "digits": lambda n: n[2:],
    "leading_one": lambda n: f"1-{n[2:5]}-{n[5:8]}-{n[8:]}",
}


def to_e164(raw: str, region: str = "US") -> str | None:
    """Normalize any stored phone string to E.164, or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
