"""Where the dashboard finds the services it watches (``SWITCHBOARD_DASHBOARD_*``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.simulator.settings import API_TOKEN_SETTING, SECRETS_ENV_FILE

__all__ = ["DashboardSettings"]


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_DASHBOARD_",
        frozen=True,
        env_file=SECRETS_ENV_FILE,
        extra="ignore",
    )

    host: str = "127.0.0.1"
    port: int = Field(8501, ge=0, le=65535)
    integration_url: str = "http://127.0.0.1:8000"
    mocks_url: str = "http://127.0.0.1:8100"
    # The mocks' own setting name is accepted too, so one exported token serves both.
    chaos_token: str = Field(
        "switchboard-chaos",
        validation_alias=AliasChoices(
            "SWITCHBOARD_DASHBOARD_CHAOS_TOKEN", "SWITCHBOARD_CHAOS_TOKEN"
        ),
    )
    api_token: str = Field(
        "",
        validation_alias=AliasChoices("SWITCHBOARD_DASHBOARD_API_TOKEN", API_TOKEN_SETTING),
        repr=False,
        description="the integration service's API token",
    )
    trusted_hosts: tuple[str, ...] = Field(
        ("127.0.0.1", "localhost", "::1"),
        description="host names the dashboard answers (DNS rebinding); '*' for any",
    )
    locust_url: str = "http://127.0.0.1:8089"
    refresh_s: float = Field(2.0, ge=0.5, le=60, description="how often live parts redraw")
    cache_ttl_s: float = Field(1.5, gt=0, le=10, description="how long a read is shared")
    timeout_s: float = Field(3.0, gt=0, le=30, description="per request to a service")
