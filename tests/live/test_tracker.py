"""The tracker over loopback, in Jira's REST API v2 wire format: creation, the workflow,
search paging and Jira's error body, which never repeats what was sent."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from mocks.settings import MockCredentials

CRED = MockCredentials()
API = "/tracker/rest/api/2"


@pytest.fixture
def jira(mocks_url: str) -> Iterator[httpx.Client]:
    basic = base64.b64encode(f"{CRED.jira_user}:{CRED.jira_api_token}".encode()).decode()
    with httpx.Client(
        base_url=f"{mocks_url}{API}", headers={"Authorization": f"Basic {basic}"}, timeout=10
    ) as http:
        yield http


def test_a_ticket_moves_through_the_workflow(jira: httpx.Client, control: httpx.Client) -> None:
    fields = {
        "project": {"key": "AUTO"},
        "issuetype": {"name": "Bug"},
        "summary": "Slack step failed",
    }
    created = jira.post("/issue", json={"fields": {**fields, "labels": ["automation"]}})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    again = jira.post("/issue", json={"fields": {**fields, "labels": ["automation"]}})
    assert again.json()["key"] != key  # no idempotency in Jira: a retry is a second ticket
    closing = jira.post(f"/issue/{key}/transitions", json={"transition": {"id": "31"}})
    assert closing.status_code == 204
    reopen_only = jira.get(f"/issue/{key}/transitions").json()["transitions"]
    assert [t["name"] for t in reopen_only] == ["Reopen"]
    stale = jira.post(f"/issue/{key}/transitions", json={"transition": {"id": "31"}})
    assert stale.status_code == 400 and "transition" in stale.json()["errors"]
    assert control.get("/_mock/tracker/ledger").json()["count"] == 3


def test_search_pages_and_picks_fields(jira: httpx.Client) -> None:
    first = jira.get("/search", params={"jql": "project = CC ORDER BY key", "maxResults": 3})
    body = first.json()
    assert body["total"] >= 4 and [i["key"] for i in body["issues"]] == ["CC-1", "CC-2", "CC-3"]
    later = jira.get(
        "/search",
        params={
            "jql": "project = CC ORDER BY key",
            "startAt": 3,
            "maxResults": 1,
            "fields": "summary",
        },
    ).json()
    assert [i["key"] for i in later["issues"]] == ["CC-4"]
    assert list(later["issues"][0]["fields"]) == ["summary"]
    open_ones = jira.get("/search", params={"jql": 'status in ("To Do", "In Progress")'}).json()
    assert all(
        i["fields"]["status"]["name"] in ("To Do", "In Progress") for i in open_ones["issues"]
    )


def test_refusals_are_jiras_and_never_echo(jira: httpx.Client, mocks_url: str) -> None:
    for jql in ("zq7 = 1", "project = zq7 OR key = zq7", 'summary = "zq7"', "project ~ zq7"):
        refused = jira.get("/search", params={"jql": jql})
        assert refused.status_code == 400 and "zq7" not in refused.text, refused.text
        assert refused.json()["errorMessages"][0].startswith("Error in the JQL Query")
    unknown = jira.post(
        "/issue",
        json={"fields": {"project": {"key": "zq7"}, "issuetype": {"name": "Task"}, "summary": "s"}},
    )
    assert unknown.json() == {
        "errorMessages": [],
        "errors": {"project": "valid project is required"},
    }
    invented = jira.post("/issue", json={"fields": {"customfield_zq7": 1}})
    assert invented.status_code == 400 and "zq7" not in invented.text
    assert jira.get("/issue/zq7-1").json()["errorMessages"]
    stranger = httpx.get(f"{mocks_url}{API}/myself", headers={"Authorization": "Bearer zq7"})
    assert stranger.status_code == 401 and "zq7" not in stranger.text
    assert httpx.get(f"{mocks_url}{API}/serverInfo").json()["deploymentType"] == "Server"


def test_an_injected_outage_is_jiras_503(jira: httpx.Client, control: httpx.Client) -> None:
    control.post("/_chaos/systems/tracker/outage", json={"seconds": 60}).raise_for_status()
    down = jira.get("/issue/CC-1")
    assert down.status_code == 503 and down.headers["x-injected-fault"] == "outage"
    assert down.json()["errorMessages"] and down.json()["errors"] == {}
