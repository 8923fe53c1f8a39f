"""The official ``twilio`` SDK against the messaging and telephony mocks.

Each Twilio product is a domain of the client with its own ``base_url``, and the SDK joins
it with every resource path and with the relative ``next_page_uri`` it pages by. So one
line points a client at a mock: ``client.api.base_url = "<mocks>/messaging"``. The mocks
split Twilio's REST API in two systems, so Messages and Calls take a client each
(``<mocks>/messaging`` and ``<mocks>/telephony``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
CREDS = MockCredentials()
COMPANY = "+18005550100"
CUSTOMER = "+14155550123"


def twilio_client(base_url: str) -> Client:
    client = Client(CREDS.twilio_account_sid, CREDS.twilio_auth_token)
    client.api.base_url = base_url  # the Api domain: Messages, Calls, Recordings...
    return client


@pytest.fixture
def sdk(mocks_url: str) -> Iterator[Client]:
    client = twilio_client(f"{mocks_url}/messaging")
    yield client
    client.http_client.session.close()


@pytest.fixture
def calls_sdk(mocks_url: str) -> Iterator[Client]:
    client = twilio_client(f"{mocks_url}/telephony")
    yield client
    client.http_client.session.close()


def test_sms_and_whatsapp_sends_apply_once_each(sdk: Client, ledger: LedgerReader) -> None:
    sms = sdk.messages.create(to=CUSTOMER, from_=COMPANY, body="Your appointment is booked.")
    assert (sms.to, sms.from_, sms.status) == (CUSTOMER, COMPANY, "queued")
    chat = sdk.messages.create(
        to=f"whatsapp:{CUSTOMER}", from_=f"whatsapp:{COMPANY}", body="See you Tuesday."
    )
    assert chat.to == f"whatsapp:{CUSTOMER}" and chat.sid != sms.sid
    entries = ledger("messaging")["entries"]
    assert [(e["operation"], e["resource"], e["detail"]["channel"]) for e in entries] == [
        ("message.create", sms.sid, "sms"),
        ("message.create", chat.sid, "whatsapp"),
    ]
    assert sdk.messages(sms.sid).fetch().body == "Your appointment is booked."


def test_the_sdk_pages_through_messages_newest_first(sdk: Client, ledger: LedgerReader) -> None:
    sent = [sdk.messages.create(to=CUSTOMER, from_=COMPANY, body=f"n{i}").sid for i in range(3)]
    # page_size=2 makes the SDK follow next_page_uri, joined with the same base_url.
    assert [m.sid for m in sdk.messages.stream(page_size=2)] == sent[::-1]
    assert ledger("messaging")["count"] == 3


def test_a_refused_send_raises_the_sdks_error_and_applies_nothing(
    sdk: Client, ledger: LedgerReader
) -> None:
    with pytest.raises(TwilioRestException) as refused:
        sdk.messages.create(to="+15005550001", from_=COMPANY, body="x")
    assert (refused.value.status, refused.value.code) == (400, 21211)
    assert ledger("messaging")["count"] == 0


def test_calls_list_reads_the_telephony_history(
    calls_sdk: Client, ledger: LedgerReader, enterprise: MockEnterprise
) -> None:
    dataset: Dataset = enterprise.context.dataset
    record = dataset.calls[len(dataset.calls) // 2]
    listed = calls_sdk.calls.list(from_=record.from_number, page_size=2)
    assert record.sid in {c.sid for c in listed}
    assert len(listed) == sum(c.from_number == record.from_number for c in dataset.calls)
    fetched = calls_sdk.calls(record.sid).fetch()
    assert fetched.start_time == record.start_time and fetched.to == record.to_number
    # Reading history is not an effect: neither system's ledger moved.
    assert ledger("telephony")["count"] == ledger("messaging")["count"] == 0


def test_a_resource_no_mock_serves_answers_twilios_404_from_loopback(sdk: Client) -> None:
    with pytest.raises(TwilioRestException) as missing:
        sdk.recordings("RE" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
