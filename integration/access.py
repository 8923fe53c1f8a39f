"""Who may call the layer: its secrets, where they come from, and how they are checked.

- ``SWITCHBOARD_INTEGRATION_API_TOKEN``: the bearer token of the call, tool, turn, end,
  outbox, event and scenario routes (``Authorization: Bearer <token>``).
- ``SWITCHBOARD_INTEGRATION_VAPI_SECRET``: Vapi's server credential for ``/vapi/webhook``,
  in any of the forms Vapi sends it: the ``X-Vapi-Secret`` header, a bearer token, or an
  HMAC-SHA256 of the body in ``X-Vapi-Signature``.
- ``SWITCHBOARD_INTEGRATION_PAYMENTS_WEBHOOK_SECRET``: the signing secret of the payment
  events posted to ``/webhooks/payments`` (``integration/payments/signature.py``); ``switchboard
  up`` hands the same value to the payments mock, which signs with it.

Both come from the settings (the environment) when set. A service on a loopback address
that has none takes them from ``<state_dir>/integration-secrets.env``, writing new random
ones there (mode 0600) the first time, so ``make up`` needs nothing from a newcomer and
every client in the repository finds them in the same file. A service on any other address
refuses to start without them: a generated secret nobody was told is no protection plan.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from integration.settings import IntegrationSettings

__all__ = [
    "API_TOKEN_ENV",
    "PAYMENTS_WEBHOOK_SECRET_ENV",
    "SECRETS_FILE",
    "VAPI_SECRET_ENV",
    "Access",
    "MissingSecrets",
    "api_token_from",
    "ensure_secrets",
    "is_loopback",
]

API_TOKEN_ENV = "SWITCHBOARD_INTEGRATION_API_TOKEN"
VAPI_SECRET_ENV = "SWITCHBOARD_INTEGRATION_VAPI_SECRET"
PAYMENTS_WEBHOOK_SECRET_ENV = "SWITCHBOARD_INTEGRATION_PAYMENTS_WEBHOOK_SECRET"
SECRETS_FILE = "integration-secrets.env"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class MissingSecrets(RuntimeError):
    """A service reachable from other machines was asked to start without its secrets."""


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    api_token: str
    vapi_secret: str
    source: str  # where they came from, said at start-up (never the values)
    # Empty: none was set on a host beyond loopback, and every payment event is refused.
    payments_webhook_secret: str = ""

    def bearer_ok(self, authorization: str | None) -> bool:
        return _bearer_matches(authorization, self.api_token)

    def vapi_ok(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Any one of Vapi's credential forms, each compared in constant time."""
        secret = self.vapi_secret
        given = headers.get("x-vapi-secret")
        if given is not None and hmac.compare_digest(given.encode(), secret.encode()):
            return True
        if _bearer_matches(headers.get("authorization"), secret):
            return True
        signature = headers.get("x-vapi-signature")
        if signature is not None:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            given_hex = signature.removeprefix("sha256=").strip().lower()
            return hmac.compare_digest(given_hex.encode(), expected.encode())
        return False

    @classmethod
    def of(cls, settings: IntegrationSettings, host: str | None = None) -> Access:
        """The secrets of a service with ``settings`` (listening on ``host``, default its own)."""
        token, secret = settings.api_token, settings.vapi_secret
        webhook = settings.payments_webhook_secret
        return cls.resolve(
            token.get_secret_value() if token else None,
            secret.get_secret_value() if secret else None,
            host or settings.host,
            settings.state_dir,
            payments_webhook_secret=webhook.get_secret_value() if webhook else None,
        )

    @classmethod
    def resolve(
        cls,
        api_token: str | None,
        vapi_secret: str | None,
        host: str,
        state_dir: Path,
        *,
        payments_webhook_secret: str | None = None,
    ) -> Access:
        """The secrets from settings, else (on loopback only) from the state folder's file."""
        loopback = is_loopback(host)
        if api_token and vapi_secret:
            webhook = payments_webhook_secret
            if not webhook and loopback:
                webhook = ensure_secrets(state_dir)[PAYMENTS_WEBHOOK_SECRET_ENV]
            return cls(api_token, vapi_secret, "settings", webhook or "")
        if not loopback:
            missing = [
                n for n, v in ((API_TOKEN_ENV, api_token), (VAPI_SECRET_ENV, vapi_secret)) if not v
            ]
            raise MissingSecrets(
                f"the service would listen on {host}, beyond this machine, without "
                f"{' and '.join(missing)}: set them (a long random value each) and start again"
            )
        found = ensure_secrets(state_dir)
        return cls(
            api_token or found[API_TOKEN_ENV],
            vapi_secret or found[VAPI_SECRET_ENV],
            str(state_dir / SECRETS_FILE),
            payments_webhook_secret or found[PAYMENTS_WEBHOOK_SECRET_ENV],
        )


def ensure_secrets(state_dir: Path) -> dict[str, str]:
    """The secrets file's values, written with new random ones first if it is missing.
    Several workers starting at once agree: each writes a whole file of its own, and only
    one of them can link it into place; the others read the one that got there."""
    path = state_dir / SECRETS_FILE
    found = _read(path)
    if found is not None:
        return found if PAYMENTS_WEBHOOK_SECRET_ENV in found else _add_webhook_secret(path)
    state_dir.mkdir(parents=True, exist_ok=True)
    values = {
        API_TOKEN_ENV: secrets.token_urlsafe(32),
        VAPI_SECRET_ENV: secrets.token_urlsafe(32),
        PAYMENTS_WEBHOOK_SECRET_ENV: _new_webhook_secret(),
    }
    draft = path.with_name(f".{SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(
            "# The integration service's secrets, made on its first start on loopback.\n"
            "# Every client in the repository reads them here; delete the file for new ones.\n"
            + "".join(f"{name}={value}\n" for name, value in values.items())
        )
    try:
        os.link(draft, path)  # atomic, and refuses to replace a file already there
    except FileExistsError:
        values = _read(path) or values
    finally:
        draft.unlink()
    return values


def _new_webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"  # Stripe's spelling of an endpoint secret


def _add_webhook_secret(path: Path) -> dict[str, str]:
    """A file from before the payments webhook had a secret: one line added. Appends are
    atomic, and whoever reads afterwards takes the last line, so writers racing here agree
    once both lines are in (``switchboard up`` does this once, before any worker starts)."""
    with path.open("a") as out:
        out.write(f"{PAYMENTS_WEBHOOK_SECRET_ENV}={_new_webhook_secret()}\n")
    return _read(path) or {}


def api_token_from(state_dir: Path | str = ".state") -> str | None:
    """What a client sends as its bearer token: the environment's, else the state folder's."""
    token = os.environ.get(API_TOKEN_ENV)
    if token:
        return token
    found = _read(Path(state_dir) / SECRETS_FILE)
    return found.get(API_TOKEN_ENV) if found else None


def _read(path: Path) -> dict[str, str] | None:
    if not path.is_file():
        return None
    values = {k: v for k, v in dotenv_values(path).items() if v}
    if API_TOKEN_ENV in values and VAPI_SECRET_ENV in values:
        return values
    return None  # half written: the writer is still at it, or someone cut it


def _bearer_matches(authorization: str | None, secret: str) -> bool:
    if not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())
