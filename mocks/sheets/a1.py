"""A1 notation: ``'VIP callers'!A2:F``, ``Sheet1!B:B``, ``3:5``, ``A1``, or a sheet's title.

A range parses to a ``CellRange`` on one sheet: zero-based rows and columns, the end
exclusive, ``None`` where the notation leaves an end open (``A:C`` has no row bounds). Only
what a hand-kept list needs is read; named ranges and R1C1 are not. Columns take at most
three letters and rows seven digits, so no text parses into an unbounded number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CellRange", "RangeError", "column_letters", "parse_range", "quote_title"]

_CELL = re.compile(r"([A-Za-z]{1,3})?([0-9]{1,7})?")
_BARE_TITLE = re.compile(r"[A-Za-z0-9_]+")
MAX_TEXT = 1000  # a range longer than this is no range any sheet has


class RangeError(ValueError):
    """The text is not a range this spreadsheet can answer (the message never quotes it)."""


@dataclass(frozen=True, slots=True)
class CellRange:
    title: str
    row0: int | None  # first row, zero-based; None: from the first
    row1: int | None  # after the last row; None: to the end of the grid
    col0: int | None
    col1: int | None

    def bounded(self, rows: int, columns: int) -> tuple[int, int, int, int]:
        """(row0, row1, col0, col1) with open ends closed at the grid's edge."""
        return (
            self.row0 or 0,
            rows if self.row1 is None else self.row1,
            self.col0 or 0,
            columns if self.col1 is None else self.col1,
        )


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def quote_title(title: str) -> str:
    """A title as A1 notation writes it: bare when it is plain, else in single quotes."""
    if _BARE_TITLE.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def parse_range(text: str, titles: list[str]) -> CellRange:
    """``text`` on one of ``titles`` (the sheets in order; a range naming none is on the first)."""
    if not text or len(text) > MAX_TEXT:
        raise RangeError("empty or too long")
    title, cells = _split(text, titles)
    if title not in titles:
        raise RangeError("no sheet has that title")
    if cells is None:
        return CellRange(title, None, None, None, None)
    start, _, end = cells.partition(":")
    if not end:  # one cell: a bare column ("B") or row ("3") is no range Google reads
        row, column = _cell(start)
        if row is None or column is None:
            raise RangeError("a single cell needs a column and a row")
        return CellRange(title, row, row + 1, column, column + 1)
    (row0, col0), (row1, col1) = _cell(start), _cell(end)
    rows, columns = _ordered(row0, row1), _ordered(col0, col1)
    return CellRange(title, rows[0], rows[1], columns[0], columns[1])


def _split(text: str, titles: list[str]) -> tuple[str, str | None]:
    if text.startswith("'"):
        closing = _closing_quote(text)
        title = text[1:closing].replace("''", "'")
        rest = text[closing + 1 :]
        if not rest:
            return title, None
        if not rest.startswith("!") or len(rest) == 1:
            raise RangeError("a quoted title must be followed by ! and cells")
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        if not cells:
            raise RangeError("no cells after !")
        return title, cells
    if text in titles:
        return text, None
    if not titles:
        raise RangeError("the spreadsheet has no sheets")
    return titles[0], text


def _closing_quote(text: str) -> int:
    index = 1
    while index < len(text):
        if text[index] == "'":
            if index + 1 < len(text) and text[index + 1] == "'":
                index += 2
                continue
            return index
        index += 1
    raise RangeError("an unclosed quote")


def _cell(text: str) -> tuple[int | None, int | None]:
    """(row, column), zero-based; either may be absent (``B`` or ``3``), not both."""
    match = _CELL.fullmatch(text)
    if not text or match is None:
        raise RangeError("not a cell")
    letters, digits = match.groups()
    row = int(digits) - 1 if digits else None
    if row is not None and row < 0:
        raise RangeError("rows start at 1")
    return row, _column_index(letters) if letters else None


def _ordered(first: int | None, last: int | None) -> tuple[int | None, int | None]:
    """A start and an exclusive end, in either order the notation gave them."""
    if first is not None and last is not None:
        low, high = sorted((first, last))
        return low, high + 1
    return first, None if last is None else last + 1
