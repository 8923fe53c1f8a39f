"""Settings of the mock enterprise: one pydantic-settings class, built in main()."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MockCredentials", "MockSettings"]


class MockCredentials(BaseSettings):
    """The fake vendor credentials the mocks accept; the README lists them for SDK users."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_CRED_", frozen=True)

    crm_client_id: str = "switchboard"
    crm_client_secret: str = "switchboard-secret"
    twilio_account_sid: str = "AC" + "5b" * 16
    twilio_auth_token: str = "switchboard-twilio-token"
    eligibility_api_key: str = "switchboard-eligibility-key"
    stripe_secret_key: str = "sk_test_switchboard"
    slack_bot_token: str = "xoxb-switchboard"
    sendgrid_api_key: str = "SG.switchboard"
    segment_write_key: str = "switchboard-write-key"
    google_access_token: str = "ya29.switchboard"
    erp_api_key: str = "switchboard-erp-key"
    loans_api_key: str = "switchboard-loans-key"


class MockSettings(BaseSettings):
    """Everything the mock enterprise needs to start; environment variables use ``SWITCHBOARD_``."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8100, ge=0, le=65535)
    seed: int = 42
    customers: int = Field(1000, ge=1, le=1_000_000)
    state_dir: Path = Path(".state")
    database_url: str | None = None
    chaos_token: str = "switchboard-chaos"
    faults_file: Path | None = None
    crm_automations_file: Path | None = None  # default: the rules shipped in mocks/crm
    crm_token_ttl_s: float = Field(3600.0, gt=0)
    max_hang_s: float = Field(300.0, gt=0)
    slow_body_s: float = Field(3.0, gt=0)
    public_url: str | None = None
    credentials: MockCredentials = Field(default_factory=MockCredentials)

    @property
    def base_url(self) -> str:
        """Where clients reach the mocks; callbacks and automations call back through it."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'enterprise.db'}"
