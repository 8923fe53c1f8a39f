"""No card number anywhere: card numbers in the forms callers say and type them, sent through
every way text enters the layer (a transcript turn, each free-text tool argument, the
hand-over summary, the outcome's summary, texts and Slack post), then looked for, in any
form, in what the API answers, in the store's files (WAL included), in the mocks' ledgers
and in the service's logs."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.bootstrap import Integration
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer
from tests.unit.test_redaction import digits_said, utterances

Served = tuple[Integration, httpx.Client]
LEDGERS = ("crm", "messaging", "email", "slack", "calendar", "analytics")
SAID: list[str] = []  # every card number sent, looked for at the end


@pytest.fixture(scope="module")
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serve_layer(mocks_url, mock_settings, tmp_path_factory.mktemp("cards")) as pair:
        yield pair


@pytest.fixture(autouse=True)
def clean_mocks() -> None:
    """The ledgers are read at the end of the module: they are not reset between tests."""


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs() -> Iterator[Kept]:
    """Every record any logger writes while this module runs, tracebacks included."""
    kept, root = Kept(), logging.getLogger()
    kept.setFormatter(logging.Formatter("%(name)s %(message)s"))
    level = root.level
    root.addHandler(kept)
    root.setLevel(logging.DEBUG)
    yield kept
    root.removeHandler(kept)
    root.setLevel(level)


@pytest.fixture(scope="module")
def phone(enterprise: MockEnterprise) -> str:
    return enterprise.context.dataset.customers[3].phone_e164


def tool(api: httpx.Client, call_id: str, name: str, **arguments: object) -> httpx.Response:
    return api.post(f"/calls/{call_id}/tools/{name}", json={"arguments": arguments})


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(utterances(), min_size=5, max_size=5))
def test_cards_said_every_way_are_redacted_where_they_enter(
    served: Served, logs: Kept, phone: str, said: list[tuple[str, str, bool]]
) -> None:
    _, api = served
    for n, (text, number, _) in enumerate(said):
        SAID.append(number)
        call_id = api.post("/calls", json={"phone": phone}).json()["call_id"]
        reason = text[:500]
        turn = {"speaker": "caller", "text": text}
        assert api.post(f"/calls/{call_id}/turns", json=turn).status_code == 201
        for name, arguments in (
            ("schedule_callback", {"reason": reason}),
            ("send_confirmation", {"text": text[:1600]}),
            ("escalate_to_human", {"reason": reason, "summary": text}),
        ):
            assert tool(api, call_id, name, **arguments).status_code == 200, name
        outcome = {
            "disposition": "escalated",
            "summary": text,
            "messages": [{"channel": "sms", "to": phone, "text": text[:1600]}],
            "slack": {"channel": "#card-test", "text": text},
        }
        assert api.post(f"/calls/{call_id}/end", json=outcome).status_code == 201
        answers = [
            api.get(f"/calls/{call_id}").text,
            api.get("/events", params={"call_id": call_id, "limit": 1000}).text,
            api.get("/outbox/effects", params={"call_id": call_id}).text,
        ]
        for answer in answers:
            assert number not in digits_said(answer), (n, text)
        [turn] = api.get(f"/calls/{call_id}").json()["transcript"]
        assert "[card ending " in turn["text"]  # kept as its last four, not dropped


def test_no_card_is_left_in_the_stores_the_ledgers_or_the_logs(
    served: Served, logs: Kept, control: httpx.Client
) -> None:
    layer, api = served
    assert len(SAID) >= 10, "the property test ran first and sent its cards"
    gives_up = time.monotonic() + 60
    while (summary := api.get("/outbox").json())["pending"] + summary["in_flight"]:
        assert time.monotonic() < gives_up, summary
        time.sleep(0.2)
    files = sorted(p for p in Path(layer.settings.state_dir).iterdir() if p.is_file())
    assert any(p.name.endswith("-wal") for p in files), [p.name for p in files]
    places = {p.name: p.read_bytes().decode("latin-1") for p in files}
    for system in LEDGERS:
        places[f"{system} ledger"] = control.get(f"/_mock/{system}/ledger").text
    places["logs"] = "\n".join(logs.lines)
    for name, text in places.items():
        digits = re.sub(r"\D", "", text)
        for number in SAID:
            assert number not in digits, (name, number[-4:])
