"""Field faults: the gateway drops or mangles a field of the records it answers with.

The failure an integration platform is known for: a mapping that stops producing a field
after a source changed, or leaves an expression unevaluated. Set on demand through
``PUT /_chaos/middleware/transform`` (a scenario's ``transform`` action), cleared with
``DELETE`` or ``POST /_chaos/reset``. The models are published: scenarios read them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mocks.middleware.mapping import LOAN_FIELDS, ORDER_FIELDS

__all__ = ["ROUTE_FIELDS", "FieldFault", "FieldFaults", "Route", "apply_faults", "mangled"]

Route = Literal["loan_applications", "loan_status", "orders"]
# Each route's canonical record, and so the fields a fault on it may name.
ROUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "loan_applications": LOAN_FIELDS,
    "loan_status": LOAN_FIELDS,
    "orders": ORDER_FIELDS,
}
MAX_FAULTS = 10


class FieldFault(BaseModel):
    """One field of one route's records, dropped or mangled with some probability."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    route: Route = Field(..., description="which answers: loan_applications, loan_status, orders")
    field: str = Field(..., min_length=1, max_length=40, description="a canonical field name")
    action: Literal["drop", "mangle"] = Field(
        "mangle", description="drop: the key is gone; mangle: an unevaluated expression"
    )
    probability: float = Field(1.0, ge=0, le=1, description="share of answers it hits")

    @model_validator(mode="after")
    def _field_of_the_route(self) -> FieldFault:
        known = ROUTE_FIELDS[self.route]
        if self.field not in known:
            raise ValueError(f"field: not a field of {self.route}; one of {', '.join(known)}")
        return self


class FieldFaults(BaseModel):
    """What ``PUT /_chaos/middleware/transform`` takes: the faults in force (replaced whole)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faults: tuple[FieldFault, ...] = Field(default=(), max_length=MAX_FAULTS)


def mangled(field: str) -> str:
    """What a mangled field holds: the mapping's expression, never evaluated (as a
    DataWeave ``#[...]`` shows when its input changed shape)."""
    return f"#[payload.{field}]"


def apply_faults(
    route: str,
    records: Iterable[dict[str, Any]],
    faults: Iterable[FieldFault],
    rng: random.Random,
) -> tuple[list[dict[str, Any]], list[str]]:
    """``records`` with the faults in force applied (each fault drawn once per answer);
    also the faults applied, as ``drop:<field>`` / ``mangle:<field>``."""
    hits = [f for f in faults if f.route == route and rng.random() < f.probability]
    out = [dict(record) for record in records]
    for fault in hits:
        for record in out:
            if fault.action == "drop":
                record.pop(fault.field, None)
            else:
                record[fault.field] = mangled(fault.field)
    return out, [f"{fault.action}:{fault.field}" for fault in hits]
