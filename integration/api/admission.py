"""Turning call starts away before any work is done for them, when the worker is too busy
to answer them in time (``integration.policies.admission`` decides).

A pure ASGI wrapper in front of the app, so a refusal costs a few microseconds and no
routing, no body, no validation: under overload refusals come by the thousand, and each
must cost far less than the call it stands in for. ``POST /calls`` is a call start; a
Vapi message that starts a call is refused inside its use case, which answers with words
for the caller instead of an error.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from integration.events.metrics import Metrics
from integration.policies.admission import Admission

__all__ = ["AdmissionGate"]

_BODY = orjson.dumps({
    "detail": "the service is too busy to look this caller up in time; try again shortly",
})  # fmt: skip


class AdmissionGate:
    def __init__(self, app: ASGIApp, admission: Admission, metrics: Metrics) -> None:
        self.app = app
        self.admission = admission
        self.metrics = metrics
        retry_after = str(admission.policy.retry_after_s).encode()
        self._headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_BODY)).encode()),
            (b"retry-after", retry_after),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/calls":
            await self.app(scope, receive, send)
            return
        refused = self.admission.try_admit()
        if refused is not None:
            self.metrics.observe_refusal("POST /calls", refused)
            await send({"type": "http.response.start", "status": 503, "headers": self._headers})
            await send({"type": "http.response.body", "body": _BODY})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.done()
