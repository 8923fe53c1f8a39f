"""Salesforce's OAuth 2.0 token endpoint and the sessions it hands out.

Grants: ``client_credentials`` (client id and secret, in the form or HTTP Basic) and,
because many integrations still use it, ``password`` (any username; the password is the
client secret). Tokens live ``ttl_s`` seconds on the injected clock; a changed TTL
applies to tokens issued afterwards, and ``expire_all`` ends the current ones at once
(the "credentials expire mid-run" fault).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from mocks.settings import MockCredentials

__all__ = ["ORG_ID", "USER_ID", "OAuthRefusal", "TokenStore", "grant_token"]

ORG_ID = "00D8d000000bSwBEAU"
USER_ID = "0058d000004ZsWbAAK"
_MAX_TOKENS = 10_000  # past this, expired tokens are forgotten when a new one is issued


class TokenStore:
    def __init__(self, clock: Callable[[], float], ttl_s: float) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self._expires_at: dict[str, float] = {}

    def issue(self) -> str:
        if len(self._expires_at) >= _MAX_TOKENS:
            now = self.clock()
            self._expires_at = {t: at for t, at in self._expires_at.items() if at > now}
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
        self._expires_at[token] = self.clock() + self.ttl_s
        return token

    def is_live(self, token: str) -> bool:
        expires_at = self._expires_at.get(token)
        return expires_at is not None and self.clock() < expires_at

    def revoke(self, token: str) -> bool:
        return self._expires_at.pop(token, None) is not None

    def expire_all(self) -> int:
        now = self.clock()
        live = [t for t, at in self._expires_at.items() if at > now]
        for token in live:
            self._expires_at[token] = now
        return len(live)

    def counts(self) -> dict[str, Any]:
        now = self.clock()
        live = sum(1 for at in self._expires_at.values() if at > now)
        return {"live": live, "expired": len(self._expires_at) - live, "ttl_s": self.ttl_s}


class OAuthRefusal(Exception):
    """A token request Salesforce would refuse: 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def grant_token(
    form: Mapping[str, str],
    authorization: str | None,
    credentials: MockCredentials,
    tokens: TokenStore,
    instance_url: str,
) -> dict[str, Any]:
    """Check one token request and issue a session; raises OAuthRefusal."""
    grant_type = form.get("grant_type", "")
    if grant_type not in ("client_credentials", "password"):
        raise OAuthRefusal(
            "unsupported_grant_type",
            "grant type not supported: grant_type must be client_credentials or password",
        )
    client_id, client_secret = _client_auth(form, authorization)
    if grant_type == "client_credentials":
        if not client_id or not client_secret:
            raise OAuthRefusal("invalid_client", "client_id and client_secret are required")
        _check_client(client_id, client_secret, credentials)
    else:
        # Salesforce wants the connected app here too; the mock checks what was sent.
        if client_id and not _same(client_id, credentials.crm_client_id):
            raise OAuthRefusal("invalid_client", "client identifier invalid")
        if client_secret and not _same(client_secret, credentials.crm_client_secret):
            raise OAuthRefusal("invalid_client", "invalid client credentials")
        if not form.get("username") or not _same(
            form.get("password", ""), credentials.crm_client_secret
        ):
            raise OAuthRefusal("invalid_grant", "authentication failure")
    issued_at = str(int(time.time() * 1000))  # display only; expiry runs on the clock
    identity = f"{instance_url}/id/{ORG_ID}/{USER_ID}"
    digest = hmac.new(
        credentials.crm_client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
    ).digest()
    return {
        "access_token": tokens.issue(),
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(digest).decode(),
        "scope": "api",
    }


def _client_auth(form: Mapping[str, str], authorization: str | None) -> tuple[str, str]:
    """Client credentials from the form, or from an HTTP Basic header (RFC 6749 2.3.1)."""
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() == "basic" and not client_id:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:  # not base64 (or not ASCII at all), or not UTF-8 inside
            raise OAuthRefusal("invalid_client", "malformed HTTP Basic credentials") from None
        client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _check_client(client_id: str, client_secret: str, credentials: MockCredentials) -> None:
    if not _same(client_id, credentials.crm_client_id):
        raise OAuthRefusal("invalid_client", "client identifier invalid")
    if not _same(client_secret, credentials.crm_client_secret):
        raise OAuthRefusal("invalid_client", "invalid client credentials")


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())
