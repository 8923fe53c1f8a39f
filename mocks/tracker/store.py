"""Projects, a three-status workflow, and the issues the contact centre already has.

Two projects: ``CC`` (escalations from calls the agent handed over) and ``AUTO`` (failed
automations). Seeded from the shared dataset: escalations about real customers' failed or
abandoned calls, and automation failures about real CRM leads, in every status.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mocks.dataset import Dataset

__all__ = [
    "ISSUE_TYPES",
    "PRIORITIES",
    "PROJECTS",
    "STATUSES",
    "TRANSITIONS",
    "Comment",
    "Issue",
    "seeded_issues",
]

PROJECTS = {
    "CC": {"id": "10000", "name": "Contact Centre Escalations"},
    "AUTO": {"id": "10001", "name": "Automation Failures"},
}
ISSUE_TYPES = {"10002": "Task", "10004": "Bug", "10005": "Incident"}
PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
STATUSES = {  # name -> (id, status category key)
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "Done": ("10001", "done"),
}
# id -> (name, from statuses, to status)
TRANSITIONS = {
    "11": ("Start Progress", ("To Do",), "In Progress"),
    "21": ("Resolve", ("In Progress",), "Done"),
    "31": ("Close", ("To Do",), "Done"),
    "41": ("Reopen", ("Done",), "To Do"),
}
REPORTER = "svc-voice-agent"


@dataclass
class Comment:
    id: str
    body: str
    author: str
    created: datetime


@dataclass
class Issue:
    id: str
    key: str
    project: str
    issue_type: str  # an id of ISSUE_TYPES
    summary: str
    description: str | None
    status: str
    priority: str  # an id of PRIORITIES
    labels: list[str]
    reporter: str
    created: datetime
    updated: datetime
    comments: list[Comment] = field(default_factory=list)

    def text(self) -> str:
        return f"{self.summary}\n{self.description or ''}".lower()


def seeded_issues(dataset: Dataset) -> list[Issue]:
    rng = random.Random(hashlib.sha256(f"tracker:{dataset.seed}".encode()).digest())
    now = dataset.reference_now
    people = {c.customer_id: c for c in dataset.customers}
    issues: list[Issue] = []
    unhappy = [c for c in dataset.calls if c.status in ("failed", "no-answer") and c.customer_id]
    for call in unhappy[:10]:
        person = people.get(call.customer_id or "")
        if person is None:
            continue
        created = call.start_time + timedelta(minutes=rng.randrange(2, 40))
        issues.append(
            _issue(
                issues,
                "CC",
                "10002",
                f"Call back {person.first_name} {person.last_name}: the agent handed over",
                f"Customer {person.customer_id}, call {call.sid} ({call.status}). "
                "The voice agent escalated; nobody has called back yet.",
                rng.choice(("To Do", "To Do", "In Progress", "Done")),
                rng.choice(("2", "3", "3")),
                ["escalation", "voice-agent"],
                created,
            )
        )
    for lead in dataset.crm_leads[:6]:
        created = min(now, lead.last_modified_date + timedelta(hours=rng.randrange(1, 48)))
        step = rng.choice(("send_owner_email", "slack_post", "track_event"))
        issues.append(
            _issue(
                issues,
                "AUTO",
                "10004",
                f"CRM automation failed at {step} for lead {lead.id}",
                f"The lead-status automation stopped at {step}; the lead's owner was not told.",
                rng.choice(("To Do", "Done")),
                "3",
                ["automation", step.replace("_", "-")],
                created,
            )
        )
    return issues


def _issue(
    existing: list[Issue],
    project: str,
    issue_type: str,
    summary: str,
    description: str,
    status: str,
    priority: str,
    labels: list[str],
    created: datetime,
) -> Issue:
    number = 1 + sum(1 for issue in existing if issue.project == project)
    return Issue(
        id=str(10100 + len(existing)),
        key=f"{project}-{number}",
        project=project,
        issue_type=issue_type,
        summary=summary,
        description=description,
        status=status,
        priority=priority,
        labels=labels,
        reporter=REPORTER,
        created=created,
        updated=created,
    )


def user(name: str, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/2/user?username={name}",
        "name": name,
        "key": name,
        "displayName": name.replace("-", " ").title(),
        "active": True,
    }
