"""Cells as Sheets keeps them, and how each ``valueRenderOption`` shows them.

A cell holds its value (text, a number, a boolean), the text the sheet displays, and the
formula that computed it, if any. A date is a number (days since 1899-12-30, Sheets' serial
numbers) displayed as a date. What a client writes with ``valueInputOption=USER_ENTERED`` is
parsed as if typed into the sheet: ``4155550123`` becomes a number (the reason phone numbers
in sheets lose their leading ``+``), ``TRUE`` a boolean, ``3/14/2024`` a date; a leading
apostrophe keeps text as text. Formulas a client writes are kept, not evaluated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

__all__ = ["RENDER_OPTIONS", "Cell", "date_cell", "entered", "number_text", "raw", "rendered"]

Value = str | int | float | bool
RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
EPOCH = date(1899, 12, 30)
_NUMBER = re.compile(r"[+-]?(\d{1,15}(\.\d{1,10})?|\.\d{1,10})")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True, slots=True)
class Cell:
    value: Value
    shown: str  # what the sheet displays
    formula: str | None = None
    kind: Literal["text", "number", "bool", "date"] = "text"


def number_text(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        return str(int(value))
    return repr(value)


def raw(value: Any) -> Cell | None:
    """A JSON value written with ``RAW``: kept exactly as sent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Cell(value, "TRUE" if value else "FALSE", kind="bool")
    if isinstance(value, int | float):
        return Cell(value, number_text(value), kind="number")
    return Cell(str(value), str(value))


def entered(value: Any) -> Cell | None:
    """A JSON value written with ``USER_ENTERED``: text parsed as the sheet's UI would."""
    if not isinstance(value, str):
        return raw(value)
    if value.startswith("'"):
        return raw(value[1:])
    text = value.strip()
    if text.startswith("="):
        return Cell("", "", formula=text)
    if text.upper() in ("TRUE", "FALSE"):
        return raw(text.upper() == "TRUE")
    if _NUMBER.fullmatch(text):
        number = float(text)
        return raw(int(number) if number == int(number) and "." not in text else number)
    day = _parsed_date(text)
    if day is not None:
        return date_cell(day)
    return raw(value)


def _parsed_date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_cell(day: date) -> Cell:
    return Cell((day - EPOCH).days, f"{day.month}/{day.day}/{day.year}", kind="date")


def rendered(cell: Cell, render: str, dates: str) -> Value:
    """The cell as ``valueRenderOption`` / ``dateTimeRenderOption`` ask."""
    if render == "FORMATTED_VALUE":
        return cell.shown
    if render == "FORMULA" and cell.formula is not None:
        return cell.formula
    if cell.kind == "date" and dates == "FORMATTED_STRING":
        return cell.shown
    return cell.value


def serial_to_date(serial: int) -> date:
    return EPOCH + timedelta(days=serial)
