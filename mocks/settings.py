"""Settings of the mock enterprise: one pydantic-settings class, built in main()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    core_user_id: str = "SWBVOICE"
    core_password: str = "switchboard-core-pass"
    middleware_client_id: str = "switchboard-gateway"
    middleware_client_secret: str = "switchboard-gateway-secret"
    jira_user: str = "svc-voice-agent"
    jira_api_token: str = "switchboard-jira-token"


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
    crm_token_ttl_s: float = Field(3600.0, gt=0, le=366 * 86_400, allow_inf_nan=False)
    # The legacy core's nightly batch window, "HH:MM-HH:MM" in UTC ("" for none: tests and
    # demos force one through /_chaos/core/batch-window instead of waiting for the night).
    core_batch_window: str = Field(
        "", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
    )
    # The longest any request is held: a hang, and the cap on injected latency.
    max_hang_s: float = Field(300.0, gt=0, le=3600, allow_inf_nan=False)
    slow_body_s: float = Field(3.0, gt=0, le=600, allow_inf_nan=False)
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    max_json_depth: int = Field(64, ge=2, le=512)  # Python's parser recurses per level
    # Host names (Host header) the mocks answer; the bound host and public_url's are added.
    # SWITCHBOARD_TRUSTED_HOSTS="mocks.lan,10.0.0.5" (or a JSON list); "*" allows any.
    trusted_hosts: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1", "localhost", "::1")
    public_url: str | None = None
    # Where the payments mock posts its signed Stripe events, and the endpoint's secret
    # (``switchboard up`` hands it the layer's route and the secret it made).
    payments_webhook_url: str | None = Field(None, max_length=2000)
    payments_webhook_secret: str | None = Field(
        None,
        min_length=8,
        validation_alias=AliasChoices(
            "SWITCHBOARD_PAYMENTS_WEBHOOK_SECRET",
            "SWITCHBOARD_INTEGRATION_PAYMENTS_WEBHOOK_SECRET",
            "payments_webhook_secret",
        ),
    )
    credentials: MockCredentials = Field(default_factory=MockCredentials)

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("trusted_hosts")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.strip().lower() for name in value if name.strip())

    @property
    def base_url(self) -> str:
        """Where clients reach the mocks; callbacks and automations call back through it."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """What the Host header may name: the trusted hosts, the host the server binds (unless
        it binds every interface) and public_url's host; IPv6 literals also in brackets."""
        names = list(self.trusted_hosts)
        if self.host not in ("0.0.0.0", "::", ""):
            names.append(self.host.lower())
        if self.public_url:
            names.append((urlsplit(self.public_url).hostname or "").lower())
        bracketed = [f"[{name}]" for name in names if ":" in name and not name.startswith("[")]
        return tuple(dict.fromkeys(name for name in names + bracketed if name))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'enterprise.db'}"
