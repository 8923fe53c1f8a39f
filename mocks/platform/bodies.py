"""A request's body, read once by the gateway before any system sees it, then replayed.

Reading it first is what lets the gateway bound every body (size, JSON depth and values,
see ``json_checks``) in one place, and notice a client that leaves while it is held by an
injected delay or hang: a receive call is the only way ASGI says the client has gone.
"""

from __future__ import annotations

from dataclasses import dataclass

from mocks.platform._asgi import Message, Receive, Scope
from mocks.platform.json_checks import deeper_than, flaw_in, path_text

__all__ = ["BodyLimits", "BodyRefusal", "RequestBody"]

_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


@dataclass(frozen=True, slots=True)
class BodyLimits:
    max_bytes: int
    max_depth: int


@dataclass(frozen=True, slots=True)
class BodyRefusal:
    status: int  # 413 too large, 400 too deep or a value no store can keep
    reason: str  # payload_too_large | invalid_request: the slug error_body() gets
    kind: str  # payload_too_large | json_too_deep | finite_number | int64 | lone_surrogate
    loc: tuple[str | int, ...]  # the field, from the body's root
    message: str  # names the field, never echoes the input

    @property
    def field(self) -> str:
        return path_text(self.loc)


class RequestBody:
    """The body of one request. ``read`` takes it whole (bounded); ``replay`` hands it on."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._receive = receive
        self._chunks: list[bytes] = []
        self._size = 0
        self._complete = False
        self._consumed = False  # a message was taken from the client's receive
        self.gone = False  # the client disconnected
        self.too_large = False
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        # Past 18 digits it is only "too large" (and int() refuses past 4,300 of them).
        self.declared = (int(length) if len(length) <= 18 else 2**63) if length.isdigit() else None
        # No length and not chunked: HTTP/1.1 says there is no body, so nothing to wait for.
        self.expected = self.declared != 0 and (
            self.declared is not None or b"transfer-encoding" in headers
        )
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        self.json_like = content_type not in _FORM_TYPES and b"content-encoding" not in headers

    async def _take(self, max_bytes: int) -> None:
        message = await self._receive()
        self._consumed = True
        if message["type"] == "http.disconnect":
            self.gone = True
            return
        chunk = message.get("body", b"")
        self._size += len(chunk)
        if self._size > max_bytes:
            self.too_large = True
            self._chunks.clear()  # kept no longer: it will be refused
        elif chunk:
            self._chunks.append(chunk)
        self._complete = not message.get("more_body", False)

    async def read(self, max_bytes: int) -> None:
        """Read the rest of the body; stops early when it passes ``max_bytes``."""
        if self.declared is not None and self.declared > max_bytes:
            self.too_large = True
            return
        while self.expected and not (self._complete or self.gone or self.too_large):
            await self._take(max_bytes)

    async def until_disconnect(self, max_bytes: int) -> None:
        """Return once the client has gone, keeping what body arrives meanwhile."""
        while not self.gone:
            if not self._complete:
                await self._take(max_bytes)
            elif (await self._receive())["type"] == "http.disconnect":
                self.gone = True

    def refusal(self, limits: BodyLimits) -> BodyRefusal | None:
        """Why the body (read already) may not pass, or None."""
        if self.too_large:
            message = f"the request body is larger than {limits.max_bytes} bytes"
            return BodyRefusal(413, "payload_too_large", "payload_too_large", (), message)
        if not self.json_like or not self._chunks:
            return None
        raw = b"".join(self._chunks)
        self._chunks = [raw]
        if deeper_than(raw, limits.max_depth):
            message = f"the JSON body nests deeper than {limits.max_depth} levels"
            return BodyRefusal(400, "invalid_request", "json_too_deep", (), message)
        flaw = flaw_in(raw)
        if flaw is None:
            return None
        message = f"{path_text(flaw.path)} {flaw.message}"
        return BodyRefusal(400, "invalid_request", flaw.kind, flaw.path, message)

    def replay(self) -> Receive:
        """A receive for the app: the body as read, then whatever the client sends next."""
        if not self._consumed:
            return self._receive
        pending = [b"".join(self._chunks)]

        async def receive() -> Message:
            if pending:
                return {"type": "http.request", "body": pending.pop(), "more_body": False}
            return await self._receive()

        return receive
