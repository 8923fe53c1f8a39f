"""Google Sheets API v4: the contact centre's hand-kept caller lists (VIP callers and
do-not-call numbers), read whole in one ``values.batchGet``.

The sheet is kept by people, so nothing in it is trusted to be tidy: the phone column is
found by its header (a column moved is still read; a header gone is a MalformedResponse),
every phone goes through ``integration.phones`` whatever its format (typed as a number,
with spaces, an extension, dashes), rows that hold no phone number (blank rows, "n/a",
the count at the foot) are skipped and counted, and a number listed twice is one entry.
Values are asked for unformatted, so a phone typed as a number arrives as a JSON number.

The answer is the whole of both lists, normalised: the caller lookup keeps it briefly
(the sheets policy's ``cache.fresh_s``) and picks the caller out of it, so a burst of
calls costs one read of Google's per-minute quota, not one per call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from integration.clients._http import AttemptState, VendorHttp
from integration.errors import InvalidPhoneNumber
from integration.phones import normalize_phone
from integration.settings import VendorCredentials
from integration.transports.base import Transport

__all__ = ["DNC_TAB", "VIP_TAB", "GoogleSheetsClient", "read_lists"]

VIP_TAB = "VIP callers"
DNC_TAB = "Do not call"
MAX_ROWS = 10_000  # a hand-kept list; more than this is not one
MAX_CELL_CHARS = 200
# ``ranges`` repeats, which a mapping of parameters cannot say: the query is written once.
_QUERY = "?" + urlencode(
    [
        ("ranges", f"'{VIP_TAB}'!A:F"),
        ("ranges", f"'{DNC_TAB}'!A:D"),
        ("valueRenderOption", "UNFORMATTED_VALUE"),
        ("majorDimension", "ROWS"),
    ]
)


class GoogleSheetsClient:
    system = "sheets"

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        credentials: VendorCredentials,
        spreadsheet_id: str,
    ) -> None:
        """``base_url`` is the root above ``/v4`` (the mocks: ``<mocks_url>/sheets``);
        ``spreadsheet_id`` the lists' sheet (``settings.caller_lists_sheet``)."""
        self.http = VendorHttp(transport, self.system, base_url)
        self._auth = {"Authorization": f"Bearer {credentials.google_access_token}"}
        self._path = f"/v4/spreadsheets/{quote(spreadsheet_id, safe='')}/values:batchGet"

    async def caller_lists(self, attempt: AttemptState) -> dict[str, Any]:
        """Both lists in one request: ``{"vip": {e164: {"tier"}}, "do_not_call": {e164:
        {"reason"}}, "skipped_rows": n}``; a tab or header gone is an error, not an empty list."""
        operation = "caller_lists"
        body = await self.http.send_json(
            operation, attempt, "GET", self._path + _QUERY, headers=self._auth
        )
        ranges = body.get("valueRanges") if isinstance(body, dict) else None
        if not isinstance(ranges, list) or len(ranges) != 2:
            raise self.http.malformed(operation, attempt, "batchGet has no two valueRanges")
        tables: list[list[Any]] = []
        for found in ranges:
            rows = found.get("values", []) if isinstance(found, dict) else None
            if not isinstance(rows, list) or len(rows) > MAX_ROWS:
                raise self.http.malformed(operation, attempt, "a valueRange is no list of rows")
            tables.append(rows)
        try:
            return read_lists(tables[0], tables[1])
        except ValueError as exc:
            raise self.http.malformed(operation, attempt, str(exc)) from None


def read_lists(vip_rows: list[Any], dnc_rows: list[Any]) -> dict[str, Any]:
    """The two tabs' rows (header first) as normalised lists; ValueError when a tab has
    no phone column."""
    vip, vip_skipped = _rows(vip_rows, VIP_TAB, "tier")
    dnc, dnc_skipped = _rows(dnc_rows, DNC_TAB, "reason")
    return {
        "vip": {phone: {"tier": extra} for phone, extra in vip.items()},
        "do_not_call": {phone: {"reason": extra} for phone, extra in dnc.items()},
        "skipped_rows": vip_skipped + dnc_skipped,
    }


def _rows(rows: list[Any], tab: str, extra: str) -> tuple[dict[str, str | None], int]:
    """phone -> the ``extra`` column's tidied text (first row wins), and rows skipped."""
    header = [_cell(c).lower() for c in rows[0]] if rows and isinstance(rows[0], list) else []
    phone_at = next((i for i, name in enumerate(header) if "phone" in name), None)
    if phone_at is None:
        raise ValueError(f"{tab!r} has no phone column in its header row")
    extra_at = next((i for i, name in enumerate(header) if extra in name), None)
    found: dict[str, str | None] = {}
    skipped = 0
    for row in rows[1:]:
        if not isinstance(row, list) or not any(_cell(c) for c in row):
            continue  # a blank row: nothing was lost
        phone = _phone(row[phone_at] if phone_at < len(row) else None)
        if phone is None:
            skipped += 1  # "n/a", a count, a typo: no number a call can come from
            continue
        text = _cell(row[extra_at]) if extra_at is not None and extra_at < len(row) else ""
        found.setdefault(phone, " ".join(text.split()).capitalize() or None)
    return found, skipped


def _cell(value: Any) -> str:
    """A cell as trimmed text; numbers typed into the sheet come unformatted as JSON numbers."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:MAX_CELL_CHARS].strip()


def _phone(value: Any) -> str | None:
    text = _cell(value)
    if not text:
        return None
    try:
        return normalize_phone(text)
    except InvalidPhoneNumber:
        return None
