"""The service as uvicorn's worker processes build it: settings from the environment
(``SWITCHBOARD_INTEGRATION_*``, which ``python -m app integration`` sets from its flags),
the layer, the app. Each worker builds its own layer; they share the store."""

from __future__ import annotations

from fastapi import FastAPI

from integration.api.app import create_app
from integration.bootstrap import build
from integration.logs import configure_logging
from integration.settings import IntegrationSettings

__all__ = ["app_from_environment"]


def app_from_environment() -> FastAPI:
    configure_logging("INFO")
    return create_app(build(IntegrationSettings()))
