"""The caller lookup: a small dependency graph under one deadline.

    phone ─┬─▶ telephony: call history
           ├─▶ sheets: the VIP and do-not-call lists (read whole, kept fresh briefly)
           └─▶ crm: contacts by phone ─▶ customer id ─┬─▶ database: accounts
                                                     ├─▶ eligibility: a product check
                                                     ├─▶ loans: applications
                                                     ├─▶ erp: orders
                                                     └─▶ core (SOAP): holdings

Every step goes through its system's ``SourceExecutor`` (timeouts, retries, breaker,
bulkhead, hedging, last-known-good cache) with the lookup's one ``Deadline``. When the
deadline arrives, whatever has not answered is cancelled and filled from the cache, or
marked missing with the reason, so the lookup returns on time whatever the sources do.
A step whose policy keeps its answers fresh (``cache.fresh_s``: the caller lists, one
whole-list read under a per-minute quota) is answered from this worker's copy while it
is younger than that, without a request; its provenance is live, with the copy's age.
Lookups that need such a read while one is already on the wire wait for that one rather
than send their own, so a burst before the first copy still costs one request.
Hand-written because asyncio's TaskGroup cancels everything on the first error, while a
caller lookup must keep what it has and give every missing field its own reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from integration.errors import InvalidField, NotFound, Rejected, SourceError
from integration.lookup.duplicates import choose_contact
from integration.lookup.recommend import recommend
from integration.lookup.view import (
    CallerView,
    DuplicateReport,
    Provenance,
    Sourced,
    StepTiming,
)
from integration.phones import normalize_phone
from integration.policies.deadline import Deadline
from integration.policies.executor import Attempt, SourceExecutor

__all__ = ["STEPS", "CallerLookup", "LookupClients"]

log = logging.getLogger(__name__)

# step -> (system, operation): the names events, metrics and policies use.
STEPS: dict[str, tuple[str, str]] = {
    "contact": ("crm", "find_contacts_by_phone"),
    "call_history": ("telephony", "recent_calls"),
    "accounts": ("database", "accounts_for_customer"),
    "eligibility": ("eligibility", "check"),
    "loans": ("loans", "applications_for_customer"),
    "orders": ("erp", "orders_for_customer"),
    "holdings": ("core", "customer_holdings"),
    "caller_flags": ("sheets", "caller_lists"),
}
LISTS_KEY = "caller_lists"  # one whole-list answer, whoever is calling
CUSTOMER_STEPS = ("accounts", "eligibility", "loans", "orders", "holdings")


class LookupClients(Protocol):
    """The clients the lookup reads from (see ``integration.clients``)."""

    async def contacts(self, attempt: Attempt, phone: str) -> list[dict[str, Any]]: ...
    async def call_history(self, attempt: Attempt, phone: str) -> list[dict[str, Any]]: ...
    async def accounts(self, attempt: Attempt, customer_id: str) -> list[dict[str, Any]]: ...
    async def eligibility(
        self, attempt: Attempt, customer_id: str, product: str, key: str
    ) -> dict[str, Any]: ...
    async def loans(self, attempt: Attempt, customer_id: str) -> list[dict[str, Any]]: ...
    async def orders(self, attempt: Attempt, customer_id: str) -> list[dict[str, Any]]: ...
    async def holdings(self, attempt: Attempt, customer_id: str) -> dict[str, Any]: ...
    async def caller_lists(self, attempt: Attempt) -> dict[str, Any]: ...


@dataclass
class _Run:
    call_id: str | None
    deadline: Deadline
    started_at: float
    steps: dict[str, StepTiming] = field(default_factory=dict)
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)
    began: dict[str, float] = field(default_factory=dict)
    cache_keys: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)  # step -> the field that was wrong


class CallerLookup:
    def __init__(
        self,
        clients: LookupClients,
        executors: Mapping[str, SourceExecutor],
        *,
        default_deadline_ms: float,
        clock: Callable[[], float] = time.monotonic,
        default_product: str = "LOAN-PERSONAL",
        on_cache_hit: Callable[..., object] | None = None,
        gateways: Mapping[str, str] | None = None,
    ) -> None:
        """``gateways``: system -> the middleware it is reached through (the system map's
        ``path: middleware`` steps), so each value's provenance says which way it came."""
        self.on_cache_hit = on_cache_hit
        self.gateways = dict(gateways or {})
        self.clients = clients
        self.executors = executors
        self.default_deadline_ms = default_deadline_ms
        self.default_product = default_product
        self.clock = clock
        # Whole-list reads on the wire, by (system, operation, key): one at a time.
        self._reading: dict[tuple[str, str, str], asyncio.Future[Any]] = {}

    async def lookup(
        self,
        phone: str,
        *,
        deadline_ms: float | None = None,
        call_id: str | None = None,
        product: str | None = None,
        queued_ms: float = 0.0,
    ) -> CallerView:
        """``queued_ms``: how long the request waited before it was looked at, spent out
        of the deadline (never more than three quarters of it: a lookup with no time at
        all could only answer that everything is missing)."""
        e164 = normalize_phone(phone)
        budget_ms = deadline_ms or self.default_deadline_ms
        queued_ms = min(max(0.0, queued_ms), budget_ms * 0.75)
        left_s = (budget_ms - queued_ms) / 1000
        run = _Run(call_id, Deadline(left_s, self.clock), self.clock())
        history = self._spawn(
            run, "call_history", e164, lambda a: self.clients.call_history(a, e164)
        )
        contacts = self._spawn(run, "contact", e164, lambda a: self.clients.contacts(a, e164))
        lists = self._spawn(run, "caller_flags", LISTS_KEY, self.clients.caller_lists)
        results: dict[str, Sourced[Any]] = {}
        await self._settle(run, {"contact": contacts}, results)
        contact, duplicates, customer_id = _pick_contact(results["contact"])
        results["contact"] = contact
        children = self._start_customer_steps(run, customer_id, product or self.default_product)
        first = {"call_history": history, "caller_flags": lists}
        await self._settle(run, {**first, **children}, results)
        if customer_id is None:
            why = (
                "no_customer" if contact.provenance.reason == "not_found" else "contact_unavailable"
            )
            for name in CUSTOMER_STEPS:
                system = STEPS[name][0]
                results[name] = Sourced(
                    provenance=Provenance(status="missing", system=system, reason=why)
                )
        provenance = {name: sourced.provenance for name, sourced in results.items()}
        return CallerView(
            phone=e164,
            customer_id=customer_id,
            contact=results["contact"],
            duplicates=duplicates,
            accounts=results["accounts"],
            eligibility=results["eligibility"],
            call_history=results["call_history"],
            loans=results["loans"],
            orders=results["orders"],
            holdings=results["holdings"],
            caller_flags=_flags_for(e164, results["caller_flags"]),
            recommendation=recommend(provenance, duplicates),
            deadline_ms=budget_ms,
            queued_ms=round(queued_ms, 2),
            elapsed_ms=round((self.clock() - run.started_at) * 1000, 2),
            steps=sorted(run.steps.values(), key=lambda s: s.started_ms),
        )

    def _start_customer_steps(
        self, run: _Run, customer_id: str | None, product: str
    ) -> dict[str, asyncio.Task[Sourced[Any]]]:
        if customer_id is None:
            return {}
        idempotency_key = f"{run.call_id or 'lookup'}:{customer_id}:{product}"
        calls: dict[str, Callable[[Attempt], Awaitable[Any]]] = {
            "accounts": lambda a: self.clients.accounts(a, customer_id),
            "eligibility": lambda a: self.clients.eligibility(
                a, customer_id, product, idempotency_key
            ),
            "loans": lambda a: self.clients.loans(a, customer_id),
            "orders": lambda a: self.clients.orders(a, customer_id),
            "holdings": lambda a: self.clients.holdings(a, customer_id),
        }
        # A decision is about one product: its cached copy must not answer for another.
        keys = {name: customer_id for name in calls} | {"eligibility": f"{customer_id}:{product}"}
        return {name: self._spawn(run, name, keys[name], call) for name, call in calls.items()}

    def _spawn(
        self, run: _Run, name: str, key: str, call: Callable[[Attempt], Awaitable[Any]]
    ) -> asyncio.Task[Sourced[Any]]:
        run.cache_keys[name] = key
        return asyncio.create_task(self._step(run, name, key, call))

    async def _step(
        self, run: _Run, name: str, key: str, call: Callable[[Attempt], Awaitable[Any]]
    ) -> Sourced[Any]:
        system, operation = STEPS[name]
        tried = run.attempts.setdefault(name, [])
        run.began[name] = self.clock()
        executor = self.executors[system]
        kept_fresh = executor.policy.cache.fresh_s > 0
        copy = executor.last_good(operation, key) if kept_fresh else None
        if copy is not None and copy.age_s <= executor.policy.cache.fresh_s:
            return self._finish(run, name, copy.value, "live", None, None, age_s=copy.age_s)

        async def attempt(a: Attempt) -> Any:
            tried.append(a)
            return await call(a)

        def read() -> Awaitable[Any]:
            return executor.call(
                operation,
                attempt,
                deadline=run.deadline,
                idempotent=True,
                cache_key=key,
                call_id=run.call_id,
            )

        try:
            value = await (self._shared(system, operation, key, read) if kept_fresh else read())
        except (NotFound, Rejected) as exc:
            # The source answered: no cached copy should contradict what it said.
            return self._finish(run, name, None, "missing", exc.reason, exc.injected_fault)
        except InvalidField as exc:  # the answer came, but one of its fields was wrong
            run.invalid[name] = exc.field
            return await self._fall_back(run, name, key, exc.reason, exc.injected_fault)
        except SourceError as exc:
            return await self._fall_back(run, name, key, exc.reason, exc.injected_fault)
        return self._finish(run, name, value, "live", None, _last_fault(tried))

    def _shared(
        self, system: str, operation: str, key: str, read: Callable[[], Awaitable[Any]]
    ) -> Awaitable[Any]:
        """The read already on the wire for this list, else a new one. It runs apart from
        the lookup that started it (under that lookup's deadline), shielded, so one caller's
        lookup ending does not cancel what the others wait for."""
        slot = (system, operation, key)
        pending = self._reading.get(slot)
        if pending is None:
            pending = asyncio.ensure_future(read())
            self._reading[slot] = pending

            def done(future: asyncio.Future[Any]) -> None:
                if self._reading.get(slot) is future:
                    del self._reading[slot]
                if not future.cancelled():
                    future.exception()  # retrieved: those who waited have seen it

            pending.add_done_callback(done)
        return asyncio.shield(pending)

    async def _settle(
        self,
        run: _Run,
        tasks: dict[str, asyncio.Task[Sourced[Any]]],
        results: dict[str, Sourced[Any]],
    ) -> None:
        """Wait for ``tasks`` until the deadline; whatever is late falls back to the cache."""
        if tasks:
            await asyncio.wait(tasks.values(), timeout=run.deadline.remaining())
        late: dict[str, Awaitable[Sourced[Any]]] = {}
        for name, task in tasks.items():
            reason = "timeout"
            if task.done() and not task.cancelled():
                error = task.exception()
                if error is None:
                    results[name] = task.result()
                    continue
                log.error("lookup step %s failed unexpectedly", name, exc_info=error)
                reason = "internal_error"
            task.cancel()
            key = run.cache_keys.get(name, "")
            fault = _last_fault(run.attempts.get(name, []))
            late[name] = self._fall_back(run, name, key, reason, fault)
        if late:  # side by side: a store read for one must not wait behind another's
            for name, sourced in zip(late, await asyncio.gather(*late.values()), strict=True):
                results[name] = sourced

    async def _fall_back(
        self, run: _Run, name: str, key: str, reason: str, fault: str | None
    ) -> Sourced[Any]:
        system, operation = STEPS[name]
        cached = await self.executors[system].recall(operation, key) if key else None
        if cached is None:
            return self._finish(run, name, None, "missing", reason, fault)
        if self.on_cache_hit is not None:
            self.on_cache_hit(
                system, operation, call_id=run.call_id, age_s=cached.age_s, reason=reason
            )
        return self._finish(run, name, cached.value, "cached", reason, fault, age_s=cached.age_s)

    def _finish(
        self,
        run: _Run,
        name: str,
        value: Any,
        status: str,
        reason: str | None,
        fault: str | None,
        age_s: float | None = None,
    ) -> Sourced[Any]:
        system = STEPS[name][0]
        began = run.began.get(name, run.started_at)
        duration_ms = round((self.clock() - began) * 1000, 2)
        run.steps[name] = StepTiming(
            step=name,
            system=system,
            started_ms=round((began - run.started_at) * 1000, 2),
            duration_ms=duration_ms,
            status=status,
            reason=reason,
            attempts=len(run.attempts.get(name, [])),
            injected_fault=fault,
        )
        provenance = Provenance(
            status=status,
            system=system,
            reason=reason,
            injected_fault=fault,
            age_s=None if age_s is None else round(age_s, 3),
            latency_ms=duration_ms,
            gateway=self.gateways.get(system),
            field=run.invalid.get(name) if reason == "invalid_field" else None,
        )
        return Sourced(value=value, provenance=provenance)


