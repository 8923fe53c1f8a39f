"""``/_mock/docstore/...``: a caller's stored preferences, and each table's provisioned
throughput (lowered by a test or a demo to see throttling without hundreds of requests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from mocks.docstore.routes import Docstore
from mocks.docstore.store import PREFERENCES_TABLE
from mocks.platform.control import GUARDED

__all__ = ["ThroughputUpdate", "router"]


class ThroughputUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read_units_per_s: int | None = Field(None, ge=1, le=1_000_000)
    write_units_per_s: int | None = Field(None, ge=1, le=1_000_000)


router = APIRouter(tags=["docstore"])


@router.get("/throughput", summary="Each table's read and write units a second, and refusals")
def throughput(docstore: Docstore) -> dict[str, Any]:
    return {
        name: {
            "read_units_per_s": table.read_units,
            "write_units_per_s": table.write_units,
            "reads_refused": docstore.buckets[name][0].refused,
            "writes_refused": docstore.buckets[name][1].refused,
        }
        for name, table in docstore.tables.items()
    }


@router.put("/throughput", dependencies=GUARDED, summary="Set caller_preferences' throughput")
def set_throughput(body: ThroughputUpdate, docstore: Docstore) -> dict[str, Any]:
    docstore.set_throughput(PREFERENCES_TABLE, body.read_units_per_s, body.write_units_per_s)
    return throughput(docstore)


@router.get("/preferences/{customer_id}", summary="Every preference item of one customer")
def preferences(customer_id: str, docstore: Docstore) -> dict[str, Any]:
    table = docstore.tables[PREFERENCES_TABLE]
    items = [item for slot, item in sorted(table.items.items()) if slot[0] == customer_id]
    if not items:
        raise HTTPException(status_code=404, detail="no preferences for that customer")
    return {"customer_id": customer_id, "items": items}
