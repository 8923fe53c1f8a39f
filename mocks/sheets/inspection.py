"""``/_mock/sheets/...``: the caller lists as the integration should read them, and the
per-minute quotas (a test or a demo lowers them to see 429s without 300 requests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from mocks.dataset import to_e164
from mocks.platform.control import GUARDED
from mocks.sheets.routes import Sheets
from mocks.sheets.store import Sheet

__all__ = ["QuotaUpdate", "router"]


class QuotaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read_requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    write_requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)


router = APIRouter(tags=["sheets"])


def _phones(sheet: Sheet, column: int) -> list[str]:
    """Each row's phone in E.164 (the header and what is no phone number are left out)."""
    found: set[str] = set()
    for row in sheet.rows[1:]:
        cell = row[column] if column < len(row) else None
        number = to_e164(cell.shown.strip()) if cell is not None else None
        if number is not None:
            found.add(number)
    return sorted(found)


@router.get("/lists", summary="The VIP and do-not-call numbers, normalised to E.164")
def lists(sheets: Sheets) -> dict[str, Any]:
    book = sheets.caller_lists
    return {
        "spreadsheet_id": book.spreadsheet_id,
        "vip": _phones(book.sheet("VIP callers"), 1),
        "do_not_call": _phones(book.sheet("Do not call"), 0),
    }


@router.get("/quota", summary="The per-minute read and write quotas and what is used")
def quota(sheets: Sheets) -> dict[str, Any]:
    return {"reads": sheets.reads.describe(), "writes": sheets.writes.describe()}


@router.put("/quota", dependencies=GUARDED, summary="Change the quotas; a new minute starts")
def set_quota(body: QuotaUpdate, sheets: Sheets) -> dict[str, Any]:
    if body.read_requests_per_minute is not None:
        sheets.reads.restart(body.read_requests_per_minute)
    if body.write_requests_per_minute is not None:
        sheets.writes.restart(body.write_requests_per_minute)
    return quota(sheets)
