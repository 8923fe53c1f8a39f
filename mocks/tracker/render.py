"""Issues, comments and the server as Jira's REST API v2 prints them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mocks.tracker.store import (
    ISSUE_TYPES,
    PRIORITIES,
    PROJECTS,
    STATUSES,
    TRANSITIONS,
    Comment,
    Issue,
    user,
)

__all__ = [
    "FIELD_LIST",
    "comment_json",
    "issue_json",
    "jira_time",
    "project_json",
    "transitions_json",
]

FIELD_LIST = (
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("status", "Status", "status"),
    ("priority", "Priority", "priority"),
    ("labels", "Labels", "array"),
    ("reporter", "Reporter", "user"),
    ("assignee", "Assignee", "user"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("resolution", "Resolution", "resolution"),
    ("comment", "Comment", "comments-page"),
)
_CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


def jira_time(moment: datetime) -> str:
    """``2026-11-01T09:30:00.000+0000``, as Jira writes a timestamp."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def project_json(key: str, api: str) -> dict[str, Any]:
    project = PROJECTS[key]
    return {
        "self": f"{api}/project/{project['id']}",
        "id": project["id"],
        "key": key,
        "name": project["name"],
        "projectTypeKey": "software",
        "issueTypes": [{"id": i, "name": n, "subtask": False} for i, n in ISSUE_TYPES.items()],
    }


def _status(name: str, api: str) -> dict[str, Any]:
    status_id, category = STATUSES[name]
    return {
        "self": f"{api}/status/{status_id}",
        "id": status_id,
        "name": name,
        "statusCategory": {"key": category, "name": _CATEGORY_NAMES[category]},
    }


def comment_json(comment: Comment, api: str, issue: Issue) -> dict[str, Any]:
    base = api.removesuffix("/rest/api/2")
    stamp = jira_time(comment.created)
    return {
        "self": f"{api}/issue/{issue.id}/comment/{comment.id}",
        "id": comment.id,
        "author": user(comment.author, base),
        "body": comment.body,
        "created": stamp,
        "updated": stamp,
    }


def issue_json(issue: Issue, api: str, wanted: set[str] | None = None) -> dict[str, Any]:
    base = api.removesuffix("/rest/api/2")
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "description": issue.description,
        "issuetype": {
            "id": issue.issue_type,
            "name": ISSUE_TYPES[issue.issue_type],
            "subtask": False,
        },
        "project": {k: v for k, v in project_json(issue.project, api).items() if k != "issueTypes"},
        "status": _status(issue.status, api),
        "priority": {"id": issue.priority, "name": PRIORITIES[issue.priority]},
        "labels": list(issue.labels),
        "reporter": user(issue.reporter, base),
        "assignee": None,
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
        "resolution": {"name": "Done"} if issue.status == "Done" else None,
        "comment": {
            "comments": [comment_json(c, api, issue) for c in issue.comments],
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        },
    }
    if wanted is not None:
        fields = {name: value for name, value in fields.items() if name in wanted}
    return {
        "expand": "renderedFields,names,schema,transitions,changelog",
        "id": issue.id,
        "self": f"{api}/issue/{issue.id}",
        "key": issue.key,
        "fields": fields,
    }


def transitions_json(issue: Issue, api: str) -> dict[str, Any]:
    available = [
        {
            "id": transition_id,
            "name": name,
            "to": _status(target, api),
            "hasScreen": False,
            "isGlobal": False,
            "isInitial": False,
            "isConditional": False,
        }
        for transition_id, (name, sources, target) in TRANSITIONS.items()
        if issue.status in sources
    ]
    return {"expand": "transitions", "transitions": available}
