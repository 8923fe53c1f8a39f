"""The caller lists over loopback: the layer reads the hand-kept spreadsheet as a careful
person would, puts the caller's VIP and do-not-call flags in the view with provenance,
keeps the whole-list read briefly so a burst of calls spends one read of the per-minute
quota, and, when the quota is spent, answers from its last good copy with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.bootstrap import Integration
from integration.clients.sheets import GoogleSheetsClient
from integration.policies.executor import Attempt
from integration.settings import IntegrationSettings
from integration.transports.base import Transport
from mocks.settings import MockSettings
from tests.live.lookup_support import quick_policies, serve_layer


def lists(control: httpx.Client) -> dict[str, Any]:
    """What a careful reader of the sheet ends up with (the mock's own normalisation)."""
    found: dict[str, Any] = control.get("/_mock/sheets/lists").json()
    return found


def reads_used(control: httpx.Client) -> int:
    used: int = control.get("/_mock/sheets/quota").json()["reads"]["used"]
    return used


@pytest.fixture
def kept(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    """The shipped policies: the lists kept fresh for 30 s."""
    with serve_layer(mocks_url, mock_settings, tmp_path) as served:
        yield served


@pytest.fixture
def unkept(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    """Every lookup reads the sheet (fresh_s 0), one attempt: each call spends quota."""
    policies = quick_policies(
        tmp_path, sheets={"cache": {"fresh_s": 0}, "retry": {"max_attempts": 1}}
    )
    with serve_layer(mocks_url, mock_settings, tmp_path, policies_file=policies) as served:
        yield served


async def test_the_client_reads_both_lists_as_a_careful_person_would(
    transport: Transport, mocks_url: str, control: httpx.Client
) -> None:
    settings = IntegrationSettings(mocks_url=mocks_url)
    client = GoogleSheetsClient(
        transport, f"{mocks_url}/sheets", settings.credentials, settings.caller_lists_sheet
    )
    read = await client.caller_lists(Attempt(number=1, timeout_s=5))
    expected = lists(control)
    assert sorted(read["vip"]) == expected["vip"]
    assert sorted(read["do_not_call"]) == expected["do_not_call"]
    assert read["skipped_rows"] >= 2  # "n/a" and the count at the foot: no phone numbers
    tiers = {entry["tier"] for entry in read["vip"].values()}
    assert tiers <= {"Gold", "Platinum", "Silver", None}  # " Silver", "GOLD " tidied


def test_the_view_carries_the_callers_flags_with_provenance(
    kept: tuple[Integration, httpx.Client], control: httpx.Client
) -> None:
    _, api = kept
    expected = lists(control)
    both = sorted(set(expected["vip"]) & set(expected["do_not_call"]))[0]
    national = f"({both[2:5]}) {both[5:8]}-{both[8:]}"
    view = api.post("/calls", json={"phone": national}).json()["view"]
    flags = view["caller_flags"]
    assert flags["provenance"]["status"] == "live" and flags["provenance"]["system"] == "sheets"
    assert flags["value"]["vip"] is True and flags["value"]["do_not_call"] is True
    assert flags["value"]["vip_tier"] in {"Gold", "Platinum", "Silver", None}
    assert "caller_flags" in {s["step"] for s in view["steps"]}
    other = next(e for e in expected["do_not_call"] if e not in expected["vip"])
    plain = api.post("/calls", json={"phone": other}).json()["view"]["caller_flags"]["value"]
    assert (plain["vip"], plain["do_not_call"]) == (False, True)


def test_a_burst_of_calls_spends_one_read_of_the_quota(
    kept: tuple[Integration, httpx.Client], control: httpx.Client
) -> None:
    _, api = kept
    phones = lists(control)["vip"][:8]
    api.post("/calls", json={"phone": phones[0]}).raise_for_status()
    for phone in phones[1:]:
        flags = api.post("/calls", json={"phone": phone}).json()["view"]["caller_flags"]
        assert flags["provenance"]["status"] == "live" and flags["value"]["vip"] is True
        assert flags["provenance"]["age_s"] is not None  # served from the 30 s copy
    assert reads_used(control) == 1


def test_calls_arriving_together_before_any_copy_share_one_read(
    kept: tuple[Integration, httpx.Client], control: httpx.Client
) -> None:
    _, api = kept
    phones = lists(control)["do_not_call"][:8]
    with ThreadPoolExecutor(len(phones)) as pool:
        views = list(pool.map(lambda p: api.post("/calls", json={"phone": p}).json(), phones))
    assert all(v["view"]["caller_flags"]["value"]["do_not_call"] for v in views)
    assert reads_used(control) == 1


def test_a_spent_quota_falls_back_to_the_last_good_lists_and_says_why(
    unkept: tuple[Integration, httpx.Client], control: httpx.Client
) -> None:
    _, api = unkept
    control.put("/_mock/sheets/quota", json={"read_requests_per_minute": 1}).raise_for_status()
    vip = lists(control)["vip"]
    first = api.post("/calls", json={"phone": vip[0]}).json()["view"]
    assert first["caller_flags"]["provenance"]["status"] == "live"
    second = api.post("/calls", json={"phone": vip[1]}).json()["view"]
    flags = second["caller_flags"]
    assert (flags["provenance"]["status"], flags["provenance"]["reason"]) == (
        "cached",
        "rate_limited",
    )
    assert flags["value"]["vip"] is True  # another caller, picked out of the cached lists
    assert second["recommendation"]["action"] != "escalate"  # the flags are not essential
    assert control.get("/_mock/sheets/quota").json()["reads"]["refused"] == 1
