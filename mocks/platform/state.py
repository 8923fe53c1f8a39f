"""What endpoints reach through ``request.app.state``: the composed enterprise.

Routes are module-level values shared by every enterprise a process builds (tests build
several), so they hold no service of their own: the registry puts an ``EnterpriseState`` on
each app it builds, and a route asks for its system with a dependency that looks it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request

from mocks.platform.service import MockService
from mocks.settings import MockSettings

if TYPE_CHECKING:
    from mocks.chaos.engine import ChaosEngine

__all__ = ["EnterpriseState", "enterprise_of", "service_in"]

S = TypeVar("S", bound=MockService)


@dataclass(frozen=True, slots=True)
class EnterpriseState:
    services: Mapping[str, MockService]
    chaos: ChaosEngine
    settings: MockSettings
    dataset_info: Mapping[str, Any]


def enterprise_of(request: Request) -> EnterpriseState:
    state: EnterpriseState = request.app.state.enterprise
    return state


def service_in(request: Request, kind: type[S]) -> S:
    """The running instance of ``kind`` in the app serving ``request``."""
    service = enterprise_of(request).services[kind.name]
    if not isinstance(service, kind):
        raise TypeError(f"system {kind.name!r} is a {type(service).__name__}, not a {kind}")
    return service
