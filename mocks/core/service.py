"""The legacy core: a mainframe customer information file behind SOAP 1.1.

One endpoint (``POST /core/ws/CustomerService``) takes every operation, chosen by the
Body's element; ``GET`` on it (``?wsdl``) serves the WSDL. Authentication is inside the
envelope, as such systems do it: ``Login`` gives a session token that lasts
``session_ttl_s``; every other operation carries it in the ``SessionHeader`` SOAP header
and an expired one is a fault. Answers are slow (``service_ms`` per operation, before any
injected latency), and during the nightly batch window every request is refused.

Faults and HTTP statuses (the code is in ``FaultDetail/ErrorCode``):

    CL-REQ-0201  400  not well-formed XML, not a SOAP 1.1 envelope, a DTD
    CL-REQ-0202  400  a field missing or invalid (``Field`` names it)
    CL-REQ-0203  400  an operation this service does not offer
    CL-REQ-0204  400  a SOAPAction header naming another operation than the Body's
    CL-REQ-0409  409  a RequestReference reused with other values, or still in flight
    CL-REQ-0413  413  an envelope past the core's message limit
    CL-SEC-0101  401  Login with a wrong UserId or Password
    CL-SEC-0102  401  the session has expired: Login again
    CL-SEC-0103  401  no session, or one the core does not know
    CL-CIF-0404  404  no such customer or account
    CL-SYS-0900  503  the batch window is open (Retry-After, WindowEndsAt)
    CL-SYS-05xx  5xx  faults the chaos engine injects

Client faults answer with a 4xx, not SOAP 1.1's customary 500: the mocks answer a 5xx
only for faults they were asked to inject (the batch window is one).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from mocks.core.batch import BatchWindow, parse_schedule
from mocks.core.envelope import (
    NS,
    XML_MEDIA_TYPE,
    Envelope,
    SoapFault,
    fault_xml,
    parse_envelope,
    response_xml,
)
from mocks.core.sessions import DEFAULT_TTL_S, Sessions
from mocks.core.store import CUSTOMER_NUMBER, CoreStore, Memo
from mocks.core.wsdl import OPERATIONS
from mocks.platform.idempotency import (
    IdempotencyConflict,
    IdempotencyMismatch,
    StoredResponse,
    fingerprint,
)
from mocks.platform.service import MockService, SystemContext

__all__ = ["CoreService", "SoapAnswer"]

SoapAnswer = tuple[int, bytes, dict[str, str]]
# Seconds each operation takes inside the core, before any latency the chaos engine adds.
DEFAULT_SERVICE_MS: dict[str, float] = {
    "Login": 60.0,
    "Logout": 5.0,
    "GetCustomerProfile": 25.0,
    "GetAccountBalance": 15.0,
    "AddContactMemo": 30.0,
}
_GATEWAY_CODES = {
    "unauthorized": "CL-SEC-0100",
    "rate_limited": "CL-SYS-0429",
    "server_error": "CL-SYS-0500",
    "bad_gateway": "CL-SYS-0502",
    "unavailable": "CL-SYS-0503",
    "gateway_timeout": "CL-SYS-0504",
    "invalid_request": "CL-REQ-0202",
    "payload_too_large": "CL-REQ-0413",
    "not_found": "CL-HTTP-0404",
    "method_not_allowed": "CL-HTTP-0405",
}
_ACCOUNT_NUMBER_CHARS = 32
_MEMO_CHARS = 2_000


class CoreService(MockService):
    name: ClassVar[str] = "core"
    title: ClassVar[str] = "Legacy core (SOAP)"
    vendor: ClassVar[str] = "CoreLink 7 customer information file (SOAP 1.1, WSDL)"
    summary: ClassVar[str] = (
        "A mainframe core banking system behind SOAP 1.1: the WSDL at "
        "GET /ws/CustomerService?wsdl, every operation POSTed to /ws/CustomerService. Login "
        "gives a session token that expires; faults carry CoreLink error codes; answers are "
        "slow; a nightly batch window refuses every request (CL-SYS-0900, HTTP 503)."
    )
    error_media_type: ClassVar[str] = XML_MEDIA_TYPE

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.store = CoreStore(ctx.dataset)
        self.sessions = Sessions(ctx.clock)
        self.batch = BatchWindow(
            parse_schedule(ctx.settings.core_batch_window), clock=ctx.clock, now=ctx.now
        )
        self.service_ms = dict(DEFAULT_SERVICE_MS)
        self._handlers: dict[str, Callable[[Envelope], Awaitable[Mapping[str, Any]]]] = {
            "Login": self._login,
            "Logout": self._logout,
            "GetCustomerProfile": self._profile,
            "GetAccountBalance": self._balance,
        }

    def reset(self) -> None:
        self.store.clear()
        self.sessions.clear()
        self.sessions.ttl_s = DEFAULT_TTL_S
        self.batch.reset()
        self.service_ms = dict(DEFAULT_SERVICE_MS)
        super().reset()

    def clear_faults(self) -> None:
        self.batch.end_forced()

    def active_faults(self) -> list[dict[str, Any]]:
        closed = self.batch.closed()
        if closed is None or not closed.forced:
            return []
        return [{"kind": "batch_window", "ends_at": closed.ends_at.isoformat()}]

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> bytes:
        code = _GATEWAY_CODES.get(reason, "CL-REQ-0200" if status < 500 else "CL-SYS-0500")
        side = "Server" if status >= 500 else "Client"
        return fault_xml(SoapFault(status, code, message, side=side, field=field))

    # -- the endpoint ---------------------------------------------------------------

    async def handle(self, raw: bytes, soap_action: str | None) -> SoapAnswer:
        """One SOAP request: the status, the envelope and headers to answer with."""
        try:
            closed = self.batch.closed()
            if closed is not None:
                self.batch.refuse()
                self.ctx.chaos.stats.count_fault(self.name, "batch_window")
                raise SoapFault(
                    503,
                    "CL-SYS-0900",
                    "The core is running its batch window; no requests are served until it ends",
                    side="Server",
                    retry_after_s=closed.retry_after_s,
                    extra={"WindowEndsAt": closed.ends_at.isoformat(timespec="seconds")},
                )
            envelope = parse_envelope(raw)
            _check_action(soap_action, envelope.operation)
            if envelope.operation not in OPERATIONS:
                raise SoapFault(
                    400,
                    "CL-REQ-0203",
                    "the Body's element is not an operation this service offers; see the WSDL",
                )
            await self.ctx.sleep(self.service_ms.get(envelope.operation, 0.0) / 1000)
            if envelope.operation == "AddContactMemo":
                return await self._add_memo(envelope)
            content = await self._handlers[envelope.operation](envelope)
            return 200, response_xml(envelope.operation, content), {}
        except SoapFault as fault:
            headers = fault.headers()
            if fault.code == "CL-SYS-0900":
                headers["X-Injected-Fault"] = "batch_window"
            return fault.status, fault_xml(fault), headers

    # -- operations -------------------------------------------------------------------

    def _session(self, envelope: Envelope) -> None:
        token = envelope.header_text("SessionHeader", "SessionToken")
        if token is None:
            raise SoapFault(
                401,
                "CL-SEC-0103",
                "SessionHeader.SessionToken is required; call Login first",
                field="SessionHeader",
            )
        check = self.sessions.check(token)
        if check.expired:
            raise SoapFault(
                401,
                "CL-SEC-0102",
                "The session has expired; call Login again",
                field="SessionToken",
            )
        if not check.ok:
            raise SoapFault(
                401, "CL-SEC-0103", "The session is not known; call Login", field="SessionToken"
            )

    async def _login(self, envelope: Envelope) -> Mapping[str, Any]:
        user = envelope.text("UserId") or ""
        password = envelope.text("Password", max_length=128) or ""
        creds = self.ctx.settings.credentials
        good_user = secrets.compare_digest(user.encode(), creds.core_user_id.encode())
        good_password = secrets.compare_digest(password.encode(), creds.core_password.encode())
        if not (good_user and good_password):
            raise SoapFault(401, "CL-SEC-0101", "UserId or Password is wrong", field="Password")
        token, ttl_s = self.sessions.open()
        expires = self.ctx.now().astimezone(UTC).timestamp() + ttl_s
        return {
            "SessionToken": token,
            "ExpiresAt": _iso(datetime.fromtimestamp(expires, UTC)),
            "TimeoutSeconds": int(ttl_s),
        }

    async def _logout(self, envelope: Envelope) -> Mapping[str, Any]:
        self._session(envelope)
        token = envelope.header_text("SessionHeader", "SessionToken")
        if token:
            self.sessions.close(token)
        return {"Status": "LOGGED_OFF"}

    def _customer_number(self, envelope: Envelope) -> str:
        number = envelope.text("CustomerNumber") or ""
        if not CUSTOMER_NUMBER.match(number):
            raise SoapFault(
                400,
                "CL-REQ-0202",
                "CustomerNumber holds letters, digits and dashes only",
                field="CustomerNumber",
            )
        return number

    async def _profile(self, envelope: Envelope) -> Mapping[str, Any]:
        self._session(envelope)
        customer = self.store.customer(self._customer_number(envelope))
        if customer is None:
            raise SoapFault(
                404, "CL-CIF-0404", "No customer has this CustomerNumber", field="CustomerNumber"
            )
        return self.store.profile(customer)

    async def _balance(self, envelope: Envelope) -> Mapping[str, Any]:
        self._session(envelope)
        number = envelope.text("AccountNumber", max_length=_ACCOUNT_NUMBER_CHARS) or ""
        account = self.store.account_by_number(number)
        if account is None:
            raise SoapFault(
                404, "CL-CIF-0404", "No account has this AccountNumber", field="AccountNumber"
            )
        shown = self.store.account(account)
        return {
            "AccountNumber": account.account_number,
            "LedgerBalance": shown["LedgerBalance"],
            "AvailableBalance": shown["AvailableBalance"],
            "Currency": account.currency,
            "AsOf": _iso(self.ctx.now()),
        }

    async def _add_memo(self, envelope: Envelope) -> SoapAnswer:
        """The core's one write: a memo on the customer's record, once per
        ``RequestReference`` (the core's own duplicate check on a message reference)."""
        self._session(envelope)
        number = self._customer_number(envelope)
        text = envelope.text("MemoText", max_length=_MEMO_CHARS) or ""
        reference = envelope.text("RequestReference") or ""
        if self.store.customer(number) is None:
            raise SoapFault(
                404, "CL-CIF-0404", "No customer has this CustomerNumber", field="CustomerNumber"
            )

        async def apply() -> StoredResponse:
            memo = Memo("MEMO" + secrets.token_hex(6).upper(), number, text, self.ctx.now())
            self.store.add_memo(memo)
            self.ledger.record("memo.add", memo.memo_id, reference, customer_number=number)
            content = {"MemoId": memo.memo_id, "PostedAt": _iso(memo.posted_at)}
            return StoredResponse(200, response_xml("AddContactMemo", content))

        try:
            stored, _ = await self.idempotency.run(
                reference, fingerprint("AddContactMemo", number, text), apply
            )
        except IdempotencyMismatch:
            raise SoapFault(
                409,
                "CL-REQ-0409",
                "This RequestReference was used with other values",
                field="RequestReference",
            ) from None
        except IdempotencyConflict:
            raise SoapFault(
                409,
                "CL-REQ-0409",
                "A request with this RequestReference is still being processed",
                field="RequestReference",
            ) from None
        return stored.status, stored.body, {}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "wsdl": f"/{self.name}/ws/CustomerService?wsdl"}


def _check_action(soap_action: str | None, operation: str) -> None:
    """SOAP 1.1 clients send ``SOAPAction: "<ns>#<operation>"``; an empty one is allowed."""
    action = (soap_action or "").strip().strip('"')
    if action and action not in (f"{NS}#{operation}", operation):
        raise SoapFault(
            400,
            "CL-REQ-0204",
            "the SOAPAction header names another operation than the Body",
            field="SOAPAction",
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