def _pick_contact(
    sourced: Sourced[Any],
) -> tuple[Sourced[dict[str, Any]], DuplicateReport | None, str | None]:
    records = sourced.value
    if sourced.provenance.status == "missing" or records is None:
        return Sourced(provenance=sourced.provenance), None, None
    if not records:
        provenance = sourced.provenance.model_copy(
            update={"status": "missing", "reason": "not_found"}
        )
        return Sourced(provenance=provenance), None, None
    chosen, duplicates = choose_contact(records)
    contact = {
        "contact_id": chosen.get("Id"),
        "account_id": chosen.get("AccountId"),
        "customer_id": chosen.get("Customer_Id__c"),
        "name": chosen.get("Name"),
        "first_name": chosen.get("FirstName"),
        "last_name": chosen.get("LastName"),
        "email": chosen.get("Email"),
        "phone": chosen.get("Phone"),
        "mailing_address": {
            "street": chosen.get("MailingStreet"),
            "city": chosen.get("MailingCity"),
            "state": chosen.get("MailingState"),
            "postal_code": chosen.get("MailingPostalCode"),
        },
        "last_modified": chosen.get("LastModifiedDate"),
    }
    customer_id = chosen.get("Customer_Id__c")
    return Sourced(value=contact, provenance=sourced.provenance), duplicates, customer_id


def _flags_for(phone: str, sourced: Sourced[Any]) -> Sourced[dict[str, Any]]:
    """The caller's own flags out of the whole lists, with the lists' provenance."""
    lists = sourced.value
    if not isinstance(lists, dict):
        return Sourced(provenance=sourced.provenance)
    vip = (lists.get("vip") or {}).get(phone)
    barred = (lists.get("do_not_call") or {}).get(phone)
    flags = {
        "vip": vip is not None,
        "vip_tier": vip.get("tier") if isinstance(vip, dict) else None,
        "do_not_call": barred is not None,
        "do_not_call_reason": barred.get("reason") if isinstance(barred, dict) else None,
    }
    return Sourced(value=flags, provenance=sourced.provenance)


def _last_fault(attempts: list[Attempt]) -> str | None:
    for attempt in reversed(attempts):
        if attempt.injected_fault:
            return attempt.injected_fault
    return None
