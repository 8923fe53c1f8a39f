"""CRM automations over real HTTP: a CRM write sets off work in the other mocks, each run is
recorded step by step, and a faulted system fails only the step that called it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.crm.automations import SHIPPED_RULES, RulesFileError, load_rules_file
from mocks.registry import MockEnterprise, build_enterprise
from mocks.settings import MockCredentials, MockSettings

CREDS = MockCredentials()
DATA = "/services/data/v59.0"
RUNS = "/_mock/crm/automations/runs"
RULES = "/_mock/crm/automations/rules"
HEADER = "x-switchboard-automations"


def new_lead(sf: httpx.Client, last_name: str) -> str:
    created = sf.post(
        f"{DATA}/sobjects/Lead",
        json={
            "FirstName": "Ada",
            "LastName": last_name,
            "Company": f"{last_name} Engines",
            "Phone": "(415) 555-0199",
        },
    )
    assert created.status_code == 201, created.text
    assert HEADER not in created.headers  # creating a lead fires no shipped rule
    return str(created.json()["id"])


def qualify(sf: httpx.Client, lead_id: str, **headers: str) -> httpx.Response:
    response = sf.patch(
        f"{DATA}/sobjects/Lead/{lead_id}", json={"Status": "Qualified"}, headers=headers
    )
    assert response.status_code == 204, response.text
    return response


def settled_runs(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """Runs once none is under way (the endpoint long-polls)."""
    response = client.get(RUNS, params={**filters, "wait_ms": 5000})
    response.raise_for_status()
    body = response.json()
    assert body["idle"], body
    return list(body["runs"])


def steps_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["kind"]: step for step in run["steps"]}


def shipped_reps(client: httpx.Client) -> list[dict[str, str]]:
    rules = {rule["name"]: rule for rule in client.get(RULES).json()["rules"]}
    return list(rules["lead-qualified"]["steps"][0]["reps"])


def ledger(client: httpx.Client, system: str, operation: str) -> list[dict[str, Any]]:
    response = client.get(f"/_mock/{system}/ledger", params={"operation": operation})
    response.raise_for_status()
    assert response.json()["duplicate_keys"] == []
    return list(response.json()["entries"])


def test_qualified_leads_get_owners_round_robin_tasks_mail_and_a_slack_post(
    sf: httpx.Client, client: httpx.Client
) -> None:
    leads = [new_lead(sf, "Lovelace"), new_lead(sf, "Hopper")]
    for lead_id in leads:
        assert qualify(sf, lead_id).headers[HEADER] == "lead-qualified"
    runs = settled_runs(client, rule="lead-qualified")
    assert [run["trigger"]["record_id"] for run in runs] == leads
    for run in runs:
        assert run["status"] == "succeeded", run
        assert [s["status"] for s in run["steps"]] == ["succeeded"] * 4
        assert run["trigger"]["changed_fields"] == ["Status"]
        assert run["finished_at"] >= run["started_at"]

    reps = shipped_reps(client)
    owners = [sf.get(f"{DATA}/sobjects/Lead/{lead_id}").json()["OwnerId"] for lead_id in leads]
    assert owners == [reps[0]["id"], reps[1]["id"]]  # round-robin from the first rep

    today = datetime.now(UTC).date()
    for lead_id, owner, run in zip(leads, owners, runs, strict=True):
        tasks = sf.get(
            f"{DATA}/query",
            params={
                "q": "SELECT Id, Subject, OwnerId, ActivityDate "
                f"FROM Task WHERE WhoId = '{lead_id}'"
            },
        ).json()["records"]
        assert len(tasks) == 1
        assert tasks[0]["OwnerId"] == owner and tasks[0]["Subject"].startswith("Follow up")
        assert tasks[0]["ActivityDate"] in {
            str(today + timedelta(days=2)),
            str(today + timedelta(days=3)),
        }
        assert steps_of(run)["create_task"]["output"]["task_id"] == tasks[0]["Id"]

    mails = client.get("/_mock/email/outbox", params={"to": reps[0]["email"]}).json()["mails"]
    assert len(mails) == 1 and "Lovelace" in mails[0]["subject"]
    posts = client.get("/_mock/slack/messages", params={"channel": "sales-alerts"}).json()
    assert posts["count"] == 2
    assert (
        "Ada Hopper" in posts["messages"][1]["text"]
        and reps[1]["name"] in posts["messages"][1]["text"]
    )

    # The CRM effects are in the CRM's ledger under the steps' keys; the mail under its key.
    updates = ledger(client, "crm", "automation.update")
    assert [(e["resource"], e["idempotency_key"]) for e in updates] == [
        (run["trigger"]["record_id"], run["steps"][0]["idempotency_key"]) for run in runs
    ]
    assert len(ledger(client, "crm", "automation.create")) == 2
    mail_keys = [e["idempotency_key"] for e in ledger(client, "email", "mail.send")]
    assert mail_keys == [steps_of(run)["send_email"]["idempotency_key"] for run in runs]


def test_a_faulted_slack_fails_its_step_and_only_that_step(
    sf: httpx.Client, client: httpx.Client, control: httpx.Client
) -> None:
    faulted = control.put(
        "/_chaos/systems/slack", json={"errors": {"rate": 1, "kinds": {"503": 1}}}
    )
    assert faulted.status_code == 200, faulted.text
    lead_id = new_lead(sf, "Faulted")
    qualify(sf, lead_id)
    (run,) = settled_runs(client, record_id=lead_id)
    assert run["status"] == "failed"
    steps = steps_of(run)
    slack = steps["slack_post"]
    assert slack["status"] == "failed" and slack["http_status"] == 503
    assert slack["injected_fault"] == "503" and slack["attempts"] == 2  # retried once
    assert "service_unavailable" in slack["error"]
    for kind in ("assign_owner", "create_task", "send_email"):
        assert steps[kind]["status"] == "succeeded", steps[kind]
    assert steps["send_email"]["injected_fault"] is None
    assert client.get("/_mock/slack/messages").json()["count"] == 0
    assert [r["id"] for r in settled_runs(client, status="failed")] == [run["id"]]
    assert settled_runs(client, status="succeeded") == []
    assert client.get(f"{RUNS}/{run['id']}").json() == run


def test_changes_no_rule_matches_start_nothing(sf: httpx.Client, client: httpx.Client) -> None:
    lead_id = new_lead(sf, "Quiet")
    touched = sf.patch(f"{DATA}/sobjects/Lead/{lead_id}", json={"Phone": "415.555.0100"})
    assert touched.status_code == 204 and HEADER not in touched.headers
    qualify(sf, lead_id)
    again = qualify(sf, lead_id)  # already Qualified: the Status does not "become" it again
    assert HEADER not in again.headers
    assert len(settled_runs(client, record_id=lead_id[:15])) == 1  # 15-char ids work too
    assert settled_runs(client, rule="callback-task-created") == []
    assert client.get(f"{RUNS}/run_unknown").status_code == 404


def test_a_replayed_patch_starts_no_second_run(sf: httpx.Client, client: httpx.Client) -> None:
    lead_id = new_lead(sf, "Replay")
    first = qualify(sf, lead_id, **{"Idempotency-Key": "qualify-replay"})
    replay = qualify(sf, lead_id, **{"Idempotency-Key": "qualify-replay"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert first.headers[HEADER] == replay.headers[HEADER] == "lead-qualified"
    assert len(settled_runs(client, record_id=lead_id)) == 1
    assert len(ledger(client, "crm", "automation.update")) == 1
    assert client.get("/_mock/slack/messages").json()["count"] == 1


def test_a_contact_address_change_becomes_an_analytics_event(
    sf: httpx.Client, client: httpx.Client, enterprise: MockEnterprise
) -> None:
    contact = enterprise.context.dataset.crm_contacts[0]
    path = f"{DATA}/sobjects/Contact/{contact.id}"
    titled = sf.patch(path, json={"Title": "CFO"})
    assert titled.status_code == 204 and HEADER not in titled.headers
    moved = sf.patch(path, json={"MailingCity": "Oakland"})
    assert moved.headers[HEADER] == "contact-details-changed"
    (run,) = settled_runs(client, record_id=contact.id)
    assert run["status"] == "succeeded", run
    events = client.get(
        "/_mock/analytics/events", params={"event": "Contact Updated", "userId": contact.id}
    ).json()
    assert events["count"] == 1
    event = events["events"][0]
    assert event["properties"]["changed_fields"] == ["MailingCity"]
    assert event["properties"]["mailing_city"] == "Oakland"
    assert event["messageId"] == run["steps"][0]["idempotency_key"]


def test_a_callback_task_notifies_the_voice_agent_channel(
    sf: httpx.Client, client: httpx.Client
) -> None:
    plain = sf.post(f"{DATA}/sobjects/Task", json={"Subject": "Send the brochure"})
    assert plain.status_code == 201 and HEADER not in plain.headers
    callback = sf.post(
        f"{DATA}/sobjects/Task",
        json={"Subject": "Callback: Ada about her loan", "ActivityDate": "2030-01-02"},
    )
    assert callback.headers[HEADER] == "callback-task-created"
    (run,) = settled_runs(client, rule="callback-task-created")
    assert run["status"] == "succeeded" and run["trigger"]["event"] == "created"
    posts = client.get("/_mock/slack/messages", params={"channel": "voice-agent"}).json()
    assert posts["count"] == 1
    assert "Callback: Ada about her loan, due 2030-01-02" in posts["messages"][0]["text"]


CUSTOM_RULES = {
    "rules": [
        {
            "name": "lead-created-alert",
            "on_error": "stop",
            "trigger": {"object": "Lead", "event": "created"},
            "steps": [
                {
                    "kind": "slack_post",
                    "channel": "#sales-alerts",
                    "text": "New lead {record.Name}",
                },
                {"kind": "track_event", "event": "Lead Created"},
            ],
        }
    ]
}


def test_rules_can_be_replaced_until_the_next_reset(
    sf: httpx.Client, client: httpx.Client, control: httpx.Client
) -> None:
    assert client.put(RULES, json=CUSTOM_RULES).status_code == 401  # needs the chaos token
    replaced = control.put(RULES, json=CUSTOM_RULES)
    assert replaced.status_code == 200, replaced.text
    assert [r["name"] for r in client.get(RULES).json()["rules"]] == ["lead-created-alert"]
    control.put("/_chaos/systems/slack", json={"errors": {"rate": 1, "kinds": {"503": 1}}})
    lead_id = new_lead_with_header(sf, "lead-created-alert")
    (run,) = settled_runs(client, record_id=lead_id)
    assert run["status"] == "failed"
    assert [s["status"] for s in run["steps"]] == ["failed", "skipped"]  # on_error: stop

    control.post("/_mock/crm/reset").raise_for_status()
    assert client.get(RUNS).json()["count"] == 0
    names = [r["name"] for r in client.get(RULES).json()["rules"]]
    assert names == ["lead-qualified", "contact-details-changed", "callback-task-created"]


def new_lead_with_header(sf: httpx.Client, expected: str) -> str:
    created = sf.post(f"{DATA}/sobjects/Lead", json={"LastName": "Byron", "Company": "Poets"})
    assert created.status_code == 201 and created.headers[HEADER] == expected
    return str(created.json()["id"])


@pytest.mark.parametrize(
    ("step", "where", "words"),
    [
        (
            {"kind": "slack_post", "text": "hi"},
            ["steps", 0, "slack_post", "channel"],
            "Field required",
        ),
        (
            {"kind": "slack_post", "channel": "#x", "text": "{record.Statuss}"},
            [],
            "steps[0].text: Lead has no field by that name",
        ),
        (
            {"kind": "send_email", "to": "{owner.email}", "subject": "s", "text": "t"},
            [],
            "needs an earlier assign_owner step",
        ),
        ({"kind": "fax", "to": "1"}, ["steps", 0], "does not match any of the expected tags"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule_and_the_field(
    control: httpx.Client, step: dict[str, Any], where: list[Any], words: str
) -> None:
    rule = {"name": "broken", "trigger": {"object": "Lead", "event": "updated"}, "steps": [step]}
    refused = control.put(RULES, json={"rules": [rule]})
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]
    assert problem["loc"] == ["body", "rules", 0, *where]
    # The rule is named by its place in the list: its name is what was sent, not repeated.
    assert problem["msg"].startswith("rule rules[0]: ") and words in problem["msg"]
    assert len(control.get(RULES).json()["rules"]) == 3  # the active rules stay


def test_a_bad_rules_file_names_the_rule_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - name: lead-nudge\n    trigger: {object: Lead, event: moved}\n"
        "    steps: [{kind: slack_post, channel: '#x', text: hi}]\n"
    )
    with pytest.raises(RulesFileError) as refused:
        load_rules_file(path)
    assert "rules.0.trigger.event: rule 'lead-nudge': Input should be 'created' or 'updated'" in (
        str(refused.value)
    )


def test_the_active_rules_round_trip_through_put(control: httpx.Client) -> None:
    active = control.get(RULES).json()
    put_back = control.put(RULES, json=active)
    assert put_back.status_code == 200, put_back.text
    assert put_back.json() == active == control.get(RULES).json()


LOOPING_RULES = {
    "rules": [
        {
            "name": "task-begets-task",
            "trigger": {
                "object": "Task",
                "event": "created",
                "when": [{"field": "Subject", "starts_with": "Loop"}],
            },
            "steps": [{"kind": "create_task", "subject": "Loop again after {record.Id}"}],
        }
    ]
}


def test_automation_writes_trigger_rules_too_but_only_so_deep(
    sf: httpx.Client, client: httpx.Client, control: httpx.Client
) -> None:
    control.put(RULES, json=LOOPING_RULES).raise_for_status()
    started = sf.post(f"{DATA}/sobjects/Task", json={"Subject": "Loop"})
    assert started.headers[HEADER] == "task-begets-task"
    runs = settled_runs(client)
    assert [run["status"] for run in runs] == ["succeeded"] * 3  # MAX_DEPTH cuts the loop
    tasks = sf.get(f"{DATA}/query", params={"q": "SELECT COUNT() FROM Task"}).json()
    assert tasks["totalSize"] == 4  # the client's own task and one per run


def test_a_rules_file_chosen_at_start_replaces_the_shipped_rules(
    tmp_path: Path, mock_settings: MockSettings, enterprise: MockEnterprise
) -> None:
    rules = tmp_path / "rules.yaml"
    head, first, *_ = SHIPPED_RULES.read_text().split("\n  - name:")
    rules.write_text(head + "\n  - name:" + first + "\n")  # only the first shipped rule
    settings = mock_settings.model_copy(update={"crm_automations_file": rules})
    only_crm = build_enterprise(settings, only=["crm"], dataset=enterprise.context.dataset)
    chosen = only_crm.services["crm"].automations.rules  # type: ignore[attr-defined]
    assert len(chosen.rules) == 1
    assert len(enterprise.services["crm"].automations.rules.rules) >= 3  # type: ignore[attr-defined]
