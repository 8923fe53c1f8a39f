"""Settings of the integration service (one pydantic-settings class, built in ``main()``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from integration.policies.models import DEFAULT_POLICY_FILE

__all__ = ["IntegrationSettings", "VendorCredentials"]


class VendorCredentials(BaseSettings):
    """What the layer presents to each vendor. The defaults are the mocks' fake credentials."""

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


class IntegrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_INTEGRATION_", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    mocks_url: str = "http://127.0.0.1:8100"
    # The mock enterprise's SQL database, read directly (same default as the mocks').
    database_url: str = "sqlite:///.state/enterprise.db"
    state_dir: Path = Path(".state")
    events_url: str | None = None  # SQLAlchemy URL; default: SQLite file in state_dir
    # The system map: resilience policies, owners, SLAs and flows (integration/config/).
    policies_file: Path = DEFAULT_POLICY_FILE
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    lookup_deadline_ms: float = Field(800, gt=0, le=60_000)
    max_connections: int = Field(200, ge=1)
    crm_token_refresh_margin_s: float = Field(60, ge=0)
    # Salesforce's token response carries no expires_in: this is the session lifetime we
    # assume (the org's timeout setting); a 401 before then still triggers one refresh.
    crm_token_ttl_s: float = Field(3600, gt=0)
    events_memory: int = Field(50_000, ge=100, description="events kept in memory for /events")
    seed: int = 42  # jitter and hedging draw from a seeded source, so runs replay
    # ---- the write path (outbox) ----
    # An SQLAlchemy URL like ``events_url``; default: SQLite file ``state_dir/outbox.db``
    # (its own file, so the event writer's batches never hold the outbox's write lock).
    outbox_url: str | None = None
    dispatcher: bool = Field(True, description="deliver the outbox from this process")
    dispatcher_owner: str = Field(
        "integration-1", min_length=1, max_length=64,
        description="this dispatcher's name on its leases; a restart under the same name "
        "takes back what it held at once, two dispatchers need two names",
    )  # fmt: skip
    outbox_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite fsync level of what the API acknowledges (ends, tools' "
        "writes): FULL survives a power cut, NORMAL a crash; the dispatcher's own bookkeeping "
        "commits at NORMAL",
    )
    # Fernet key (urlsafe base64, 32 bytes) that seals card numbers; when unset, one is made
    # once and kept in ``state_dir/card.key``. Set it from a secret store in production.
    card_key: SecretStr | None = None
    credentials: VendorCredentials = Field(default_factory=VendorCredentials)

    @property
    def resolved_outbox_url(self) -> str:
        return self.outbox_url or f"sqlite:///{self.state_dir / 'outbox.db'}"

    @property
    def resolved_events_url(self) -> str:
        return self.events_url or f"sqlite:///{self.state_dir / 'events.db'}"
