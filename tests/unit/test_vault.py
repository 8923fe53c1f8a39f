"""The card vault: card checks, nothing in clear on screen, sealing, and where the key lives."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from integration.outbox.vault import CardDetails, CardVault, ManualPaymentIn, card_brand, luhn_ok

VISA = "4242424242424242"


def card(number: str = VISA, month: int = 12, year: int = 2030) -> CardDetails:
    return CardDetails.model_validate({"number": number, "exp_month": month, "exp_year": year})


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("371449635398431", "amex"),
        ("6011111111111117", "discover"),
        ("6500000000000002", "discover"),
        ("3056930009020004", "unknown"),  # Diners Club: not one we name
    ],
)
def test_known_test_cards_pass_the_checksum_and_get_their_brand(number: str, brand: str) -> None:
    assert luhn_ok(number)
    assert card_brand(number) == brand
    assert card(number).brand == brand


def test_spaces_and_dashes_are_stripped() -> None:
    assert card("4242 4242-4242 4242").number.get_secret_value() == VISA
    assert card("4242 4242-4242 4242").last4 == "4242"


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("4242424242424241", "Luhn"),
        ("4242 42x2 4242 4242", "only digits"),
        ("42424242424", "12 to 19 digits"),
        ("4" * 20, "12 to 19 digits"),
        ("", "12 to 19 digits"),
    ],
)
def test_bad_numbers_are_refused_naming_the_field(number: str, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        card(number)
    text = str(caught.value)
    assert "card.number" in text and words in text
    digits = number.replace(" ", "")
    if len(digits) >= 12:
        assert digits not in text  # the input is never echoed


@pytest.mark.parametrize(("month", "year"), [(0, 2030), (13, 2030), (1, 1999), (1, 2101)])
def test_expiry_outside_its_range_is_refused(month: int, year: int) -> None:
    with pytest.raises(ValidationError):
        card(month=month, year=year)


def test_repr_str_and_dumps_never_show_the_number() -> None:
    details = card()
    for shown in (
        repr(details),
        str(details),
        details.model_dump_json(),
        str(details.model_dump()),
    ):
        assert VISA not in shown
    assert "4242" in repr(details) and "visa" in repr(details)
    manual = ManualPaymentIn("c1", "gAAAA-token", "4242", "visa", 100, "usd")
    assert "gAAAA" not in repr(manual)


def test_seal_and_open_round_trip_and_the_token_hides_the_number() -> None:
    vault = CardVault(Fernet.generate_key())
    sealed = vault.seal(card(month=3, year=2031))
    assert (sealed.last4, sealed.brand) == ("4242", "visa")
    assert VISA not in sealed.token
    assert vault.open(sealed.token) == {"number": VISA, "exp_month": 3, "exp_year": 2031}
    # Each seal is fresh ciphertext: equal cards do not give equal tokens.
    assert vault.seal(card()).token != vault.seal(card()).token


def test_another_key_cannot_open_a_token() -> None:
    sealed = CardVault(Fernet.generate_key()).seal(card())
    with pytest.raises(ValueError, match="cannot be opened"):
        CardVault(Fernet.generate_key()).open(sealed.token)
    with pytest.raises(ValueError, match="cannot be opened"):
        CardVault(Fernet.generate_key()).open("not a token")


def test_load_creates_a_private_key_file_once_and_reuses_it(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "keys" / "vault.key"  # folders do not exist yet
    first = CardVault.load(None, key_file)
    mode = stat.S_IMODE(key_file.stat().st_mode)
    assert mode == 0o600
    token = first.seal(card()).token
    again = CardVault.load(None, key_file)
    assert again.open(token)["number"] == VISA
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind


def test_load_prefers_the_configured_key(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    key_file = tmp_path / "vault.key"
    vault = CardVault.load(key, key_file)
    assert not key_file.exists()
    assert CardVault(key.encode()).open(vault.seal(card()).token)["number"] == VISA


def test_a_bad_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Fernet key"):
        CardVault.load("too-short", tmp_path / "unused.key")
    key_file = tmp_path / "vault.key"
    key_file.write_text("garbage\n")
    with pytest.raises(ValueError, match=r"vault\.key: .*not a Fernet key"):
        CardVault.load(None, key_file)
