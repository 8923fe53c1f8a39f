"""``GET /v1/payment_intents``: Stripe's cursor paging (newest first) and its list envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mocks.payments import errors
from mocks.payments._values import read_int, read_text, reject_unknown
from mocks.payments.records import PaymentIntent
from mocks.payments.store import PaymentsStore

__all__ = ["ListParams", "list_page", "parse_list"]

_KEYS = frozenset({"limit", "starting_after", "ending_before", "customer", "created", "expand"})
_RANGE = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True, slots=True)
class ListParams:
    limit: int
    starting_after: str | None
    ending_before: str | None
    customer: str | None
    created: dict[str, int]  # gt/gte/lt/lte -> unix seconds


def parse_list(params: dict[str, Any]) -> ListParams:
    reject_unknown(params, _KEYS)
    limit = read_int(params, "limit")
    if limit is not None and not 1 <= limit <= 100:
        raise errors.invalid_value(
            "limit",
            "This value must be between 1 and 100 (inclusive).",
            code="parameter_invalid_integer",
        )
    after, before = read_text(params, "starting_after"), read_text(params, "ending_before")
    if after and before:
        raise errors.invalid_value(
            "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
        )
    return ListParams(
        limit=limit or 10,
        starting_after=after or None,
        ending_before=before or None,
        customer=read_text(params, "customer") or None,
        created=_created(params),
    )


def list_page(store: PaymentsStore, query: ListParams) -> dict[str, Any]:
    items = [i for i in reversed(store.intents.values()) if _matches(i, query)]
    if query.starting_after:
        anchor = store.intent(query.starting_after, "starting_after", status=400)
        items = [i for i in items if i.seq < anchor.seq]
        page, has_more = items[: query.limit], len(items) > query.limit
    elif query.ending_before:
        anchor = store.intent(query.ending_before, "ending_before", status=400)
        items = [i for i in items if i.seq > anchor.seq]
        page, has_more = items[-query.limit :], len(items) > query.limit
    else:
        page, has_more = items[: query.limit], len(items) > query.limit
    return {
        "object": "list",
        "data": [i.as_json() for i in page],
        "has_more": has_more,
        "url": "/v1/payment_intents",
    }


def _created(params: dict[str, Any]) -> dict[str, int]:
    raw = params.get("created")
    if raw is None:
        return {}
    if isinstance(raw, str):
        exact = read_int(params, "created")
        assert exact is not None
        return {"gte": exact, "lte": exact}
    if not isinstance(raw, dict):
        raise errors.invalid_value("created", "Invalid created: must be an integer or a hash")
    reject_unknown(raw, frozenset(_RANGE), "created")
    bounds: dict[str, int] = {}
    for name in _RANGE:
        value = read_int(raw, name, param=f"created[{name}]")
        if value is not None:
            bounds[name] = value
    return bounds


def _matches(intent: PaymentIntent, query: ListParams) -> bool:
    if query.customer and intent.fields.get("customer") != query.customer:
        return False
    at, bounds = intent.created, query.created
    return not (
        ("gt" in bounds and not at > bounds["gt"])
        or ("gte" in bounds and not at >= bounds["gte"])
        or ("lt" in bounds and not at < bounds["lt"])
        or ("lte" in bounds and not at <= bounds["lte"])
    )
