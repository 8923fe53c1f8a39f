"""Card numbers never kept: every text that enters the layer from outside (a transcript
turn, a tool's free-text argument) passes ``redact_cards`` before it is stored, logged or
sent on. A run of 12-19 digits, with single spaces or dashes between them, that passes the
Luhn check is kept as its last four digits."""

from __future__ import annotations

import re

__all__ = ["luhn_ok", "redact_cards"]

_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")


def luhn_ok(digits: str) -> bool:
    """The mod-10 checksum every payment card number carries (catches most typos)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact_cards(text: str) -> str:
    """``text`` with every card number in it kept as ``[card ending 4242]``."""

    def masked(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 12 <= len(digits) <= 19 and luhn_ok(digits):
            return f"[card ending {digits[-4:]}]"
        return match.group(0)

    return _CARD_LIKE.sub(masked, text)
