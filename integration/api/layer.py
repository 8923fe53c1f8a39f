"""How an endpoint reaches the layer it serves: the app holds it in its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from integration.bootstrap import Integration

__all__ = ["layer_of"]


def layer_of(request: Request) -> Integration:
    layer: Integration = request.app.state.layer
    return layer
