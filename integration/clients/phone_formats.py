"""The spellings a CRM holds a phone number in, generated from its E.164 form.

People and import jobs typed numbers into the CRM in many shapes, and SOQL compares text,
so a lookup asks for every common spelling at once (``Phone IN (...)``). The list mirrors
what the mock CRM stores, written out here because the layer never imports the mocks.
"""

from __future__ import annotations

import re

from integration.errors import InvalidPhoneNumber

__all__ = ["phone_variants"]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NANP = re.compile(r"^\+1(\d{3})(\d{3})(\d{4})$")


def phone_variants(e164: str) -> tuple[str, ...]:
    """Every spelling of a North American number; other countries only as E.164.

    >>> phone_variants("+14155550123")[:3]
    ('+14155550123', '(415) 555-0123', '415-555-0123')
    """
    if not _E164.match(e164):
        raise InvalidPhoneNumber(
            "phone", f"expected an E.164 number like +14155550123, got {e164!r}"
        )
    match = _NANP.match(e164)
    if match is None:
        return (e164,)
    area, exchange, line = match.groups()
    return (
        e164,  # +14155550123
        f"({area}) {exchange}-{line}",  # (415) 555-0123
        f"{area}-{exchange}-{line}",  # 415-555-0123
        f"{area}.{exchange}.{line}",  # 415.555.0123
        f"+1 {area} {exchange} {line}",  # +1 415 555 0123
        f"{area}{exchange}{line}",  # 4155550123
        f"1-{area}-{exchange}-{line}",  # 1-415-555-0123
    )
