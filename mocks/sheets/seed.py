"""The team's caller lists, as people keep them in a shared spreadsheet.

Two tabs drawn from the shared dataset, so every phone number is a real caller's:

- ``VIP callers``: premier customers the relationship team looks after. Name, phone, tier,
  account manager, date added, notes.
- ``Do not call``: callers who asked not to be called (and one VIP among them, a conflict
  the integration has to settle). Phone, reason, date, who entered it.

With the mess such sheets gather: the phone in whatever format whoever typed it used (some
typed as numbers, so the sheet shows ``4155550123``; one with an extension; one with
spaces around it), names and tiers with trailing spaces and odd capitals, dates as real
dates or as text, notes spanning lines, blank rows in the middle, a duplicated row, a
header row, and a count at the foot computed by a formula. Drawn from the seed alone:
the same dataset gives the same sheet.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

from mocks.dataset import PHONE_FORMATS, Customer, Dataset
from mocks.sheets.cells import Cell, date_cell, number_text
from mocks.sheets.store import Sheet, Spreadsheet

__all__ = ["CALLER_LISTS_ID", "caller_lists"]

# Fixed, so recipes and tests can name it; looks like a Google spreadsheet id (44 chars).
CALLER_LISTS_ID = "1SwbTeamCallerLists_vipAndDoNotCall-0A7kQ2xYz"
VIP_COUNT = 20
DNC_COUNT = 16
_TIERS = ("Gold", "gold", "GOLD ", "Platinum", "platinum ", " Silver", "Silver")
_MANAGERS = ("Priya N.", "priya", "Marcus Obi", "M. Obi", "Dana", "")
_VIP_NOTES = (
    "",
    "",
    "prefers mornings",
    "Spanish speaker - transfer to Lucia",
    "call back on mobile only",
    "DO NOT put on hold!!",
    "see Dana's email 3/2",
    "VIP since 2019\nspouse is also a client",
    "complained about wait times (Aug)",
)
_DNC_REASONS = (
    "Asked not to be called",
    "asked not to be called ",
    "complaint",
    "DNC registry match",
    "Legal hold - ask compliance",
    "wrong number, not a customer",
    "",
)
_ENTERED_BY = ("JL", "jl", "Sam", "compliance", "MO")


def caller_lists(dataset: Dataset) -> Spreadsheet:
    rng = random.Random(hashlib.sha256(f"sheets:{dataset.seed}".encode()).digest())
    people = list(dataset.customers)
    premier = [c for c in people if c.segment == "premier"][:VIP_COUNT] or people[:VIP_COUNT]
    chosen = {c.customer_id for c in premier}
    others = [c for c in people[:400] if c.customer_id not in chosen]
    listed = rng.sample(others, min(DNC_COUNT, len(others)))
    if premier:
        listed.insert(rng.randrange(len(listed) + 1), premier[-1])  # a VIP who opted out
    today = dataset.reference_now.date()
    return Spreadsheet(
        CALLER_LISTS_ID,
        "Contact centre - caller lists (DO NOT DELETE)",
        [_vip_sheet(rng, premier, today), _dnc_sheet(rng, listed, today)],
    )


def _phone(rng: random.Random, customer: Customer) -> Cell:
    style = rng.choice(list(PHONE_FORMATS))
    text = PHONE_FORMATS[style](customer.phone_e164)
    if style == "digits" or rng.random() < 0.1:  # typed into the sheet as a number
        digits = int(customer.phone_e164[2:])
        return Cell(digits, number_text(digits), kind="number")
    return Cell(text, text)


def _text(value: str) -> Cell | None:
    return Cell(value, value) if value else None


def _day(rng: random.Random, today: date) -> Cell | None:
    added = today - timedelta(days=rng.randrange(30, 1500))
    roll = rng.random()
    if roll < 0.75:
        return date_cell(added)
    if roll < 0.85:
        return _text(added.isoformat())  # typed as text: sorts and filters as text
    if roll < 0.92:
        return _text(rng.choice(("last spring", "Q3?", "2021")))
    return None


def _name(rng: random.Random, customer: Customer) -> Cell | None:
    name = f"{customer.first_name} {customer.last_name}"
    return _text(
        rng.choice(
            (name, name, name + "  ", name.upper(), f"{customer.last_name}, {customer.first_name}")
        )
    )


def _vip_sheet(rng: random.Random, people: list[Customer], today: date) -> Sheet:
    header = ["Name", "Phone", "Tier", "Account manager", "Added", "Notes"]
    rows: list[list[Cell | None]] = [[_text(h) for h in header]]
    for customer in people:
        rows.append(
            [
                _name(rng, customer),
                _phone(rng, customer),
                _text(rng.choice(_TIERS)),
                _text(rng.choice(_MANAGERS)),
                _day(rng, today),
                _text(rng.choice(_VIP_NOTES)),
            ]
        )
    if len(people) > 4:
        first = rows[2]
        extension = f"{first[1].shown if first[1] else ''} x204"
        rows[2] = [first[0], _text(extension), *first[2:]]  # a desk line with an extension
        spaced = rows[3]
        rows[3] = [spaced[0], _text(f"  {spaced[1].shown if spaced[1] else ''} "), *spaced[2:]]
        rows.insert(len(rows) // 2, [])  # someone deleted a row's contents, not the row
        rows.insert(len(rows) - 2, [])
        again = people[4]  # entered twice, the second time in another format
        rows.append([_name(rng, again), _text(PHONE_FORMATS["dashed"](again.phone_e164))])
    last = len(rows)
    phones = sum(1 for row in rows[1:] if len(row) > 1 and row[1] is not None)
    rows += [[], [_text("Count"), Cell(phones, str(phones), formula=f"=COUNTA(B2:B{last})")]]
    return Sheet(0, "VIP callers", rows)


def _dnc_sheet(rng: random.Random, people: list[Customer], today: date) -> Sheet:
    header = ["Phone number", "Reason", "Requested on", "Entered by"]
    rows: list[list[Cell | None]] = [[_text(h) for h in header]]
    for customer in people:
        rows.append(
            [
                _phone(rng, customer),
                _text(rng.choice(_DNC_REASONS)),
                _day(rng, today),
                _text(rng.choice(_ENTERED_BY)),
            ]
        )
    if len(rows) > 3:
        rows.insert(3, [])
        rows.append([_text("n/a"), _text("caller refused to give number - see ticket")])
    return Sheet(1, "Do not call", rows)
