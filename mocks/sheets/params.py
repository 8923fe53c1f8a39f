"""Query parameters and bodies of the values API, checked the way Sheets checks them: an
unknown enum value or a malformed body is a 400 naming the field, never quoting it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mocks.sheets.cells import DATE_OPTIONS, RENDER_OPTIONS, Cell, entered, raw
from mocks.sheets.errors import SheetsError
from mocks.sheets.store import MAX_COLUMNS

__all__ = ["AppendOptions", "ReadOptions", "rows_of"]

DIMENSIONS = ("ROWS", "COLUMNS")
INPUT_OPTIONS = ("RAW", "USER_ENTERED")
INSERT_OPTIONS = ("OVERWRITE", "INSERT_ROWS")
MAX_APPEND_ROWS = 1000
MAX_CELL_CHARS = 50_000  # Google's limit for one cell


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise SheetsError.invalid(
            f"Invalid value at '{name}': expected one of {', '.join(allowed)}",
            name,
            f"must be one of {', '.join(allowed)}",
        )
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise SheetsError.invalid(
            f"Invalid value at '{name}': expected true or false", name, "must be true or false"
        )
    return value == "true"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    render: str = "FORMATTED_VALUE"
    dates: str = "SERIAL_NUMBER"
    by_columns: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str], prefix: str = "") -> ReadOptions:
        """``prefix`` is ``response`` for an append's ``responseValueRenderOption``."""

        def named(name: str) -> str:
            return prefix + name[0].upper() + name[1:] if prefix else name

        return cls(
            _choice(params, named("valueRenderOption"), RENDER_OPTIONS, "FORMATTED_VALUE"),
            _choice(params, named("dateTimeRenderOption"), DATE_OPTIONS, "SERIAL_NUMBER"),
            _choice(params, "majorDimension", DIMENSIONS, "ROWS") == "COLUMNS"
            if not prefix
            else False,
        )


@dataclass(frozen=True, slots=True)
class AppendOptions:
    user_entered: bool
    insert_rows: bool
    include_values: bool
    response: ReadOptions

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AppendOptions:
        if "valueInputOption" not in params:
            raise SheetsError.invalid(
                "'valueInputOption' is required but not specified",
                "valueInputOption",
                "required: RAW or USER_ENTERED",
            )
        return cls(
            _choice(params, "valueInputOption", INPUT_OPTIONS, "RAW") == "USER_ENTERED",
            _choice(params, "insertDataOption", INSERT_OPTIONS, "OVERWRITE") == "INSERT_ROWS",
            _flag(params, "includeValuesInResponse"),
            ReadOptions.from_params(params, "response"),
        )


def _invalid(field: str, description: str) -> SheetsError:
    return SheetsError.invalid(f"Invalid value at '{field}': {description}", field, description)


def rows_of(body: Any, user_entered: bool) -> tuple[list[list[Cell | None]], str | None]:
    """A ValueRange body as rows of cells, and the ``range`` it names (if any)."""
    if not isinstance(body, dict):
        raise _invalid("data", "the body must be a ValueRange object")
    named = body.get("range")
    if named is not None and not isinstance(named, str):
        raise _invalid("data.range", "must be a string in A1 notation")
    dimension = body.get("majorDimension", "ROWS")
    if dimension not in DIMENSIONS:
        raise _invalid("data.major_dimension", "must be ROWS or COLUMNS")
    values = body.get("values", [])
    if not isinstance(values, list) or not all(isinstance(line, list) for line in values):
        raise _invalid("data.values", "must be a list of lists of values")
    if len(values) > MAX_APPEND_ROWS or any(len(line) > MAX_COLUMNS for line in values):
        raise _invalid("data.values", f"at most {MAX_APPEND_ROWS} rows of {MAX_COLUMNS} values")
    parse = entered if user_entered else raw
    lines = [[_cell(value, parse, index) for value in line] for index, line in enumerate(values)]
    if dimension == "COLUMNS":
        width = max((len(line) for line in lines), default=0)
        lines = [[line[r] if r < len(line) else None for line in lines] for r in range(width)]
        if len(lines) > MAX_APPEND_ROWS or any(len(line) > MAX_COLUMNS for line in lines):
            raise _invalid("data.values", f"at most {MAX_APPEND_ROWS} rows of {MAX_COLUMNS} values")
    return lines, named


def _cell(value: Any, parse: Any, index: int) -> Cell | None:
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise _invalid(f"data.values[{index}]", f"a cell holds at most {MAX_CELL_CHARS} characters")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise _invalid(f"data.values[{index}]", "each value must be text, a number or a boolean")
    cell: Cell | None = parse(value)
    return cell
