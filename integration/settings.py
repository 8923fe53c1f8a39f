"""Settings of the integration service (one pydantic-settings class, built in ``main()``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from integration.policies.models import DEFAULT_POLICY_FILE

__all__ = [
    "PAYMENTS_WEBHOOK_PATH",
    "STATUS_CALLBACK_PATH",
    "IntegrationSettings",
    "VendorCredentials",
]

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
PAYMENTS_WEBHOOK_PATH = "/webhooks/payments"  # Stripe's signed events (docs/webhooks.md)
# A service listening on every interface is reached on loopback by the local mocks.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


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
    core_user_id: str = "SWBVOICE"
    core_password: str = "switchboard-core-pass"
    middleware_client_id: str = "switchboard-gateway"
    middleware_client_secret: str = "switchboard-gateway-secret"
    jira_user: str = "svc-voice-agent"
    jira_api_token: str = "switchboard-jira-token"


class IntegrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_INTEGRATION_", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    mocks_url: str = "http://127.0.0.1:8100"
    # The mock enterprise's SQL database, read directly (same default as the mocks').
    database_url: str = "sqlite:///.state/enterprise.db"
    state_dir: Path = Path(".state")
    # The layer's own state (calls, last good answers, credentials, outbox, events, who is
    # alive): one SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db, shared by every
    # worker. Unset: SQLite files in state_dir (layer.db, and events.db for the events,
    # whose batches would otherwise hold the writer lock that calls and the outbox need).
    store_url: str | None = None
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="worker processes serving this port on this host: each "
        "takes an equal share of every vendor quota",
    )
    worker_name: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="this worker's name in the store (default host:pid:tag)",
    )
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
    caller_lists_sheet: str = Field(
        "1SwbTeamCallerLists_vipAndDoNotCall-0A7kQ2xYz",
        pattern=r"^[A-Za-z0-9_-]{1,128}$",
        description="the Google spreadsheet with the VIP and do-not-call tabs",
    )
    seed: int = 42  # jitter and hedging draw from a seeded source, so runs replay
    # ---- the write path (outbox) ----
    dispatcher: bool = Field(True, description="deliver the outbox from this process")
    outbox_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite fsync level of what the API acknowledges (ends, tools' "
        "writes): FULL survives a power cut, NORMAL a crash; the dispatcher's own bookkeeping "
        "commits at NORMAL",
    )
    # Fernet key (urlsafe base64, 32 bytes) that seals card numbers; when unset, one is made
    # once and kept in ``state_dir/card.key``. Set it from a secret store in production.
    card_key: SecretStr | None = None
    # ---- carrier status callbacks (Twilio's StatusCallback) ----
    # The URL vendors reach this service at, e.g. https://switchboard.example.com behind a
    # proxy. Unset: http://<host>:<port> of this service (loopback for a wildcard host).
    public_url: str | None = None
    status_callbacks: bool = Field(
        True,
        description="ask Twilio for message status callbacks at "
        "<public_url>/webhooks/twilio/status",
    )
    # ---- who may call, and what they may send (integration/access.py, api/gate.py) ----
    # Unset on a loopback host: taken from (or made in) state_dir/integration-secrets.env.
    # Unset on any other host: the service refuses to start.
    api_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="bearer token of the call, tool, outbox, event and scenario routes",
    )
    vapi_secret: SecretStr | None = Field(
        None, min_length=16, description="Vapi's server credential for /vapi/webhook"
    )
    payments_webhook_secret: SecretStr | None = Field(
        None,
        min_length=16,
        description="the signing secret of Stripe's events posted to /webhooks/payments",
    )
    payments_webhook_tolerance_s: float = Field(
        300.0,
        gt=0,
        le=86_400,
        allow_inf_nan=False,
        description="how old (or early) a signed event's timestamp may be",
    )
    trusted_hosts: tuple[str, ...] = Field(
        ("127.0.0.1", "localhost", "::1"),
        description="Host headers answered (DNS rebinding): add the names clients use; "
        "public_url's host is added by itself",
    )
    cors_origins: tuple[str, ...] = Field(
        (), description="browser origins allowed to call the API (none by default)"
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, le=64 << 20)
    max_json_depth: int = Field(32, ge=4, le=256)
    max_transcript_chars: int = Field(
        256 << 10,
        ge=4096,
        description="a call's transcript keeps this much text at most (its newest turns)",
    )
    credentials: VendorCredentials = Field(default_factory=VendorCredentials)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError(f"public_url must be an http(s) URL without a query, not {value!r}")
        return value.rstrip("/")

    @property
    def status_callback_url(self) -> str | None:
        """Where Twilio should post message status callbacks; None: ask for none (turned
        off, or port 0 with no ``public_url``: the port is unknown until the server binds)."""
        if not self.status_callbacks:
            return None
        base = self.public_url
        if base is None:
            if self.port == 0:
                return None
            host = _WILDCARD_HOSTS.get(self.host, self.host)
            host = f"[{host}]" if ":" in host and not host.startswith("[") else host
            base = f"http://{host}:{self.port}"
        return base + STATUS_CALLBACK_PATH

    @property
    def allowed_hosts(self) -> list[str]:
        """``trusted_hosts``, the host the service binds (unless a wildcard) and public_url's."""
        hosts = list(self.trusted_hosts)
        if self.host not in _WILDCARD_HOSTS:
            hosts.append(self.host)
        if self.public_url:
            hosts.append(urlsplit(self.public_url).hostname or "")
        return [h for h in dict.fromkeys(hosts) if h]

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.state_dir / 'layer.db'}"

    @property
    def resolved_events_url(self) -> str:
        return self.store_url or f"sqlite:///{self.state_dir / 'events.db'}"
