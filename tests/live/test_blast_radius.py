"""The blast radius predicted from the system map against what really happens when the
system goes down: the same steps suffer, the others stay live, the verdict matches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integration.bootstrap import Integration
from mocks.registry import MockEnterprise
from mocks.settings import MockSettings
from tests.live.lookup_support import serve_layer

LOOKUP_FIELDS = (
    "contact",
    "call_history",
    "accounts",
    "eligibility",
    "loans",
    "orders",
    "holdings",
    "caller_flags",
)


@pytest.fixture
def served(
    mocks_url: str, mock_settings: MockSettings, tmp_path: Path
) -> Iterator[tuple[Integration, httpx.Client]]:
    with serve_layer(mocks_url, mock_settings, tmp_path) as pair:
        yield pair


@pytest.mark.parametrize(
    ("system", "verdict"),
    [
        ("erp", "degrades"),
        ("crm", "fails"),
        ("telephony", "degrades"),
        ("database", "fails"),
        ("core", "degrades"),
        ("middleware", "degrades"),  # the gateway: both its sources at once
        ("sheets", "degrades"),  # the caller lists: flags missing, the call carries on
    ],
)
def test_a_down_source_hurts_exactly_the_predicted_lookup_steps(
    served: tuple[Integration, httpx.Client],
    control: httpx.Client,
    enterprise: MockEnterprise,
    system: str,
    verdict: str,
) -> None:
    _, api = served
    predicted = api.get("/system-map/blast-radius", params={"system": system}).json()
    lookup = next(f for f in predicted["flows"] if f["flow"] == "caller_lookup")
    assert lookup["verdict"] == verdict
    hurt = {step["step"] for step in lookup["steps"]}

    # The database is SQL, not HTTP: its outage is a real unreadable file.
    outage = (
        "/_chaos/database/outage" if system == "database" else f"/_chaos/systems/{system}/outage"
    )
    control.post(outage, json={"seconds": 60}).raise_for_status()
    customer = enterprise.context.dataset.customers[7]  # never looked up before: no cache
    view = api.post("/calls", json={"phone": customer.phone_e164}).json()["view"]
    not_live = {f for f in LOOKUP_FIELDS if view[f]["provenance"]["status"] != "live"}
    assert not_live == hurt
    seen = "escalate" if verdict == "fails" else "carry_on"
    assert view["recommendation"]["action"] in {seen, "use_cached_and_say_so"}
    if verdict == "fails":
        assert view["recommendation"]["action"] == "escalate"


def test_a_down_write_target_delays_its_effect_as_predicted(
    served: tuple[Integration, httpx.Client],
    control: httpx.Client,
    enterprise: MockEnterprise,
) -> None:
    _, api = served
    predicted = api.get("/system-map/blast-radius", params={"system": "slack"}).json()
    verdicts = {f["flow"]: f["verdict"] for f in predicted["flows"]}
    assert verdicts["post_call_sync"] == "delayed" and verdicts["caller_lookup"] == "unaffected"

    control.post("/_chaos/systems/slack/outage", json={"seconds": 60}).raise_for_status()
    phone = enterprise.context.dataset.customers[8].phone_e164
    call_id = api.post("/calls", json={"phone": phone}).json()["call_id"]
    api.post(
        f"/calls/{call_id}/end", json={"slack": {"channel": "#voice-agent", "text": "hi"}}
    ).raise_for_status()
    ends = time.monotonic() + 10
    while time.monotonic() < ends:
        effects = {
            e["name"]: e
            for e in api.get("/outbox/effects", params={"call_id": call_id}).json()["effects"]
        }
        if effects["analytics"]["status"] == "delivered" and effects["slack"]["attempts"] >= 1:
            break
        time.sleep(0.05)
    assert effects["analytics"]["status"] == "delivered"  # unaffected flows carry on
    assert effects["slack"]["status"] in {"pending", "in_flight"}  # delayed, not lost
    assert effects["slack"]["attempts"] >= 1


def test_the_map_and_a_review_are_served(served: tuple[Integration, httpx.Client]) -> None:
    _, api = served
    body = api.get("/system-map").json()
    assert body["systems"]["erp"]["policy"]["rate_limit"]["requests"] == 50
    assert body["flows"]["caller_lookup"]["capacity"]["bottleneck"] == "erp"
    review = api.get("/system-map/flows/payment/review")
    assert review.status_code == 200 and "## 7. Capacity" in review.text
    assert api.get("/system-map/flows/nope/review").status_code == 404
    assert api.get("/system-map/blast-radius", params={"system": "fax"}).status_code == 422
