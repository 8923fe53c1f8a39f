"""The one ordered middleware chain around every mock system and control plane:

    trusted host ─▶ gateway: record ─▶ chaos ─▶ auth ─▶ body limits ─▶ a system
                             body limits ─────────────────────────────▶ /_chaos, /_mock, docs

The host check comes first so a page on another site (DNS rebinding) cannot drive the
mocks through a browser: by default only loopback names are answered (``allowed_hosts``
in ``MockSettings``); any other Host header gets a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.middleware.trustedhost import TrustedHostMiddleware

from mocks.chaos.engine import ChaosEngine
from mocks.platform._asgi import ASGIApp
from mocks.platform.bodies import BodyLimits
from mocks.platform.gateway import Gateway
from mocks.platform.service import MockService
from mocks.settings import MockSettings

__all__ = ["middleware_chain"]


def middleware_chain(
    api: ASGIApp,
    services: Mapping[str, MockService],
    chaos: ChaosEngine,
    settings: MockSettings,
    sleep: Callable[[float], Awaitable[None]],
) -> ASGIApp:
    gateway = Gateway(
        api,
        services,
        chaos,
        max_hang_s=settings.max_hang_s,
        slow_body_s=settings.slow_body_s,
        limits=BodyLimits(settings.max_body_bytes, settings.max_json_depth),
        sleep=sleep,
    )
    return TrustedHostMiddleware(gateway, allowed_hosts=settings.allowed_hosts)
