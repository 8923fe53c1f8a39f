"""Structured logs: JSON lines, with cards and credentials masked in messages and extras."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from integration.logs import configure_logging, redact, redact_text

VISA = "4242424242424242"  # Luhn-valid test card
AMEX = "378282246310005"  # 15 digits, Luhn-valid
NOT_A_CARD = "4242424242424241"  # same length, fails Luhn


@pytest.fixture
def log_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", stream=out)
    try:
        yield logging.getLogger("switchboard.test"), out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (VISA, "[card ending 4242]"),
        ("4242 4242 4242 4242", "[card ending 4242]"),
        ("4242-4242-4242-4242", "[card ending 4242]"),
        (AMEX, "[card ending 0005]"),
        ("6011 1111 1111 1117", "[card ending 1117]"),
        ("4222222222222", "[card ending 2222]"),  # 13 digits
    ],
)
def test_luhn_valid_card_numbers_keep_only_their_last_four(raw: str, masked: str) -> None:
    assert redact_text(f"charged card {raw} for 12.00") == f"charged card {masked} for 12.00"


@pytest.mark.parametrize(
    "text",
    [
        f"order {NOT_A_CARD}",  # fails Luhn
        "phone +14155550123",  # too short
        "id 123456789012",  # 12 digits
        "trace 42424242424242424242",  # 20 digits: not a card
        "at 2024-05-01T10:00:00Z, 10 retries",
    ],
)
def test_numbers_that_are_not_cards_stay(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: ***"),
        ("header authorization='Basic dXNlcjpwYXNz'", "header authorization='***'"),
        ("sent Bearer eyJhbGciOi.xyz to erp", "sent Bearer *** to erp"),
        ("stripe key sk_test_51HabcDEF123 used", "stripe key sk_test_*** used"),
        ("key sk_live_abcdef0123", "key sk_live_***"),
        ("slack xoxb-123-456-AbCdEf posted", "slack xoxb-*** posted"),
        ("sendgrid SG.abc_DEF-1.xyz_789 mailed", "sendgrid SG.*** mailed"),
        (
            "session 00D8d000000bSwB!AQ4AQ-Kz_9abc.def used",
            "session 00D*** used",
        ),
        ('{"password": "hunter2", "user": "ann"}', '{"password": "***", "user": "ann"}'),
        ("client_secret=s3cr3t&grant_type=x", "client_secret=***&grant_type=x"),
        ("access_token: tok123", "access_token: ***"),
        ("x-api-key=abc123", "x-api-key=***"),
    ],
)
def test_credentials_are_masked_by_shape_and_by_name(raw: str, masked: str) -> None:
    assert redact_text(raw) == masked


def test_redact_masks_secret_named_fields_at_any_depth_without_touching_the_input() -> None:
    data = {
        "user": "ann",
        "password": "hunter2",
        "headers": {"Authorization": "Bearer abc", "Accept": "json"},
        "creds": [{"api_key": "k1"}, {"stripe_secret_key": "sk_test_x"}],
        "note": f"card {VISA}",
        "refresh_token": None,
    }
    assert redact(data) == {
        "user": "ann",
        "password": "***",
        "headers": {"Authorization": "***", "Accept": "json"},
        "creds": [{"api_key": "***"}, {"stripe_secret_key": "***"}],
        "note": "card [card ending 4242]",
        "refresh_token": None,
    }
    assert data["password"] == "hunter2"


def test_log_lines_are_json_with_extras(log_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log_lines
    logger.info("lookup done for %s", "call-7", extra={"call_id": "call-7", "ms": 41.5})
    (line,) = lines(out)
    assert line["message"] == "lookup done for call-7"
    assert (line["level"], line["logger"], line["call_id"], line["ms"]) == (
        "INFO",
        "switchboard.test",
        "call-7",
        41.5,
    )
    assert str(line["ts"]).endswith("+00:00")


def test_secrets_are_masked_in_message_args_and_extras(
    log_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log_lines
    logger.warning(
        "paying with %s using %s",
        "4242 4242 4242 4242",
        "sk_test_abc123",
        extra={
            "token": "xoxb-secret",
            "request": {"headers": {"Authorization": "Bearer zzz"}, "card": VISA},
            "session": "00D8d000000bSwB!QWERTY.uiop",
        },
    )
    text = out.getvalue()
    for secret in ("4242424242424242", "4242 4242 4242 4242", "abc123", "xoxb-secret", "zzz"):
        assert secret not in text
    assert "QWERTY" not in text
    (line,) = lines(out)
    assert line["message"] == "paying with [card ending 4242] using sk_test_***"
    assert line["token"] == "***"
    assert line["request"] == {"headers": {"Authorization": "***"}, "card": "[card ending 4242]"}
    assert line["session"] == "00D***"


def test_tracebacks_are_masked(log_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = log_lines
    try:
        raise RuntimeError("refused key sk_live_abcdef")
    except RuntimeError:
        logger.exception("call failed")
    (line,) = lines(out)
    assert "sk_live_***" in str(line["exc"]) and "abcdef" not in str(line["exc"])


def test_configure_logging_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    level = root.level
    first = configure_logging("INFO", stream=io.StringIO())
    second = configure_logging("WARNING", stream=io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
        assert root.level == logging.WARNING
    finally:
        root.removeHandler(second)
        root.setLevel(level)
