"""The ``jira`` library against the tracker mock.

``JIRA(server="<mocks>/tracker", basic_auth=(user, api_token))``: the library reads
``serverInfo`` (a Server deployment, so it searches with ``/search``), and builds every URL
from the server's. Jira has no idempotency key, so a retry-safe escalation searches for its
own label before it creates.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from mocks.registry import MockEnterprise
from mocks.settings import MockCredentials
from tests.contract.conftest import LedgerReader

pytestmark = pytest.mark.contract
CRED = MockCredentials()


@pytest.fixture
def jira(mocks_url: str) -> Iterator[JIRA]:
    client = JIRA(
        server=f"{mocks_url}/tracker",
        basic_auth=(CRED.jira_user, CRED.jira_api_token),
        max_retries=0,
    )
    yield client
    client.close()


def test_an_escalation_is_opened_worked_and_closed(jira: JIRA, ledger: LedgerReader) -> None:
    label = "sb-call-42"
    assert jira.search_issues(f"project = CC AND labels = {label}") == []
    issue = jira.create_issue(
        project="CC",
        issuetype={"name": "Task"},
        summary="Call back the caller: the agent handed over",
        description="Caller asked for a human about a card dispute.",
        labels=["escalation", label],
    )
    assert issue.key.startswith("CC-") and issue.fields.status.name == "To Do"
    assert [t["name"] for t in jira.transitions(issue)] == ["Start Progress", "Close"]
    jira.transition_issue(issue, "Start Progress", comment="Picked up by Dana")
    jira.add_comment(issue, "Called back; dispute logged.")
    jira.transition_issue(issue, "21")
    done = jira.issue(issue.key)
    assert done.fields.status.name == "Done"
    assert [c.body for c in jira.comments(issue.key)] == [
        "Picked up by Dana",
        "Called back; dispute logged.",
    ]
    found = jira.search_issues(f"project = CC AND labels = {label} AND status = Done")
    assert [i.key for i in found] == [issue.key]
    book = ledger("tracker")
    assert [e["operation"] for e in book["entries"]] == [
        "issue.create",
        "issue.transition",
        "comment.add",
        "issue.transition",
    ]


def test_seeded_tickets_are_about_the_datasets_people(
    jira: JIRA, enterprise: MockEnterprise
) -> None:
    escalations = jira.search_issues("project = CC ORDER BY key ASC", maxResults=100)
    assert escalations and escalations[0].key == "CC-1"
    ids = {c.customer_id for c in enterprise.context.dataset.customers}
    assert all(any(i in str(e.fields.description) for i in ids) for e in escalations)
    failures = jira.search_issues('project = AUTO AND summary ~ "automation failed"')
    assert failures and all(f.fields.issuetype.name == "Bug" for f in failures)


def test_refusals_are_jiras(jira: JIRA, mocks_url: str) -> None:
    with pytest.raises(JIRAError) as missing:
        jira.issue("CC-9999")
    assert missing.value.status_code == 404
    with pytest.raises(JIRAError) as invalid:
        jira.transition_issue(
            "CC-1", "41" if jira.issue("CC-1").fields.status.name != "Done" else "11"
        )
    assert invalid.value.status_code == 400
    with pytest.raises(JIRAError) as no_summary:
        jira.create_issue(project={"key": "CC"}, issuetype={"name": "Task"}, summary=" ")
    assert no_summary.value.status_code == 400 and "summary" in no_summary.value.text
    with pytest.raises(JIRAError) as bad_jql:
        jira.search_issues("project = CC OR zq7 = 1")
    assert bad_jql.value.status_code == 400 and "zq7" not in bad_jql.value.text
    with pytest.raises(JIRAError) as stranger:
        JIRA(server=f"{mocks_url}/tracker", basic_auth=("x", "zq7"), max_retries=0).myself()
    assert stranger.value.status_code == 401
