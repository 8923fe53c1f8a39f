"""A team's hand-kept caller lists, speaking Google Sheets API v4."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from mocks.platform.credentials import same_secret
from mocks.platform.idempotency import IdempotencyConflict, IdempotencyMismatch, StoredResponse
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.sheets.a1 import CellRange, RangeError, parse_range
from mocks.sheets.errors import SheetsError, bad_request, quota_exceeded, sheets_error_body
from mocks.sheets.params import AppendOptions, ReadOptions, rows_of
from mocks.sheets.quota import MinuteQuota
from mocks.sheets.seed import CALLER_LISTS_ID, caller_lists
from mocks.sheets.store import MAX_COLUMNS, MAX_ROWS, Sheet, Spreadsheet, range_text

__all__ = ["SheetsService"]

_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
MAX_BATCH_RANGES = 100
MAX_SPREADSHEETS = 50  # created ones, on top of the seeded list
MAX_TITLE = 100
MAX_NEW_SHEETS = 20


class SheetsService(MockService):
    name = "sheets"
    title = "Sheets"
    vendor = "Google Sheets API v4"
    summary = (
        "A team's hand-kept caller lists (VIP callers, do-not-call numbers) in a Google "
        "spreadsheet, under /sheets/v4: spreadsheets.get/create and spreadsheets.values "
        "get, batchGet and append, with A1 ranges, valueRenderOption, dateTimeRenderOption "
        "and majorDimension. Per-minute read and write quotas answer 429 RESOURCE_EXHAUSTED "
        "(no Retry-After, as Google). Appends are not idempotent at Google; here an "
        "Idempotency-Key header makes them so."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.reads = MinuteQuota(ctx.clock)
        self.writes = MinuteQuota(ctx.clock)
        self.spreadsheets = self._seeded()
        self._created = 0

    def _seeded(self) -> dict[str, Spreadsheet]:
        lists = caller_lists(self.ctx.dataset)
        return {lists.spreadsheet_id: lists}

    def reset(self) -> None:
        super().reset()
        self.spreadsheets = self._seeded()
        self._created = 0
        self.reads = MinuteQuota(self.ctx.clock)
        self.writes = MinuteQuota(self.ctx.clock)

    @property
    def caller_lists(self) -> Spreadsheet:
        return self.spreadsheets[CALLER_LISTS_ID]

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expected = self.ctx.settings.credentials.google_access_token
        if scheme.lower() == "bearer" and same_secret(token.strip(), expected):
            return None
        return AuthFailure(401, "unauthorized", _UNAUTHENTICATED)

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        if reason == "unauthorized":
            return sheets_error_body(status, _UNAUTHENTICATED)
        if reason == "rate_limited":
            return quota_exceeded("Read requests", "Read requests per minute per user", None)
        if reason == "not_found":
            return sheets_error_body(status, "Requested entity was not found.")
        if field is not None:
            return bad_request(message, field, message)
        return sheets_error_body(status, message)

    # -- quotas ---------------------------------------------------------------------

    def _read_quota(self) -> None:
        if not self.reads.take():
            self.ctx.chaos.stats.count_fault(self.name, "read_quota")
            body = quota_exceeded(
                "Read requests", "Read requests per minute per user", self.reads.per_minute
            )
            raise SheetsError(429, body)

    def _write_quota(self) -> None:
        if not self.writes.take():
            self.ctx.chaos.stats.count_fault(self.name, "write_quota")
            body = quota_exceeded(
                "Write requests", "Write requests per minute per user", self.writes.per_minute
            )
            raise SheetsError(429, body)

    # -- reads ----------------------------------------------------------------------

    def _spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        found = self.spreadsheets.get(spreadsheet_id)
        if found is None:
            raise SheetsError.not_found()
        return found

    def get_spreadsheet(self, spreadsheet_id: str) -> dict[str, Any]:
        self._read_quota()
        return self._spreadsheet(spreadsheet_id).to_json(self.ctx.base_url)

    def get_values(
        self, spreadsheet_id: str, text: str, params: Mapping[str, str]
    ) -> dict[str, Any]:
        self._read_quota()
        book = self._spreadsheet(spreadsheet_id)
        return _value_range(book, text, ReadOptions.from_params(params))

    def batch_get(
        self, spreadsheet_id: str, ranges: list[str], params: Mapping[str, str]
    ) -> dict[str, Any]:
        self._read_quota()
        book = self._spreadsheet(spreadsheet_id)
        if len(ranges) > MAX_BATCH_RANGES:
            raise SheetsError.invalid(
                f"At most {MAX_BATCH_RANGES} ranges a request", "ranges", "too many ranges"
            )
        options = ReadOptions.from_params(params)
        found = [_value_range(book, text, options) for text in ranges]
        return {"spreadsheetId": book.spreadsheet_id, "valueRanges": found}

    # -- writes: once per Idempotency-Key, each applied one recorded in the ledger ------

    async def append(
        self,
        spreadsheet_id: str,
        text: str,
        params: Mapping[str, str],
        body: Any,
        key: str | None,
        request_print: str,
    ) -> StoredResponse:
        def change() -> dict[str, Any]:
            self._write_quota()
            book = self._spreadsheet(spreadsheet_id)
            options = AppendOptions.from_params(params)
            where = _parsed(book, text)
            rows, named = rows_of(body, options.user_entered)
            if named is not None and _sheet_named(book, named) != where.title:
                raise SheetsError.invalid(
                    "Requested writing within a range on another sheet than the request's",
                    "data.range",
                    "must name the same sheet as the request's range",
                )
            return self._appended(book, book.sheet(where.title), where, rows, options, key)

        return await self._write(change, key, request_print)

    def _appended(
        self,
        book: Spreadsheet,
        sheet: Sheet,
        where: CellRange,
        rows: list[list[Any]],
        options: AppendOptions,
        key: str | None,
    ) -> dict[str, Any]:
        first, end = sheet.table_end(where)
        left = where.col0 or 0
        width = max((len(row) for row in rows), default=0)
        below = len(sheet.rows) - end if options.insert_rows and end < len(sheet.rows) else 0
        if end + below + len(rows) > MAX_ROWS or left + width > MAX_COLUMNS:
            raise SheetsError(
                400,
                sheets_error_body(
                    400,
                    "This action would increase the number of cells in the workbook above "
                    f"the limit ({MAX_ROWS} rows, {MAX_COLUMNS} columns a sheet here).",
                ),
            )
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        _, _, col0, col1 = sheet.window(where)
        if end > first:
            result["tableRange"] = range_text(sheet.title, first, end, col0, col1)
        updates: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if rows and width:
            sheet.write(end, left, rows, options.insert_rows)
            written = range_text(sheet.title, end, end + len(rows), left, left + width)
            cells = sum(len(row) for row in rows)
            updates |= {
                "updatedRange": written,
                "updatedRows": len(rows),
                "updatedColumns": width,
                "updatedCells": cells,
            }
            if options.include_values:
                at = CellRange(sheet.title, end, end + len(rows), left, left + width)
                updates["updatedData"] = {
                    "range": written,
                    "majorDimension": "ROWS",
                    "values": sheet.read(
                        at, options.response.render, options.response.dates, False
                    ),
                }
            self.ledger.record(
                "values.append",
                book.spreadsheet_id,
                key,
                sheet=sheet.title,
                range=written,
                rows=len(rows),
                first_values=["" if c is None else c.shown for c in rows[0]][:6],
            )
        result["updates"] = updates
        return result

    async def create(self, body: Any, key: str | None, request_print: str) -> StoredResponse:
        def change() -> dict[str, Any]:
            self._write_quota()
            if len(self.spreadsheets) > MAX_SPREADSHEETS:
                raise SheetsError.invalid(
                    "Too many spreadsheets in this mock; reset it", "spreadsheet", "limit reached"
                )
            book = _new_spreadsheet(body, self._next_id())
            self.spreadsheets[book.spreadsheet_id] = book
            self.ledger.record("spreadsheet.create", book.spreadsheet_id, key, title=book.title)
            return book.to_json(self.ctx.base_url)

        return await self._write(change, key, request_print)

    def _next_id(self) -> str:
        self._created += 1
        serial = f"{self.ctx.settings.seed}:{self._created}"
        digest = base64.urlsafe_b64encode(hashlib.sha256(serial.encode()).digest()).decode()
        return "1" + digest[:43]

    async def _write(
        self, change: Callable[[], dict[str, Any]], key: str | None, request_print: str
    ) -> StoredResponse:
        async def apply() -> StoredResponse:
            try:
                return StoredResponse(200, change())
            except SheetsError as exc:
                return StoredResponse(exc.status, exc.body)

        try:
            stored, _ = await self.idempotency.run(key, request_print, apply)
        except IdempotencyMismatch as exc:
            raise SheetsError.invalid(
                "Idempotency-Key was used with a different request.",
                "Idempotency-Key",
                "use a new key for a different request",
            ) from exc
        except IdempotencyConflict as exc:
            raise SheetsError(
                409,
                sheets_error_body(409, "A request with this Idempotency-Key is in progress."),
            ) from exc
        return stored


def _parsed(book: Spreadsheet, text: str) -> CellRange:
    try:
        return parse_range(text, book.titles())
    except RangeError as exc:
        raise SheetsError.invalid(
            "Unable to parse range", "range", "not a range in A1 notation on one of its sheets"
        ) from exc


def _sheet_named(book: Spreadsheet, text: str) -> str:
    return _parsed(book, text).title


def _value_range(book: Spreadsheet, text: str, options: ReadOptions) -> dict[str, Any]:
    where = _parsed(book, text)
    sheet = book.sheet(where.title)
    row0, row1, col0, col1 = sheet.window(where)
    if row1 > sheet.row_count or col1 > sheet.column_count or row0 >= row1 or col0 >= col1:
        raise SheetsError.invalid(
            f"Range exceeds grid limits. Max rows: {sheet.row_count}, max columns: "
            f"{sheet.column_count}",
            "range",
            "outside the sheet's grid",
        )
    values = sheet.read(where, options.render, options.dates, options.by_columns)
    answer: dict[str, Any] = {
        "range": range_text(sheet.title, row0, row1, col0, col1),
        "majorDimension": "COLUMNS" if options.by_columns else "ROWS",
    }
    if values:  # Google leaves "values" out of an empty range
        answer["values"] = values
    return answer


def _new_spreadsheet(body: Any, spreadsheet_id: str) -> Spreadsheet:
    body = body if isinstance(body, dict) else {}
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise SheetsError.invalid(
            "Invalid value at 'spreadsheet.properties'", "properties", "an object"
        )
    title = properties.get("title", "Untitled spreadsheet")
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise SheetsError.invalid(
            "Invalid value at 'spreadsheet.properties.title'",
            "properties.title",
            f"text of at most {MAX_TITLE} characters",
        )
    asked = body.get("sheets") or [{}]
    if not isinstance(asked, list) or len(asked) > MAX_NEW_SHEETS:
        raise SheetsError.invalid(
            "Invalid value at 'spreadsheet.sheets'", "sheets", f"at most {MAX_NEW_SHEETS} sheets"
        )
    titles: list[str] = []
    for index, entry in enumerate(asked):
        named = _sheet_title(entry, index)
        if named is None or named in titles:
            raise SheetsError.invalid(
                "Invalid sheets[].properties.title: each sheet needs a distinct title",
                f"sheets[{index}].properties.title",
                f"distinct text of 1 to {MAX_TITLE} characters",
            )
        titles.append(named)
    sheets = [Sheet(index, named, [], frozen_rows=0) for index, named in enumerate(titles)]
    return Spreadsheet(spreadsheet_id, title or "Untitled spreadsheet", sheets)


def _sheet_title(entry: Any, index: int) -> str | None:
    """The title a new sheet asks for (``Sheet<n>`` if none), or None when it is no title."""
    properties = entry.get("properties", {}) if isinstance(entry, dict) else None
    if not isinstance(properties, dict):
        return None
    title = properties.get("title", f"Sheet{index + 1}")
    return title if isinstance(title, str) and 0 < len(title) <= MAX_TITLE else None
