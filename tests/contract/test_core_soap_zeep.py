"""zeep, the Python SOAP client, against the legacy core (``mocks.core``).

``zeep.Client("<mocks>/core/ws/CustomerService?wsdl")`` is the whole setup: the WSDL names
every operation and its types, and its address is the URL it was fetched at. Every
operation but Login carries the session in the ``SessionHeader`` SOAP header
(``_soapheaders=``); faults arrive as ``zeep.exceptions.Fault`` with CoreLink's code in
their detail.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import requests
import zeep
from zeep.exceptions import Fault
from zeep.transports import Transport

from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract

CREDS = MockCredentials()
NS = "urn:corelink:cif:v7"


@pytest.fixture
def soap(mocks_url: str) -> Iterator[zeep.Client]:
    with requests.Session() as session:
        client = zeep.Client(
            f"{mocks_url}/core/ws/CustomerService?wsdl",
            transport=Transport(session=session, timeout=10, operation_timeout=10),
        )
        yield client


def login(soap: zeep.Client) -> dict[str, Any]:
    answer = soap.service.Login(UserId=CREDS.core_user_id, Password=CREDS.core_password)
    return {"SessionHeader": {"SessionToken": answer.SessionToken}}


def code_of(fault: Fault) -> str:
    found = fault.detail.find(f"{{{NS}}}FaultDetail/{{{NS}}}ErrorCode")
    assert found is not None, "the fault has no CoreLink error code"
    return str(found.text)


def detail_of(fault: Fault, name: str) -> str | None:
    found = fault.detail.find(f"{{{NS}}}FaultDetail/{{{NS}}}{name}")
    return None if found is None else str(found.text)


def test_login_and_a_profile_agree_with_the_shared_dataset(
    soap: zeep.Client, enterprise: MockEnterprise
) -> None:
    dataset = enterprise.context.dataset
    customer = next(
        c for c in dataset.customers if dataset.bank_accounts_for_customer(c.customer_id)
    )
    answer = soap.service.Login(UserId=CREDS.core_user_id, Password=CREDS.core_password)
    assert answer.SessionToken.startswith("CLS") and answer.TimeoutSeconds > 0
    header = {"SessionHeader": {"SessionToken": answer.SessionToken}}
    profile = soap.service.GetCustomerProfile(
        CustomerNumber=customer.customer_id, _soapheaders=header
    )
    assert profile.Customer.CustomerNumber == customer.customer_id
    assert (profile.Customer.FirstName, profile.Customer.LastName) == (
        customer.first_name,
        customer.last_name,
    )
    accounts = {a.AccountNumber: a for a in profile.Accounts.Account}
    for account in dataset.bank_accounts_for_customer(customer.customer_id):
        shown = accounts[account.account_number]
        assert shown.LedgerBalance == Decimal(account.balance_cents) / 100
        assert shown.AvailableBalance <= shown.LedgerBalance
        assert shown.ProductType in ("DDA", "SAV", "DDA-BUS", "CCD")
    first = next(iter(accounts))
    balance = soap.service.GetAccountBalance(AccountNumber=first, _soapheaders=header)
    assert balance.LedgerBalance == accounts[first].LedgerBalance
    assert soap.service.Logout(_soapheaders=header) == "LOGGED_OFF"


def test_wrong_credentials_and_missing_or_expired_sessions_are_faults(
    soap: zeep.Client, control: httpx.Client
) -> None:
    with pytest.raises(Fault) as wrong:
        soap.service.Login(UserId=CREDS.core_user_id, Password="not-the-password")
    assert code_of(wrong.value) == "CL-SEC-0101"
    assert "not-the-password" not in str(wrong.value.message)
    with pytest.raises(Fault) as none:
        soap.service.GetCustomerProfile(CustomerNumber="C0000001")
    assert code_of(none.value) == "CL-SEC-0103"
    header = login(soap)
    assert soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=header)
    assert control.post("/_chaos/core/sessions/expire").json() == {"expired": 1}
    with pytest.raises(Fault) as expired:
        soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=header)
    assert code_of(expired.value) == "CL-SEC-0102"
    assert detail_of(expired.value, "Field") == "SessionToken"
    again = login(soap)  # a new Login is all it takes
    assert soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=again)


def test_an_unknown_customer_is_a_fault_naming_the_field(soap: zeep.Client) -> None:
    with pytest.raises(Fault) as missing:
        soap.service.GetCustomerProfile(CustomerNumber="C9999999", _soapheaders=login(soap))
    assert code_of(missing.value) == "CL-CIF-0404"
    assert detail_of(missing.value, "Field") == "CustomerNumber"
    assert "C9999999" not in str(missing.value.message)


def test_the_batch_window_refuses_everything_until_it_ends(
    soap: zeep.Client, control: httpx.Client
) -> None:
    header = login(soap)
    opened = control.post("/_chaos/core/batch-window", json={"seconds": 120})
    assert opened.status_code == 200 and opened.json()["open"] is True
    for call in (
        lambda: soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=header),
        lambda: soap.service.Login(UserId=CREDS.core_user_id, Password=CREDS.core_password),
    ):
        with pytest.raises(Fault) as refused:
            call()
        assert code_of(refused.value) == "CL-SYS-0900"
        assert refused.value.code == "soap:Server"
        assert 100 <= int(detail_of(refused.value, "RetryAfterSeconds") or 0) <= 120
        assert detail_of(refused.value, "WindowEndsAt")
    state = control.get("/_chaos/core/batch-window").json()
    assert state["refused"] == 2 and state["forced"] is True
    assert control.delete("/_chaos/core/batch-window").json()["ended"] is True
    assert soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=header)


def test_a_memo_is_written_once_per_request_reference(
    soap: zeep.Client, ledger: LedgerReader
) -> None:
    header = login(soap)
    first = soap.service.AddContactMemo(
        CustomerNumber="C0000001",
        MemoText="Called about card",
        RequestReference="sb:call-1:memo",
        _soapheaders=header,
    )
    again = soap.service.AddContactMemo(
        CustomerNumber="C0000001",
        MemoText="Called about card",
        RequestReference="sb:call-1:memo",
        _soapheaders=header,
    )
    assert again.MemoId == first.MemoId
    with pytest.raises(Fault) as reused:
        soap.service.AddContactMemo(
            CustomerNumber="C0000001",
            MemoText="Something else",
            RequestReference="sb:call-1:memo",
            _soapheaders=header,
        )
    assert code_of(reused.value) == "CL-REQ-0409"
    entries = ledger("core")["entries"]
    assert [(e["operation"], e["resource"]) for e in entries] == [("memo.add", first.MemoId)]


def test_an_injected_fault_reaches_zeep_as_a_soap_fault(
    soap: zeep.Client, control: httpx.Client
) -> None:
    header = login(soap)
    profile = {"errors": {"rate": 1.0, "kinds": {"503": 1.0}}}
    control.put("/_chaos/systems/core", json=profile).raise_for_status()
    with pytest.raises(Fault) as injected:
        soap.service.GetCustomerProfile(CustomerNumber="C0000001", _soapheaders=header)
    assert code_of(injected.value) == "CL-SYS-0503"
