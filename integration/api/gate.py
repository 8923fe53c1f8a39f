"""The gate every request passes before any route: who may call, and what a body may be.

In order, cheapest first, each refusal a small JSON error that never echoes the request:

1. credentials: public paths (health, metrics, the system map, docs) pass; Vapi's webhook
   needs Vapi's server credential (``access.Access.vapi_ok``); Twilio's callback and
   Stripe's payment events carry their own signatures, checked by their routes; every other
   path needs the API bearer token (401);
2. the body, read here once and at most ``max_body_bytes`` of it (413 past that, whatever
   Content-Length claimed), then handed to the route as if unread;
3. its media type: JSON routes take ``application/json`` only, the form route its form
   (415): a browser's cross-site "simple" request (``text/plain``) never reaches a route;
4. its nesting: JSON deeper than ``max_json_depth`` is a 400 before any parser recurses.

Hosts are checked before this (Starlette's TrustedHostMiddleware, in ``app.py``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integration.access import Access

__all__ = ["Gate", "GatePolicy", "is_public", "json_depth_exceeds"]

_PUBLIC_GET = re.compile(
    r"^/(health|metrics|systems|workers|tools|system-map(/.*)?|docs(/.*)?|redoc|openapi\.json)$"
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def is_public(method: str, path: str) -> bool:
    """A request anyone on the network may make: health, metrics, the map, the docs."""
    return method in ("GET", "HEAD") and _PUBLIC_GET.match(path) is not None


@dataclass(frozen=True)
class GatePolicy:
    max_body_bytes: int = 1 << 20
    max_json_depth: int = 32
    vapi_path: str = "/vapi/webhook"
    form_paths: Collection[str] = ()  # routes that take a form (vendors' callbacks)
    signed_paths: Collection[str] = ()  # JSON routes whose own signature check replaces the token


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True if ``body`` nests arrays and objects deeper than ``limit``. Strings are cut out
    first (a bracket inside one is text), so what is left is counted quickly."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class Gate:
    def __init__(self, app: ASGIApp, access: Access, policy: GatePolicy) -> None:
        self.app = app
        self.access = access
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = _headers(scope)
        policy = self.policy
        if is_public(method, path):
            await self.app(scope, receive, send)
            return
        is_vapi = path == policy.vapi_path
        is_form = path in policy.form_paths
        is_signed = is_form or path in policy.signed_paths
        if not (is_vapi or is_signed) and not self.access.bearer_ok(headers.get("authorization")):
            await _refuse(send, 401, "unauthorized", _NEED_TOKEN, www_authenticate=True)
            return
        if method not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, policy.max_body_bytes, headers)
        if body is None:
            await _refuse(send, 413, "body_too_large", _too_large(policy.max_body_bytes))
            return
        if is_vapi and not self.access.vapi_ok(headers, body):
            await _refuse(send, 401, "unauthorized", _NEED_VAPI_SECRET)
            return
        if body:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            wanted = "application/x-www-form-urlencoded" if is_form else "application/json"
            if media != wanted:
                await _refuse(send, 415, "unsupported_media_type", f"send the body as {wanted}")
                return
            if not is_form and json_depth_exceeds(body, policy.max_json_depth):
                msg = f"the JSON nests deeper than {policy.max_json_depth} levels"
                await _refuse(send, 400, "json_too_deep", msg)
                return
        await self.app(scope, _replay(body, receive), send)


_NEED_TOKEN = "send the API token: Authorization: Bearer <SWITCHBOARD_INTEGRATION_API_TOKEN>"
_NEED_VAPI_SECRET = (
    "send Vapi's server credential (X-Vapi-Secret, a bearer token or X-Vapi-Signature) "
    "matching SWITCHBOARD_INTEGRATION_VAPI_SECRET"
)


def _too_large(limit: int) -> str:
    return f"the body is larger than {limit} bytes"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def _read_body(receive: Receive, limit: int, headers: dict[str, str]) -> bytes | None:
    """The whole body, or None once it passes ``limit`` (read no further)."""
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, once; then the client's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(
    send: Send, status: int, kind: str, message: str, *, www_authenticate: bool = False
) -> None:
    payload = orjson.dumps({"detail": [{"type": kind, "loc": [], "msg": message}]})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if www_authenticate:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
