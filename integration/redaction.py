"""Card numbers never kept: every text that enters the layer from outside (a transcript
turn, a tool's free-text argument, a hand-over summary, an outcome's messages) passes
``redact_cards`` before it is stored, logged or sent on (``FreeText`` does it as a body is
read; the service's log records pass it too).

A card number is 13 to 19 digits that pass the Luhn check, written or spoken: digits or
digit words ("four one one one", "oh" for zero), grouped any way, with any run of spaces,
dots, dashes or commas between them. It is kept as its last four digits. In a text that
held one, a security code or an expiry date said near it goes too; a security code or an
expiry named as such ("CVV 123", "expires 12/27") goes wherever it is said.

Digits that split into a card two ways (a 19-digit card whose first 15 also pass Luhn, a
card with its code said bare after it) all go, but the four kept may be the wrong four:
the common lengths are tried first (16, then 15, then the rest).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["FreeText", "luhn_ok", "redact_cards"]

_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_DIGIT = r"(?:\d|zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_GAP = r"[\s.,\-]*"
# A run of digits and digit words with gaps between them: a candidate, checked below.
_RUN = re.compile(rf"(?<![\w]){_DIGIT}(?:{_GAP}{_DIGIT})*(?![\w])", re.IGNORECASE)
_TOKEN = re.compile(_DIGIT, re.IGNORECASE)
_SECRET_WORDS = r"cvv2?|cvc2?|cv2|csc|security\s+code|verification\s+(?:code|number)|card\s+code"
_EXPIRY_WORDS = r"exp(?:iry|ires|iration)?(?:\s+date)?|valid\s+(?:thru|through|until)|expiring"
_SPOKEN_NUMBER = rf"{_DIGIT}(?:{_GAP}{_DIGIT}){{2,3}}"


def _named(words: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b((?:{words})\b(?:\s+(?:is|was|number|:))*[\s:#=-]*)({_SPOKEN_NUMBER})(?![\w])",
        re.IGNORECASE,
    )


_NAMED_CODE = _named(_SECRET_WORDS)
_CODE_NEAR_CARD = _named(r"code|pin")  # in a text that held a card, any "code" is its code
_DATE = r"(?:0?[1-9]|1[0-2])\s*[/.\-]\s*(?:\d{4}|\d{2})"
_NAMED_EXPIRY = re.compile(
    rf"\b((?:{_EXPIRY_WORDS})\b(?:\s+(?:is|on|in|:))*[\s:=-]*)({_DATE})(?!\d)", re.IGNORECASE
)
_NEAR = 40  # characters after a card within which a bare code or date is its own
_BARE_AFTER = re.compile(
    rf"([^\w]{{0,6}}(?:and\s+)?)({_DATE}|{_SPOKEN_NUMBER}|\d{{3,4}})(?![\w])", re.IGNORECASE
)
# Card lengths, most common first: a card said with its code (16 + 3 digits in one run)
# is found as the 16 it is, and the code after it as a code.
_LENGTHS = (16, 15, 19, 18, 17, 14, 13)
_MASK = "[redacted]"


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
    """``text`` with every card number in it kept as ``[card ending 1234]``, and the
    security codes and expiry dates that go with them removed."""
    if not any(c.isdigit() for c in text) and not _TOKEN.search(text):
        return text
    found_card = False
    out: list[str] = []
    last = 0
    for run in _RUN.finditer(text):
        if run.start() < last:
            continue
        card = _card_in(run)
        if card is None:
            continue
        start, end, digits = card
        out.append(text[last:start])
        out.append(f"[card ending {digits[-4:]}]")
        last = end
        found_card = True
        for _ in range(3):  # the rest of a long card, an expiry and a code, in any order
            bare = _BARE_AFTER.match(text, last, min(len(text), last + _NEAR))
            if bare is None:
                break
            out.append(bare.group(1) + _MASK)
            last = bare.end()
    out.append(text[last:])
    redacted = "".join(out)
    redacted = _NAMED_CODE.sub(_masked, redacted)
    if found_card:
        redacted = _CODE_NEAR_CARD.sub(_masked, redacted)
    return _NAMED_EXPIRY.sub(_masked, redacted)


def _masked(named: re.Match[str]) -> str:
    return named.group(1) + _MASK


def _card_in(run: re.Match[str]) -> tuple[int, int, str] | None:
    """The first card number inside a run of digits, as (start, end, digits), or None.

    The run is cut into groups (digits written together, or one digit word); a card is a
    span of whole groups with a card's length that starts as cards do (2 to 6) and passes
    Luhn. So a card said next to a phone number, an amount or its own code is found, and a
    long number written in one piece (an order or trace id) is never cut into a card."""
    offset = run.start()
    groups: list[tuple[int, int, str]] = []
    for token in _TOKEN.finditer(run.group()):
        start, end = token.start() + offset, token.end() + offset
        digit = _WORDS.get(token.group().lower(), token.group())
        if groups and groups[-1][1] == start and digit.isdigit() and token.group().isdigit():
            first, _, digits = groups[-1]
            groups[-1] = (first, end, digits + digit)
        else:
            groups.append((start, end, digit))
    if sum(len(g[2]) for g in groups) < 13:
        return None
    for first, group in enumerate(groups):
        if group[2][0] not in "23456":
            continue
        spans: dict[int, tuple[int, str]] = {}  # length -> (end, digits)
        digits = ""
        for last in groups[first:]:
            digits += last[2]
            if len(digits) > 19:
                break
            spans[len(digits)] = (last[1], digits)
        for size in _LENGTHS:
            if size in spans and luhn_ok(spans[size][1]):
                return group[0], spans[size][0], spans[size][1]
    return None


# A string field of a request that may hold anything the caller said: redacted as it is read.
FreeText = Annotated[str, AfterValidator(redact_cards)]
