"""The integration gateway: an iPaaS-style experience API in front of the loans and ERP
systems (as MuleSoft, Boomi or an in-house ESB fronts a bank's back office).

A client asks the gateway, never the source: the gateway authenticates it (``client_id`` and
``client_secret`` headers, MuleSoft's client-id enforcement), calls the source with the
gateway's own credentials over loopback (``mocks.middleware.forward``), maps the source's
record into the canonical shape (``mocks.middleware.mapping``) and answers. On the way it
adds its own cost (``MAPPING_MS`` a request, plus whatever the chaos engine injects on
``/middleware``) and, on demand, drops or mangles a field (``mocks.middleware.faults``).

Errors are the gateway's, whatever the source said, each with a correlation id in the body
(``error.correlationId``) and the ``X-Correlation-Id`` header:

    source answered 404                     404 NOT_FOUND
    source says the Idempotency-Key is busy 409 IDEMPOTENCY_KEY_IN_USE
    source rate limits the gateway (429)    429 SOURCE_RATE_LIMITED, its Retry-After kept
    source refused the request (other 4xx)  422 SOURCE_REJECTED
    source 401/403/5xx                      502 SOURCE_UNAVAILABLE
    source silent past SOURCE_TIMEOUT_S     502 SOURCE_TIMEOUT
    source unreachable                      502 SOURCE_UNREACHABLE
    source 2xx that is not what it should   502 SOURCE_MALFORMED

so a client no longer sees the source's own status (but for a 429) nor its words: the
trade-off of every middleware hop, and why the body names the source and its status.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from mocks.middleware.faults import FieldFault, apply_faults
from mocks.middleware.forward import GatewayError, SourceAnswer, SourceHop
from mocks.middleware.mapping import canonical_application, canonical_order, source_stage
from mocks.platform.service import AuthFailure, MockService, SystemContext

__all__ = ["MAPPING_MS", "MiddlewareService", "Transformed"]

MAPPING_MS = 5.0  # what the mapping itself costs each request, before any injected latency
MAX_PAGES = 5  # source pages read for one answer; one customer's records fit in one
EXCHANGES_KEPT = 200

Transformed = tuple[dict[str, Any], str, list[str]]  # (body, correlation id, faults applied)


class MiddlewareService(MockService):
    name = "middleware"
    title = "Integration gateway"
    vendor = "iPaaS gateway (MuleSoft-style experience API)"
    summary = (
        "An integration platform's experience API in front of the loans and ERP systems, "
        "under /middleware/api/v1, authenticated with client_id and client_secret headers. "
        "It calls each source with its own credentials, maps the record into a canonical "
        "camelCase shape (amounts as decimal strings, statuses upper case; docs/middleware.md "
        "lists every field) and answers with X-Correlation-Id. Every error is the gateway's "
        '{"error": {"status", "code", "message", "correlationId", "source", "field"}}: a '
        "source's 404 stays 404 and its 429 a 429 (Retry-After kept), its other refusals are "
        "422 SOURCE_REJECTED and its failures 502 SOURCE_UNAVAILABLE / SOURCE_TIMEOUT. "
        "Writes pass Idempotency-Key to the source."
    )

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.hop = SourceHop()
        self._rng = random.Random(ctx.settings.seed)
        self.faults: tuple[FieldFault, ...] = ()
        self.exchanges: deque[dict[str, Any]] = deque(maxlen=EXCHANGES_KEPT)
        self.counts: Counter[str] = Counter()

    # -- platform hooks ------------------------------------------------------------

    def reset(self) -> None:
        self.exchanges.clear()
        self.counts.clear()
        super().reset()

    def clear_faults(self) -> None:
        self.faults = ()

    def active_faults(self) -> list[dict[str, Any]]:
        return [{"kind": "field", **fault.model_dump()} for fault in self.faults]

    async def startup(self) -> None:
        await super().startup()
        self.hop.open()

    async def shutdown(self) -> None:
        await self.hop.close()
        await super().shutdown()

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        creds = self.ctx.settings.credentials
        given_id, given_secret = headers.get("client_id"), headers.get("client_secret")
        if not given_id or not given_secret:
            return AuthFailure(401, "unauthorized", "send client_id and client_secret headers")
        same_id = secrets.compare_digest(given_id.encode(), creds.middleware_client_id.encode())
        same = secrets.compare_digest(
            given_secret.encode(), creds.middleware_client_secret.encode()
        )
        if not (same_id and same):
            return AuthFailure(401, "unauthorized", "client_id or client_secret is not valid")
        return None

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        return self.error(status, reason.upper(), message, self.correlation_id(), field=field)

    @staticmethod
    def error(
        status: int,
        code: str,
        message: str,
        correlation_id: str,
        *,
        source: dict[str, Any] | None = None,
        field: str | None = None,
    ) -> dict[str, Any]:
        error: dict[str, Any] = {
            "status": status,
            "code": code,
            "message": message,
            "correlationId": correlation_id,
        }
        if source is not None:
            error["source"] = source
        if field is not None:
            error["field"] = field
        return {"error": error}

    def correlation_id(self) -> str:
        return f"{self._rng.getrandbits(64):016x}"

    def set_faults(self, faults: tuple[FieldFault, ...]) -> None:
        self.faults = faults

    def routes(self) -> dict[str, Any]:
        return {
            "status": "UP",
            "routes": [
                {"route": "loan_applications", "source": "loans", "method": "GET"},
                {"route": "loan_status", "source": "loans", "method": "POST"},
                {"route": "orders", "source": "erp", "method": "GET"},
            ],
        }

    def stats(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "faults": self.active_faults()}

    # -- the routes' work ------------------------------------------------------------

    async def loan_applications(self, customer_id: str) -> Transformed:
        return await self._exchange(
            "loan_applications",
            "loans",
            lambda: self._pages("loans", "/api/v1/applications", customer_id),
            lambda items: {
                "customerRef": customer_id,
                "items": [canonical_application(item) for item in items],
            },
        )

    async def orders(self, customer_id: str) -> Transformed:
        return await self._exchange(
            "orders",
            "erp",
            lambda: self._pages("erp", "/api/v1/orders", customer_id),
            lambda items: {
                "customerRef": customer_id,
                "items": [canonical_order(item) for item in items],
            },
        )

    async def move_loan(
        self, application_id: str, status: str, reason: str | None, key: str | None
    ) -> Transformed:
        headers = self._source_headers("loans")
        if key is not None:
            headers["Idempotency-Key"] = key
        path = f"/api/v1/applications/{quote(application_id, safe='')}/transitions"
        body = {"to": source_stage(status), "reason": reason}
        if reason is None:
            del body["reason"]

        async def forward() -> list[dict[str, Any]]:
            answer = await self.hop.call(
                self.ctx.base_url, "loans", "POST", path, headers=headers, json=body
            )
            record = _data_record(answer)
            if not answer.replayed:
                self.ledger.record(
                    "loan_application.status",
                    str(record.get("application_id", "")),
                    key,
                    status=status,
                    source="loans",
                )
            return [record]

        return await self._exchange(
            "loan_status", "loans", forward, lambda items: canonical_application(items[0])
        )

    # -- the parts -------------------------------------------------------------------

    async def _exchange(
        self,
        route: str,
        system: str,
        fetch: Callable[[], Any],
        shape: Callable[[list[dict[str, Any]]], dict[str, Any]],
    ) -> Transformed:
        """Fetch from the source, map, apply the field faults in force, and log the exchange.
        A failure leaves as a ``GatewayError`` carrying the exchange's correlation id."""
        correlation_id = self.correlation_id()
        started = time.perf_counter()
        entry: dict[str, Any] = {"correlation_id": correlation_id, "route": route, "source": system}
        self.counts["exchanges"] += 1
        try:
            await self.ctx.sleep(MAPPING_MS / 1000)
            items = await fetch()
        except GatewayError as exc:
            self.counts["wrapped"] += 1
            self._log(entry, started, exc.status, "wrapped", exc.code, exc.fault)
            exc.correlation_id = correlation_id
            raise
        body = shape(items)
        listing = "items" in body  # a list of records, or one record
        records = body["items"] if listing else [body]
        changed, applied = apply_faults(route, records, self.faults, self._rng)
        body = {**body, "items": changed} if listing else changed[0]
        for fault in applied:
            kind = "dropped" if fault.startswith("drop") else "mangled"
            self.counts[kind] += 1
            self.ctx.chaos.stats.count_fault(self.name, f"field_{kind}")
        self._log(entry, started, 200, "transformed", ",".join(applied) or None, None)
        return body, correlation_id, applied

    async def _pages(self, system: str, path: str, customer_id: str) -> list[dict[str, Any]]:
        headers = self._source_headers(system)
        query = {"customer_id": customer_id, "limit": "100"}
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            answer = await self.hop.call(
                self.ctx.base_url, system, "GET", path, headers=headers, params=query
            )
            data = answer.body.get("data") if isinstance(answer.body, dict) else None
            if not isinstance(data, list):
                raise _malformed(system, answer, "a list without its data array")
            items.extend(item for item in data if isinstance(item, dict))
            cursor = answer.body.get("next_cursor")
            if not cursor:
                return items
            query = {**query, "cursor": str(cursor)}
        raise GatewayError(
            502,
            "SOURCE_MALFORMED",
            f"{system} paged past {MAX_PAGES} pages",
            source={"system": system, "status": 200},
        )

    def _source_headers(self, system: str) -> dict[str, str]:
        creds = self.ctx.settings.credentials
        key = {"loans": creds.loans_api_key, "erp": creds.erp_api_key}[system]
        return {"X-Api-Key": key}

    def _log(
        self,
        entry: dict[str, Any],
        started: float,
        status: int,
        outcome: str,
        detail: str | None,
        fault: str | None,
    ) -> None:
        entry.update(
            status=status,
            outcome=outcome,
            detail=detail,
            source_fault=fault,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        self.exchanges.append(entry)


def _data_record(answer: SourceAnswer) -> dict[str, Any]:
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if not isinstance(data, dict):
        raise _malformed("loans", answer, "a record without its data object")
    return data


def _malformed(system: str, answer: SourceAnswer, what: str) -> GatewayError:
    return GatewayError(
        502,
        "SOURCE_MALFORMED",
        f"{system} answered {what}",
        source={"system": system, "status": answer.status},
        fault=answer.fault,
    )
