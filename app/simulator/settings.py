"""Where the simulator and the scenario runner point, and how simulated callers pace
themselves (``SWITCHBOARD_SIMULATOR_*``; the flags of ``simulate`` and ``scenario run``
override them)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.simulator.conversation import Pacing

__all__ = ["API_TOKEN_SETTING", "SECRETS_ENV_FILE", "SimulatorSettings"]

# Where the integration service keeps its secrets on loopback (`make up` makes them on its
# first start); every client in the repo reads its API token here unless one is exported.
SECRETS_ENV_FILE = ".state/integration-secrets.env"
API_TOKEN_SETTING = "SWITCHBOARD_INTEGRATION_API_TOKEN"


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SWITCHBOARD_SIMULATOR_",
        frozen=True,
        populate_by_name=True,
        env_file=SECRETS_ENV_FILE,
        extra="ignore",
    )

    integration_url: str = "http://127.0.0.1:8000"
    mocks_url: str = "http://127.0.0.1:8100"
    # The mocks' own setting name is accepted too, so one exported token serves both.
    chaos_token: str = Field(
        "switchboard-chaos",
        validation_alias=AliasChoices(
            "SWITCHBOARD_SIMULATOR_CHAOS_TOKEN", "SWITCHBOARD_CHAOS_TOKEN"
        ),
    )
    api_token: str = Field(
        "",
        validation_alias=AliasChoices("SWITCHBOARD_SIMULATOR_API_TOKEN", API_TOKEN_SETTING),
        repr=False,
        description="the integration service's API token",
    )
    concurrency: int = Field(64, ge=1, le=1000, description="calls under way at most")
    think_ms: float = Field(250, ge=0, le=10_000, description="a caller's pause before speaking")
    turn_budget_ms: float = Field(2500, gt=0, le=30_000, description="a tool's budget per turn")
    filler_threshold_ms: float = Field(1000, gt=0, le=30_000, description="filler past this")

    def pacing(self) -> Pacing:
        return Pacing(
            think_ms=self.think_ms,
            turn_budget_ms=self.turn_budget_ms,
            filler_threshold_ms=self.filler_threshold_ms,
        )
