"""The generic enterprise REST style the loans and ERP systems share: ``X-Api-Key`` auth,
``{"data": [...], "next_cursor": ...}`` lists."""

from __future__ import annotations

from typing import Any

from integration.clients._http import AttemptBudget, AttemptState, VendorHttp
from integration.errors import MalformedResponse

__all__ = ["PAGE_LIMIT", "collect_pages"]

PAGE_LIMIT = 100  # the most these APIs serve per page
MAX_PAGES = 10  # one customer's records fit in one page; ten is a runaway guard


async def collect_pages(
    http: VendorHttp,
    operation: str,
    attempt: AttemptState,
    path: str,
    params: dict[str, str],
    api_key: str,
) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list, all pages inside the one attempt's time."""
    budget = AttemptBudget(attempt.timeout_s)
    headers = {"X-Api-Key": api_key}
    items: list[dict[str, Any]] = []
    query = {**params, "limit": str(PAGE_LIMIT)}
    for _ in range(MAX_PAGES):
        body = await http.send_json(
            operation,
            attempt,
            "GET",
            path,
            timeout_s=budget.left(),
            params=query,
            headers=headers,
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise http.malformed(operation, attempt, "list response has no data array")
        items.extend(item for item in data if isinstance(item, dict))
        cursor = body.get("next_cursor")
        if not cursor:
            return items
        query = {**query, "cursor": str(cursor)}
    raise MalformedResponse(http.system, operation, f"more than {MAX_PAGES} pages of results")
