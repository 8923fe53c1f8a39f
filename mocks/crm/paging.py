"""Query result batches and the query locators that fetch the rest.

Salesforce returns at most one batch per response (2,000 by default; 200 to 2,000 via
``Sforce-Query-Options: batchSize=N``) and a ``nextRecordsUrl`` ending in
``<locator>-<offset>``. The mock keeps the finished result per locator (a bounded
number of them, oldest forgotten first, like Salesforce's limit on open cursors).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from mocks.crm._ids import IdFactory
from mocks.crm.errors import SalesforceError

__all__ = ["DEFAULT_BATCH", "QueryCursors", "batch_size_from"]

DEFAULT_BATCH = 2000
MIN_BATCH = 200
_MAX_OPEN_CURSORS = 64


def batch_size_from(header: str | None) -> int:
    """Read ``Sforce-Query-Options``; sizes outside 200..2000 are clamped as Salesforce does."""
    if not header:
        return DEFAULT_BATCH
    for option in header.split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() != "batchsize":
            continue
        try:
            size = int(value.strip())
        except ValueError:
            raise SalesforceError(
                400,
                "INVALID_QUERY_OPTIONS",
                "Sforce-Query-Options: batchSize must be a whole number",
            ) from None
        return max(MIN_BATCH, min(DEFAULT_BATCH, size))
    return DEFAULT_BATCH


class QueryCursors:
    def __init__(self) -> None:
        self._ids = IdFactory()
        self._open: OrderedDict[str, tuple[list[dict[str, Any]], int]] = OrderedDict()

    def first_page(self, records: list[dict[str, Any]], batch: int, version: str) -> dict[str, Any]:
        if len(records) <= batch:
            return {"totalSize": len(records), "done": True, "records": records}
        locator = self._ids.new("01g")
        self._open[locator] = (records, batch)
        while len(self._open) > _MAX_OPEN_CURSORS:
            self._open.popitem(last=False)
        return self._page(locator, 0, version)

    def next_page(self, cursor: str, version: str) -> dict[str, Any]:
        """``cursor`` is ``<locator>-<offset>`` as the previous page's nextRecordsUrl ends."""
        locator, _, offset = cursor.rpartition("-")
        # An offset is ASCII digits (isdigit() also takes "²", which int() refuses).
        well_formed = offset.isascii() and offset.isdigit() and len(offset) <= 9
        if (
            locator not in self._open
            or not well_formed
            or int(offset) > len(self._open[locator][0])
        ):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        self._open.move_to_end(locator)
        return self._page(locator, int(offset), version)

    def clear(self) -> None:
        self._open.clear()

    def _page(self, locator: str, offset: int, version: str) -> dict[str, Any]:
        records, batch = self._open[locator]
        end = offset + batch
        page: dict[str, Any] = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{end}"
        return page
