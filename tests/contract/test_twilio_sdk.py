"""The official ``twilio`` SDK against the messaging and telephony mocks.

``Client(account_sid, auth_token, http_client=MockTwilioHttpClient(<mocks>))`` is the whole
setup: the SDK keeps building ``https://api.twilio.com/2010-04-01/...`` URLs, and the client
sends Messages to ``<mocks>/messaging`` and Calls to ``<mocks>/telephony``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from mocks.dataset import Dataset
from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from tests.contract._adapters import MockTwilioHttpClient
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
CREDS = MockCredentials()
COMPANY = "+18005550100"
CUSTOMER = "+14155550123"


@pytest.fixture
def sdk(mocks_url: str) -> Iterator[Client]:
    http = MockTwilioHttpClient(mocks_url)
    yield Client(CREDS.twilio_account_sid, CREDS.twilio_auth_token, http_client=http)
    if http.session is not None:
        http.session.close()


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
    # page_size=2 makes the SDK follow next_page_uri, an absolute api.twilio.com URL.
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
    sdk: Client, ledger: LedgerReader, enterprise: MockEnterprise
) -> None:
    dataset: Dataset = enterprise.context.dataset
    record = dataset.calls[len(dataset.calls) // 2]
    listed = sdk.calls.list(from_=record.from_number, page_size=2)
    assert record.sid in {c.sid for c in listed}
    assert len(listed) == sum(c.from_number == record.from_number for c in dataset.calls)
    fetched = sdk.calls(record.sid).fetch()
    assert fetched.start_time == record.start_time and fetched.to == record.to_number
    # Reading history is not an effect: neither system's ledger moved.
    assert ledger("telephony")["count"] == ledger("messaging")["count"] == 0


def test_resources_no_mock_serves_fail_before_leaving_loopback(sdk: Client) -> None:
    with pytest.raises(ValueError, match="no mock serves"):
        sdk.recordings.list(limit=1)
