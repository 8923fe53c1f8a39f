"""The three ways the lookup benchmark reads a caller, over the same clients.

* ``layer``: ``CallerLookup.lookup()``: the graph under one deadline, through the policies;
* ``bare``: the same graph with a plain ``asyncio.gather`` and no policies (what the graph
  alone costs on this machine, the ceiling the layer is compared with);
* ``naive``: every source awaited in turn, no deadline, nothing side by side.

Each returns the fields that were not live, as ``field:status:reason`` counts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from integration.bootstrap import Integration
from integration.clients import LayerClients
from integration.lookup.view import FIELDS
from integration.policies.executor import Attempt
from loadtests.lookup.phases import pct
from loadtests.stack.callers import Caller

__all__ = ["FIELDS", "PRODUCT", "SOURCES", "Lookup", "bare", "layer", "naive", "solo_p50s"]

PRODUCT = "LOAN-PERSONAL"
GENEROUS_S = 5.0  # a call's own limit outside the layer: far above any injected latency
# client method -> system, in the order the naive baseline awaits them. The caller lists
# (sheets) are not among them: read once per call they would spend the sheet's per-minute
# quota within seconds at bench rates, while the layer reads them once per 30 s (fresh_s).
SOURCES: dict[str, str] = {
    "contacts": "crm",
    "call_history": "telephony",
    "accounts": "database",
    "eligibility": "eligibility",
    "loans": "loans",
    "orders": "erp",
    "holdings": "core",
}
CUSTOMER_SOURCES = ("accounts", "eligibility", "loans", "orders", "holdings")

Lookup = Callable[[Caller, str], Awaitable[Counter[str]]]
SourceCall = Callable[[str], Awaitable[Any]]


def _calls(clients: LayerClients, caller: Caller, key: str) -> dict[str, SourceCall]:
    """Each source as ``customer_id -> awaitable`` with a generous attempt of its own; the
    CRM and telephony read by phone, the others by the customer id."""

    def attempt() -> Attempt:
        return Attempt(number=1, timeout_s=GENEROUS_S)

    return {
        "contacts": lambda _c: clients.contacts(attempt(), caller.phone),
        "call_history": lambda _c: clients.call_history(attempt(), caller.phone),
        "accounts": lambda c: clients.accounts(attempt(), c),
        "eligibility": lambda c: clients.eligibility(attempt(), c, PRODUCT, key),
        "loans": lambda c: clients.loans(attempt(), c),
        "orders": lambda c: clients.orders(attempt(), c),
        "holdings": lambda c: clients.holdings(attempt(), c),
    }


def _customer_id(contacts: list[dict[str, Any]]) -> str:
    return str(contacts[0].get("Customer_Id__c")) if contacts else ""


async def solo_p50s(
    clients: LayerClients, callers: Sequence[Caller], calls: int
) -> dict[str, float]:
    """p50 of ``calls`` sequential calls per source (system -> ms), after one call that
    warms the connection (and, for the CRM, fetches the OAuth token)."""
    p50s: dict[str, float] = {}
    for source, system in SOURCES.items():
        timings: list[float] = []
        for n in range(calls + 1):
            caller = callers[n % len(callers)]
            call = _calls(clients, caller, f"bench-solo-{n}")[source]
            started = time.perf_counter()
            await call(caller.customer_id)
            if n:
                timings.append((time.perf_counter() - started) * 1000)
        p50s[system] = pct(timings, 50)
    return p50s


def layer(integration: Integration) -> Lookup:
    async def one(caller: Caller, call_id: str) -> Counter[str]:
        view = await integration.lookup.lookup(caller.phone, call_id=call_id, product=PRODUCT)
        degraded: Counter[str] = Counter()
        for name in FIELDS:
            prov = getattr(view, name).provenance
            if prov.status != "live":
                degraded[f"{name}:{prov.status}:{prov.reason}"] += 1
        return degraded

    return one


def bare(clients: LayerClients) -> Lookup:
    async def one(caller: Caller, call_id: str) -> Counter[str]:
        calls = _calls(clients, caller, call_id)

        async def customer_chain() -> None:
            customer_id = _customer_id(await calls["contacts"](""))
            await asyncio.gather(*(calls[name](customer_id) for name in CUSTOMER_SOURCES))

        await asyncio.gather(calls["call_history"](""), customer_chain())
        return Counter()

    return one


def naive(clients: LayerClients) -> Lookup:
    async def one(caller: Caller, call_id: str) -> Counter[str]:
        calls = _calls(clients, caller, call_id)
        customer_id = _customer_id(await calls["contacts"](""))
        for source in list(SOURCES)[1:]:
            await calls[source](customer_id)
        return Counter()

    return one
