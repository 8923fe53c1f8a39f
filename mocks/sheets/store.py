"""Spreadsheets: sheets of cells, read by range and appended to as Sheets does.

Rows are lists of cells (``None`` for an empty one), as ragged as a hand-kept sheet. Reads
trim what Sheets trims: empty cells at the end of a row and empty rows at the end of the
range; an empty row in the middle stays, as ``[]``. An append finds the table in its range
(from the range's first row to the last row holding data in the range's columns) and
writes below it, so a blank row inside a list never swallows new rows (Google's own search
for "the table" is subtler; this is the part a list needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mocks.sheets.a1 import CellRange, column_letters, quote_title
from mocks.sheets.cells import Cell, Value, rendered

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "Sheet", "Spreadsheet", "range_text"]

# The mock's grid limits (Google's is ten million cells a spreadsheet).
MAX_ROWS = 5000
MAX_COLUMNS = 52

Row = list[Cell | None]


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: list[Row]
    row_count: int = 1000
    column_count: int = 26
    frozen_rows: int = 1

    def cell(self, row: int, column: int) -> Cell | None:
        if row >= len(self.rows) or column >= len(self.rows[row]):
            return None
        return self.rows[row][column]

    def window(self, where: CellRange) -> tuple[int, int, int, int]:
        return where.bounded(self.row_count, self.column_count)

    def read(
        self, where: CellRange, render: str, dates: str, by_columns: bool
    ) -> list[list[Value]]:
        row0, row1, col0, col1 = self.window(where)
        grid = [
            [self.cell(r, c) for c in range(col0, col1)]
            for r in range(row0, min(row1, len(self.rows)))
        ]
        if by_columns:
            grid = [list(column) for column in zip(*grid, strict=True)] if grid else []
        lines = [_trimmed(line) for line in grid]
        while lines and not lines[-1]:
            lines.pop()
        return [["" if c is None else rendered(c, render, dates) for c in line] for line in lines]

    def table_end(self, where: CellRange) -> tuple[int, int]:
        """(first row of the table, the row after its last), in the range's columns."""
        row0, _, col0, col1 = self.window(where)
        filled = [
            r
            for r in range(row0, len(self.rows))
            if any(self.cell(r, c) is not None for c in range(col0, col1))
        ]
        if not filled:
            return row0, row0
        return filled[0], filled[-1] + 1

    def write(self, top: int, left: int, block: list[Row], insert: bool) -> None:
        if insert and top < len(self.rows):  # rows below move down; at the end, nothing to move
            self.rows[top:top] = [[] for _ in block]
        for offset, cells in enumerate(block):
            at = top + offset
            while len(self.rows) <= at:
                self.rows.append([])
            line = self.rows[at]
            while len(line) < left + len(cells):
                line.append(None)
            line[left : left + len(cells)] = cells
        self.row_count = max(self.row_count, len(self.rows))
        self.column_count = max(self.column_count, max((len(r) for r in self.rows), default=0))

    def properties(self, index: int) -> dict[str, Any]:
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {
                "rowCount": self.row_count,
                "columnCount": self.column_count,
                "frozenRowCount": self.frozen_rows,
            },
        }


def _trimmed(line: list[Cell | None]) -> list[Cell | None]:
    end = len(line)
    while end and line[end - 1] is None:
        end -= 1
    return line[:end]


def range_text(title: str, row0: int, row1: int, col0: int, col1: int) -> str:
    """``'VIP callers'!A1:F40`` (one cell: ``'VIP callers'!A1``)."""
    first = f"{column_letters(col0)}{row0 + 1}"
    last = f"{column_letters(col1 - 1)}{row1}"
    cells = first if (row1 - row0, col1 - col0) == (1, 1) else f"{first}:{last}"
    return f"{quote_title(title)}!{cells}"


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    locale: str = "en_US"
    time_zone: str = "America/New_York"

    def titles(self) -> list[str]:
        return [sheet.title for sheet in self.sheets]

    def sheet(self, title: str) -> Sheet:
        return next(sheet for sheet in self.sheets if sheet.title == title)

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
            },
            "sheets": [
                {"properties": sheet.properties(index)} for index, sheet in enumerate(self.sheets)
            ],
            "spreadsheetUrl": f"{base_url}/sheets/d/{self.spreadsheet_id}/edit",
        }
