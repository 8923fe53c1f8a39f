"""The legacy core over SOAP 1.1: a caller's customer record and product holdings.

Written by hand, not with zeep: zeep is synchronous (requests) and would block the event
loop on a live call; the two envelopes the layer sends are small and fixed, and answers
are read with lxml's safe parser (no entities, no DTD, no network, size-bounded).

    Login                  UserId + Password -> a session token (TimeoutSeconds)
    GetCustomerProfile     CustomerNumber (+ SessionHeader) -> Customer + Accounts

The session is kept until shortly before it expires; a fault saying it expired or is
unknown (CL-SEC-0102/0103) logs in once more inside the same attempt. A batch window fault
(CL-SYS-0900) closes the core on our side until the window ends (its RetryAfterSeconds):
until then every call is refused here, without a request, so no caller's lookup knocks
on a system that said it is closed (``SourceClosed``, which the executor does not retry
past its cap and the lookup answers from the last good copy).

Per worker, not in the store: the session (a Login per worker is cheap, and a token shared
between workers would need a lock across them) and the closed-until time (each worker
learns it from its first refused request, one request per worker per window).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from integration.clients._http import AttemptBudget, AttemptState, parse_retry_after
from integration.errors import (
    CredentialsRejected,
    MalformedResponse,
    NotFound,
    Rejected,
    SourceClosed,
    SourceError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from integration.settings import VendorCredentials
from integration.transports.base import HttpResponse, Transport, TransportFailure, TransportTimeout

__all__ = ["CoreSoapClient"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:corelink:cif:v7"
SERVICE_PATH = "/ws/CustomerService"
MAX_ANSWER_BYTES = 1_048_576
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_PRODUCTS = {"DDA": "checking", "SAV": "savings", "DDA-BUS": "business", "CCD": "credit_card"}
_STATUSES = {"A": "active", "F": "frozen", "C": "closed"}
_SESSION_ENDED = frozenset({"CL-SEC-0100", "CL-SEC-0102", "CL-SEC-0103"})  # 0100: an injected 401
_MAX_AMOUNT_CHARS = 24


class _SessionEnded(Exception):
    """The core no longer knows our session: log in again (once)."""


def _envelope(operation: str, fields: Mapping[str, str], token: str | None) -> bytes:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "cl": NS})
    if token is not None:
        header = etree.SubElement(root, f"{{{SOAP_ENV}}}Header")
        session = etree.SubElement(header, f"{{{NS}}}SessionHeader")
        etree.SubElement(session, f"{{{NS}}}SessionToken").text = token
    body = etree.SubElement(etree.SubElement(root, f"{{{SOAP_ENV}}}Body"), f"{{{NS}}}{operation}")
    for name, value in fields.items():
        etree.SubElement(body, f"{{{NS}}}{name}").text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _text(node: Any, name: str) -> str | None:
    found = node.find(f"{{{NS}}}{name}") if node is not None else None
    return None if found is None or found.text is None else str(found.text).strip()


class CoreSoapClient:
    system = "core"

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        credentials: VendorCredentials,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``base_url`` is the system's root above ``/ws`` (the mocks: ``<mocks_url>/core``)."""
        self.transport = transport
        self.url = base_url.rstrip("/") + SERVICE_PATH
        self._user = credentials.core_user_id
        self._password = credentials.core_password
        self._clock = clock
        self._wall_clock = wall_clock
        self._session: tuple[str, float] | None = None  # token, good until (clock)
        self._closed_until: float | None = None  # the batch window ends (clock)
        self._login_lock: asyncio.Lock | None = None

    def closed_for_s(self) -> float:
        """Seconds until a batch window the core told us about ends (0 when open)."""
        if self._closed_until is None:
            return 0.0
        return max(0.0, self._closed_until - self._clock())

    async def customer_holdings(self, attempt: AttemptState, customer_id: str) -> dict[str, Any]:
        """The customer's record and accounts as the core keeps them, in the layer's words
        (product and status codes spelled out, amounts in cents). Unknown customer: NotFound."""
        operation = "customer_holdings"
        self._refuse_while_closed(operation, attempt)
        budget = AttemptBudget(attempt.timeout_s)
        fields = {"CustomerNumber": customer_id}
        try:
            token = await self._token(operation, attempt, budget)
            answer = await self._call(
                operation, attempt, budget, "GetCustomerProfile", fields, token
            )
        except _SessionEnded:
            self._session = None
            token = await self._token(operation, attempt, budget)
            try:
                answer = await self._call(
                    operation, attempt, budget, "GetCustomerProfile", fields, token
                )
            except _SessionEnded:
                raise CredentialsRejected(
                    self.system, operation, "the core ended a session it had just opened"
                ) from None
        return _holdings(self.system, operation, answer)

    async def aclose(self) -> None:
        """Sessions end on their own at the core; nothing to release here."""
        self._session = None

    # -- the session ---------------------------------------------------------------------

    async def _token(self, operation: str, attempt: AttemptState, budget: AttemptBudget) -> str:
        session = self._session
        if session is not None and self._clock() < session[1]:
            return session[0]
        if self._login_lock is None:
            self._login_lock = asyncio.Lock()
        async with self._login_lock:  # one Login at a time; the others use its session
            session = self._session
            if session is not None and self._clock() < session[1]:
                return session[0]
            fields = {"UserId": self._user, "Password": self._password}
            try:
                answer = await self._call(operation, attempt, budget, "Login", fields, None)
            except _SessionEnded:
                raise CredentialsRejected(self.system, operation, "Login was refused") from None
            token = _text(answer, "SessionToken")
            ttl = _bounded_int(_text(answer, "TimeoutSeconds"))
            if not token or ttl is None or ttl <= 0:
                raise self._malformed(operation, attempt, "LoginResponse has no session")
            margin = min(30.0, ttl / 10)  # renew a little before the core forgets us
            self._session = (token, self._clock() + ttl - margin)
            return token

    # -- one request ---------------------------------------------------------------------

    async def _call(
        self,
        operation: str,
        attempt: AttemptState,
        budget: AttemptBudget,
        soap_operation: str,
        fields: Mapping[str, str],
        token: str | None,
    ) -> Any:
        """The operation's response element, or the error its fault means."""
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{NS}#{soap_operation}"',
        }
        try:
            response = await self.transport.request(
                "POST",
                self.url,
                timeout_s=budget.left(),
                headers=headers,
                content=_envelope(soap_operation, fields, token),
            )
        except (TransportTimeout, TransportFailure) as exc:
            attempt.status, attempt.injected_fault = exc.status, exc.injected_fault
            kind = SourceTimeout if isinstance(exc, TransportTimeout) else SourceUnavailable
            raise kind(
                self.system,
                operation,
                str(exc),
                status=exc.status,
                injected_fault=exc.injected_fault,
            ) from exc
        attempt.status, attempt.injected_fault = response.status, response.injected_fault
        body = self._body(operation, attempt, response)
        fault = body.find(f"{{{SOAP_ENV}}}Fault") if body is not None else None
        if fault is not None or not 200 <= response.status < 300:
            raise self._fault_error(operation, response, fault)
        answer = body.find(f"{{{NS}}}{soap_operation}Response") if body is not None else None
        if answer is None:
            raise self._malformed(operation, attempt, f"no {soap_operation}Response in the Body")
        return answer

    def _body(self, operation: str, attempt: AttemptState, response: HttpResponse) -> Any:
        """The envelope's Body, or None when the answer is no SOAP envelope (an error page
        from a proxy: its status decides)."""
        if len(response.body) > MAX_ANSWER_BYTES or b"<!DOCTYPE" in response.body[:512].upper():
            if 200 <= response.status < 300:
                raise self._malformed(operation, attempt, "the answer is no SOAP envelope")
            return None
        try:
            root = etree.fromstring(response.body, _PARSER)
        except (etree.XMLSyntaxError, ValueError):
            if 200 <= response.status < 300:
                raise self._malformed(operation, attempt, "the answer is not XML") from None
            return None
        return root.find(f"{{{SOAP_ENV}}}Body")

    def _fault_error(self, operation: str, response: HttpResponse, fault: Any) -> Exception:
        detail = fault.find(f"detail/{{{NS}}}FaultDetail") if fault is not None else None
        code = _text(detail, "ErrorCode") or ""
        words = (
            _text(detail, "Message")
            or (fault.findtext("faultstring") if fault is not None else None)
            or ""
        )[:200]
        message = f"HTTP {response.status} {code}: {words}".strip()
        common: dict[str, Any] = {
            "status": response.status,
            "injected_fault": response.injected_fault,
        }
        if code in _SESSION_ENDED:
            return _SessionEnded(message)
        if code == "CL-SYS-0900":
            wait = _bounded_int(_text(detail, "RetryAfterSeconds"))
            if wait is None:
                wait = _bounded_int(response.headers.get("retry-after")) or 60
            self._closed_until = self._clock() + wait
            return SourceClosed(
                self.system, operation, message, retry_after_s=float(wait), **common
            )
        if code.startswith("CL-SEC") or response.status == 401:
            return CredentialsRejected(self.system, operation, message, **common)
        if code == "CL-CIF-0404":
            return NotFound(self.system, operation, message, **common)
        if response.status == 429:
            wait_s = parse_retry_after(response.headers.get("retry-after"), self._wall_clock())
            return SourceRateLimited(
                self.system, operation, message, retry_after_s=wait_s, **common
            )
        if response.status >= 500 or code.startswith("CL-SYS"):
            return SourceUnavailable(self.system, operation, message, **common)
        return Rejected(self.system, operation, message, **common)

    def _refuse_while_closed(self, operation: str, attempt: AttemptState) -> None:
        left = self.closed_for_s()
        if left > 0:
            attempt.status, attempt.injected_fault = None, "batch_window"
            raise SourceClosed(
                self.system,
                operation,
                f"the core's batch window ends in {left:.0f} s; not called meanwhile",
                retry_after_s=left,
                injected_fault="batch_window",
            )
        self._closed_until = None

    def _malformed(self, operation: str, attempt: AttemptState, message: str) -> SourceError:
        return MalformedResponse(
            self.system,
            operation,
            message,
            status=attempt.status,
            injected_fault=attempt.injected_fault,
        )


