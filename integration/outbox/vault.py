"""Card data at rest: sealed with Fernet before anything is written, opened only to charge.

A card number never reaches the outbox tables, the logs or an error message in clear:
the planner seals it here and stores the token, the last four digits and the brand. The
key lives outside the database (a setting or a 0600 file beside the state), so a copy of
the database alone opens nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from integration.redaction import luhn_ok

__all__ = [
    "CardDetails",
    "CardVault",
    "ManualPaymentIn",
    "SealedCard",
    "card_brand",
    "luhn_ok",
]


def card_brand(digits: str) -> str:
    """The network, from the number's issuer prefix (enough for a receipt, not for routing)."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    if "51" <= digits[:2] <= "55" or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    return "unknown"


class CardDetails(BaseModel):
    # The number is a SecretStr so a dump, a repr or a log line shows stars, not digits;
    # errors hide their input for the same reason.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    number: SecretStr
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)

    @field_validator("number", mode="before")
    @classmethod
    def _digits_with_checksum(cls, value: Any) -> str:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError("card.number must be a string of digits")
        digits = value.replace(" ", "").replace("-", "")
        if digits and not (digits.isascii() and digits.isdigit()):
            raise ValueError("card.number may hold only digits, spaces and dashes")
        if not 12 <= len(digits) <= 19:
            raise ValueError(f"card.number must have 12 to 19 digits, not {len(digits)}")
        if not luhn_ok(digits):
            raise ValueError("card.number fails the Luhn checksum (a digit is probably wrong)")
        return digits

    @property
    def last4(self) -> str:
        return self.number.get_secret_value()[-4:]

    @property
    def brand(self) -> str:
        return card_brand(self.number.get_secret_value())

    def __repr__(self) -> str:
        return (
            f"CardDetails(brand={self.brand!r}, last4={self.last4!r}, "
            f"exp={self.exp_month:02d}/{self.exp_year})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class SealedCard:
    token: str  # Fernet token: opens only with the vault's key
    last4: str
    brand: str


@dataclass(frozen=True)
class ManualPaymentIn:
    """A card held for a person to charge by hand (the store keeps it; the API lists it)."""

    call_id: str
    token: str
    last4: str
    brand: str
    amount: int  # minor units
    currency: str

    def __repr__(self) -> str:  # the token is ciphertext, but it has no place in logs either
        return (
            f"ManualPaymentIn(call_id={self.call_id!r}, last4={self.last4!r}, "
            f"brand={self.brand!r}, amount={self.amount}, currency={self.currency!r})"
        )


class CardVault:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "the card vault key is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from exc

    @classmethod
    def load(cls, key: str | None, key_file: Path) -> CardVault:
        """The vault for ``key`` when one is configured, else for the key in ``key_file``,
        which is created (0600, with its folders) holding a fresh key on first use."""
        if key:
            return cls(key.strip().encode())
        key_file = Path(key_file)
        try:
            text = key_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            text = _create_key_file(key_file)
        except (UnicodeDecodeError, OSError) as exc:
            raise ValueError(f"cannot read the card vault key file {key_file}: {exc}") from exc
        try:
            return cls(text.encode())
        except ValueError as exc:
            raise ValueError(f"{key_file}: {exc}") from exc

    def seal(self, card: CardDetails) -> SealedCard:
        plain = {
            "number": card.number.get_secret_value(),
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        }
        token = self._fernet.encrypt(json.dumps(plain).encode()).decode("ascii")
        return SealedCard(token=token, last4=card.last4, brand=card.brand)

    def open(self, token: str) -> dict[str, Any]:
        """``{"number", "exp_month", "exp_year"}``; ValueError for a token this key did not seal."""
        try:
            plain = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError, ValueError) as exc:
            raise ValueError("the sealed card cannot be opened with this vault key") from exc
        card: dict[str, Any] = json.loads(plain)
        return card


def _create_key_file(key_file: Path) -> str:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    # Written whole under a temporary name, then linked into place: link fails if the file
    # exists, so two processes starting at once agree on one key and never read half a file.
    fd, temp = tempfile.mkstemp(prefix=".vault-key-", dir=key_file.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        try:
            os.link(temp, key_file)
        except FileExistsError:
            return key_file.read_text(encoding="ascii").strip()
    finally:
        os.unlink(temp)
    return key
