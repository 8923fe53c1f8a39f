"""The gateway: the ordered chain that every request to a mock system passes through.

    record ─▶ chaos (delay, then outage / quota / error / hang / broken body) ─▶ auth
           ─▶ body limits (size, JSON depth, values no store can keep) ─▶ system

Control and inspection endpoints (``/_chaos``, ``/_mock``) and each system's docs bypass
chaos and vendor auth, but not the body limits. A request held by an injected delay or hang
is let go as soon as its client disconnects. Written as raw ASGI (not
``BaseHTTPMiddleware``) because it sits on the hot path of every request and has to break
responses in ways a Response object can't. ``mocks.platform.chain`` puts the host check in
front of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from starlette.requests import ClientDisconnect

from mocks.chaos.engine import ChaosEngine, Decision
from mocks.platform._asgi import (
    ASGIApp,
    BufferedResponse,
    InjectedDrop,
    Message,
    Receive,
    Scope,
    Send,
    add_headers,
    send_json,
)
from mocks.platform.bodies import BodyLimits, RequestBody
from mocks.platform.service import MockService

__all__ = ["Gateway"]

_REASONS = {
    401: ("unauthorized", "Session expired or invalid"),
    429: ("rate_limited", "Too many requests"),
    500: ("server_error", "An unexpected error occurred"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("unavailable", "Service temporarily unavailable"),
    504: ("gateway_timeout", "Upstream request timed out"),
}
_UNGUARDED = ("/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect")
_BODY_FAULTS = frozenset({"drop", "malformed", "slow_body"})
# Refusals about one value in the body: a 422 naming it, as FastAPI validation would.
_VALUE_FLAWS = frozenset({"finite_number", "int64", "lone_surrogate"})


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        services: Mapping[str, MockService],
        chaos: ChaosEngine,
        *,
        max_hang_s: float,
        slow_body_s: float,
        limits: BodyLimits,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.app = app
        self.services = services
        self.chaos = chaos
        self.max_hang_s = max_hang_s
        self.slow_body_s = slow_body_s
        self.limits = limits
        self.sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        name, _, rest = path[1:].partition("/")
        service = self.services.get(name)
        sub_path = "/" + rest
        if service is None or sub_path in _UNGUARDED:
            await self._control(scope, receive, send)
            return
        started = time.perf_counter()
        seen = _Seen()

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start" and not seen.client_gone:
                seen.status = message["status"]
            await send(message)

        async def watching() -> Message:
            # A disconnect before any answer (during a delay, a hang, or while the body was
            # read) means whatever the app would answer next, nobody gets.
            message = await receive()
            if message["type"] == "http.disconnect" and seen.status == _NO_ANSWER:
                seen.client_gone = True
            return message

        try:
            await self._handle(service, sub_path, scope, watching, recording, seen)
        except ClientDisconnect:
            if not seen.client_gone:
                raise
            # A handler that reads its body itself met the departed client: nothing to
            # answer and nothing wrong with the server, so no 500 and no traceback.
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.chaos.stats.record(name, seen.status, elapsed_ms, seen.fault)

    async def _handle(
        self,
        service: MockService,
        sub_path: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        seen: _Seen,
    ) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        decision = self.chaos.decide(
            service.name,
            scope["method"],
            sub_path,
            credential=_credential(headers),
            ip=client[0] if client else "unknown",
        )
        if decision.latency_s > self.max_hang_s:  # a distribution's tail: never past a hang
            decision = replace(decision, latency_s=self.max_hang_s)
        marks = _fault_headers(decision)
        # Noted now, so a fault that ends the exchange abruptly (a drop) is still counted.
        seen.fault = decision.fault or ("latency" if decision.latency_s else None)
        body = RequestBody(scope, receive)
        if decision.latency_s and await self._hold(service.name, decision.latency_s, body):
            return  # the client left during the delay: nobody to answer
        if decision.status is not None:
            await self._refuse(service, send, decision, marks)
            return
        if decision.fault == "hang":
            await self._hang(service, body, send, marks)
            return
        if sub_path not in service.public_paths:
            failure = service.authenticate(sub_path, headers)
            if failure is not None:
                answer = service.error_body(failure.status, failure.reason, failure.message)
                await send_json(send, failure.status, answer, marks, service.error_media_type)
                return
        await body.read(self.limits.max_bytes)
        if body.gone:
            return
        refusal = body.refusal(self.limits)
        if refusal is not None:
            answer = service.error_body(
                refusal.status, refusal.reason, refusal.message, field=refusal.field
            )
            await send_json(send, refusal.status, answer, marks, service.error_media_type)
        elif decision.fault in _BODY_FAULTS:
            await self._break_body(decision.fault, scope, body.replay(), send, marks)
        else:
            await self.app(scope, body.replay(), add_headers(send, marks))

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The control planes and docs: only the body limits apply, refused in FastAPI's
        own error shape so control clients read them like any validation error."""
        body = RequestBody(scope, receive)
        await body.read(self.limits.max_bytes)
        if body.gone:
            return
        refusal = body.refusal(self.limits)
        if refusal is None:
            await self.app(scope, body.replay(), send)
            return
        status = 422 if refusal.kind in _VALUE_FLAWS else refusal.status
        detail = [{"type": refusal.kind, "loc": ["body", *refusal.loc], "msg": refusal.message}]
        await send_json(send, status, {"detail": detail}, [])

    async def _hold(self, system: str, seconds: float, body: RequestBody) -> bool:
        """Hold a request ``seconds`` (a delay or a hang), or until its client leaves, so no
        sleeping task outlives its client; True if the client left."""
        self.chaos.stats.hold(system)
        leaving = asyncio.ensure_future(body.until_disconnect(self.limits.max_bytes))
        waiting = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait((leaving, waiting), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.chaos.stats.release(system)
            for task in (leaving, waiting):
                task.cancel()
            await asyncio.gather(leaving, waiting, return_exceptions=True)
        return body.gone

    async def _refuse(
        self, service: MockService, send: Send, decision: Decision, marks: list[tuple[bytes, bytes]]
    ) -> None:
        status = decision.status or 500
        reason, message = _REASONS.get(status, ("server_error", "Error"))
        if decision.fault == "revoked":  # as the vendor refuses a revoked credential
            failure = service.revoked_credentials()
            status, reason, message = failure.status, failure.reason, failure.message
        if decision.fault == "outage":
            message = "Service is down for maintenance"
        if decision.retry_after_s is not None:
            marks = [*marks, (b"retry-after", str(max(1, round(decision.retry_after_s))).encode())]
        body = service.error_body(status, reason, message)
        await send_json(send, status, body, marks, service.error_media_type)

    async def _hang(
        self,
        service: MockService,
        request_body: RequestBody,
        send: Send,
        marks: list[tuple[bytes, bytes]],
    ) -> None:
        """Say nothing until the client gives up (or the hang limit passes)."""
        if await self._hold(service.name, self.max_hang_s, request_body):
            return
        body = service.error_body(504, "gateway_timeout", "Upstream request timed out")
        await send_json(send, 504, body, marks, service.error_media_type)

    async def _break_body(
        self,
        kind: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        marks: list[tuple[bytes, bytes]],
    ) -> None:
        buffered = BufferedResponse()
        await self.app(scope, receive, buffered.send)
        body = bytes(buffered.body)
        if kind == "malformed":
            broken = body[: max(1, len(body) // 2)] + b"\x00<!-- upstream proxy error -->"
            await send(buffered.start_with(len(broken), marks))
            await send({"type": "http.response.body", "body": broken})
        elif kind == "drop":
            await send(buffered.start_with(len(body), marks))
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise InjectedDrop("connection dropped mid-response on purpose")
        else:  # slow_body: the status line comes at once, the body trickles in
            await send(buffered.start_with(len(body), marks))
            chunks = 10
            step = max(1, -(-len(body) // chunks))
            for offset in range(0, len(body), step):
                await self.sleep(self.slow_body_s / chunks)
                more = offset + step < len(body)
                await send(
                    {
                        "type": "http.response.body",
                        "body": body[offset : offset + step],
                        "more_body": more,
                    }
                )
            if not body:
                await send({"type": "http.response.body", "body": b""})


_NO_ANSWER = 499


@dataclass
class _Seen:
    """What the statistics record of one exchange; 499 (as nginx logs it) if the client
    went away before any answer, as it does during a hang or injected latency."""

    status: int = _NO_ANSWER
    fault: str | None = None
    client_gone: bool = False


def _fault_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    if decision.fault:
        marks = [(b"x-injected-fault", decision.fault.encode())]
    elif decision.latency_s:
        marks = [(b"x-injected-fault", b"latency")]
    else:
        return []
    if decision.latency_s:
        marks.append((b"x-injected-latency-ms", f"{decision.latency_s * 1000:.1f}".encode()))
    return marks


def _credential(headers: Mapping[str, str]) -> str:
    for name in ("authorization", "x-api-key"):
        if name in headers:
            return headers[name]
    return "anonymous"