def _bounded_int(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit() or len(text.strip()) > 9:
        return None
    return int(text.strip())


def _cents(text: str | None) -> int | None:
    if text is None or len(text) > _MAX_AMOUNT_CHARS:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return int(amount * 100) if amount.is_finite() else None


def _holdings(system: str, operation: str, answer: Any) -> dict[str, Any]:
    customer = answer.find(f"{{{NS}}}Customer")
    if customer is None or not _text(customer, "CustomerNumber"):
        raise MalformedResponse(system, operation, "GetCustomerProfileResponse has no Customer")
    accounts = []
    holder = answer.find(f"{{{NS}}}Accounts")
    for account in holder.findall(f"{{{NS}}}Account") if holder is not None else ():
        product = _text(account, "ProductType") or ""
        status = _text(account, "Status") or ""
        accounts.append(
            {
                "account_number": _text(account, "AccountNumber"),
                "type": _PRODUCTS.get(product, "other"),
                "status": _STATUSES.get(status, "unknown"),
                "ledger_balance_cents": _cents(_text(account, "LedgerBalance")),
                "available_balance_cents": _cents(_text(account, "AvailableBalance")),
                "currency": _text(account, "Currency"),
                "opened_on": _text(account, "OpenedOn"),
            }
        )
    return {
        "customer_number": _text(customer, "CustomerNumber"),
        "segment": (_text(customer, "Segment") or "").lower() or None,
        "kyc_status": (_text(customer, "KycStatus") or "").lower() or None,
        "customer_since": _text(customer, "CustomerSince"),
        "home_branch": _text(customer, "HomeBranch"),
        "accounts": accounts,
    }
