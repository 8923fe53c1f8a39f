"""Escalations and failed automations as tickets, speaking Jira's REST API v2."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mocks.platform.credentials import same_secret
from mocks.platform.service import AuthFailure, MockService, SystemContext
from mocks.tracker.errors import JiraError, jira_error_body
from mocks.tracker.jql import Query, parse_jql
from mocks.tracker.render import (
    FIELD_LIST,
    comment_json,
    issue_json,
    project_json,
    transitions_json,
)
from mocks.tracker.store import (
    ISSUE_TYPES,
    PRIORITIES,
    PROJECTS,
    TRANSITIONS,
    Comment,
    Issue,
    seeded_issues,
)

__all__ = ["TrackerService"]

MAX_SUMMARY = 255
MAX_TEXT = 32_767
MAX_LABELS = 50
MAX_ISSUES = 20_000
MAX_COMMENTS = 1000
_CREATE_FIELDS = ("project", "issuetype", "summary", "description", "labels", "priority")
_UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class TrackerService(MockService):
    name = "tracker"
    title = "Project tracker"
    vendor = "Jira REST API v2 (Server / Data Center)"
    summary = (
        "Escalations (project CC) and failed automations (project AUTO) as Jira issues, "
        "under /tracker/rest/api/2: issue create/get, transitions (To Do -> In Progress -> "
        "Done, Close, Reopen), comments, and search by a JQL subset. Basic auth (user and "
        "API token) or a bearer personal access token. Errors are Jira's "
        '{"errorMessages": [...], "errors": {field: message}}. Like Jira, creating an '
        "issue is not idempotent: search by a label before creating."
    )
    public_paths = ("/rest/api/2/serverInfo",)

    def __init__(self, ctx: SystemContext) -> None:
        super().__init__(ctx)
        self.issues = self._seeded()

    def _seeded(self) -> dict[str, Issue]:
        return {issue.key: issue for issue in seeded_issues(self.ctx.dataset)}

    def reset(self) -> None:
        super().reset()
        self.issues = self._seeded()

    @property
    def api(self) -> str:
        return f"{self.ctx.base_url}/tracker/rest/api/2"

    def authenticate(self, path: str, headers: Mapping[str, str]) -> AuthFailure | None:
        credentials = self.ctx.settings.credentials
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and same_secret(given.strip(), credentials.jira_api_token):
            return None
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(given.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                pair = ""
            user, _, token = pair.partition(":")
            if same_secret(user, credentials.jira_user) and same_secret(
                token, credentials.jira_api_token
            ):
                return None
        return AuthFailure(401, "unauthorized", _UNAUTHENTICATED)

    def error_body(
        self, status: int, reason: str, message: str, *, field: str | None = None
    ) -> Any:
        if reason == "rate_limited":
            return jira_error_body(["Rate limit exceeded."])
        if reason == "not_found":
            return jira_error_body(["The requested resource could not be found."])
        if field is not None:
            return jira_error_body([], {field: message})
        return jira_error_body([message])

    # -- reads ----------------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        return {
            "baseUrl": f"{self.ctx.base_url}/tracker",
            "version": "9.12.2",
            "versionNumbers": [9, 12, 2],
            "deploymentType": "Server",
            "buildNumber": 9120002,
            "serverTitle": "Switchboard Jira",
        }

    def myself(self) -> dict[str, Any]:
        name = self.ctx.settings.credentials.jira_user
        return {"name": name, "key": name, "displayName": "Voice agent", "active": True}

    def field_list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": ident,
                "key": ident,
                "name": name,
                "custom": False,
                "navigable": True,
                "searchable": True,
                "clauseNames": [ident],
                "schema": {"type": kind, "system": ident},
            }
            for ident, name, kind in FIELD_LIST
        ]

    def project(self, key: str) -> dict[str, Any]:
        found = next((k for k, p in PROJECTS.items() if key in (k, p["id"])), None)
        if found is None:
            raise JiraError(404, ["No project could be found with that key or id."])
        return project_json(found, self.api)

    def issue(self, key: str) -> Issue:
        found = self.issues.get(key.upper()) or next(
            (issue for issue in self.issues.values() if issue.id == key), None
        )
        if found is None:
            raise JiraError.no_issue()
        return found

    def issue_view(self, key: str, fields: str | None) -> dict[str, Any]:
        return issue_json(self.issue(key), self.api, _wanted(fields))

    def transitions(self, key: str) -> dict[str, Any]:
        return transitions_json(self.issue(key), self.api)

    def comments(self, key: str) -> dict[str, Any]:
        issue = self.issue(key)
        shown = [comment_json(c, self.api, issue) for c in issue.comments]
        return {"startAt": 0, "maxResults": len(shown), "total": len(shown), "comments": shown}

    def search(
        self, jql: str, start_at: int, max_results: int, fields: str | None
    ) -> dict[str, Any]:
        query = parse_jql(jql)
        found = sorted(
            (issue for issue in self.issues.values() if _matches(issue, query)),
            key=_order_key(query.order[0]),
            reverse=query.order[1],
        )
        page = found[start_at : start_at + max_results]
        wanted = _wanted(fields)
        return {
            "expand": "names,schema",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(found),
            "issues": [issue_json(issue, self.api, wanted) for issue in page],
        }

    # -- writes (Jira has no idempotency key: a retried create makes a second issue) ---

    def create(self, body: Any) -> dict[str, Any]:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise JiraError.field("fields", "The issue's fields are required.")
        if set(fields) - set(_CREATE_FIELDS):
            raise JiraError.field(
                "fields", "A field cannot be set: it is not on the create screen, or unknown."
            )
        if len(self.issues) >= MAX_ISSUES:
            raise JiraError(400, ["This project holds as many issues as the mock keeps."])
        project = _project_key(fields.get("project"))
        issue_type = _issue_type(fields.get("issuetype"))
        now = self.ctx.now()
        issue = Issue(
            id=str(10100 + len(self.issues)),
            key=f"{project}-{1 + sum(1 for i in self.issues.values() if i.project == project)}",
            project=project,
            issue_type=issue_type,
            summary=_summary(fields.get("summary")),
            description=_text(fields.get("description"), "description", optional=True),
            status="To Do",
            priority=_priority(fields.get("priority")),
            labels=_labels(fields.get("labels")),
            reporter=self.ctx.settings.credentials.jira_user,
            created=now,
            updated=now,
        )
        self.issues[issue.key] = issue
        self.ledger.record(
            "issue.create",
            issue.key,
            None,
            project=project,
            summary=issue.summary,
            labels=issue.labels,
        )
        return {"id": issue.id, "key": issue.key, "self": f"{self.api}/issue/{issue.id}"}

    def transition(self, key: str, body: Any) -> None:
        issue = self.issue(key)
        asked = body.get("transition") if isinstance(body, dict) else None
        ident = asked.get("id") if isinstance(asked, dict) else None
        ident = str(ident) if isinstance(ident, int | str) and not isinstance(ident, bool) else None
        if ident is None:
            raise JiraError.field("transition", "A transition id is required.")
        move = TRANSITIONS.get(ident)
        if move is None or issue.status not in move[1]:
            raise JiraError.field(
                "transition", "The transition is not valid for this issue in its current status."
            )
        comment = _transition_comment(body)
        before = issue.status
        issue.status = move[2]
        issue.updated = self.ctx.now()
        if comment is not None:
            self._comment(issue, comment)
        self.ledger.record(
            "issue.transition",
            issue.key,
            None,
            transition=move[0],
            status_from=before,
            status=issue.status,
        )

    def add_comment(self, key: str, body: Any) -> dict[str, Any]:
        issue = self.issue(key)
        text = body.get("body") if isinstance(body, dict) else None
        comment = self._comment(issue, _text(text, "comment", optional=False))
        self.ledger.record("comment.add", issue.key, None, comment=comment.id)
        return comment_json(comment, self.api, issue)

    def _comment(self, issue: Issue, text: str | None) -> Comment:
        if len(issue.comments) >= MAX_COMMENTS:
            raise JiraError.field("comment", "This issue has as many comments as the mock keeps.")
        total = sum(len(i.comments) for i in self.issues.values())
        comment = Comment(
            str(20000 + total), text or "", self.ctx.settings.credentials.jira_user, self.ctx.now()
        )
        issue.comments.append(comment)
        issue.updated = comment.created
        return comment


def _wanted(fields: str | None) -> set[str] | None:
    if fields is None:
        return None
    names = {name.strip() for name in fields.split(",") if name.strip()}
    return None if names & {"*all", "*navigable"} or not names else names


def _project_key(value: Any) -> str:
    if isinstance(value, dict):
        for key, project in PROJECTS.items():
            if value.get("key") == key or value.get("id") == project["id"]:
                return key
    raise JiraError.field("project", "valid project is required")


def _issue_type(value: Any) -> str:
    if isinstance(value, dict):
        for ident, name in ISSUE_TYPES.items():
            if value.get("id") == ident or value.get("name") == name:
                return ident
    raise JiraError.field("issuetype", "valid issue type is required")


def _priority(value: Any) -> str:
    if value is None:
        return "3"
    if isinstance(value, dict):
        for ident, name in PRIORITIES.items():
            if value.get("id") == ident or value.get("name") == name:
                return ident
    raise JiraError.field(
        "priority", "valid priority is required (Highest, High, Medium, Low, Lowest)"
    )


def _summary(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise JiraError.field("summary", "You must specify a summary of the issue.")
    if len(value) > MAX_SUMMARY or "\n" in value:
        raise JiraError.field(
            "summary", f"Summary must be one line of less than {MAX_SUMMARY} characters."
        )
    return value


def _text(value: Any, field: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value.strip()):
        raise JiraError.field(
            field, "Comment body can not be empty!" if field == "comment" else "must be text"
        )
    if len(value) > MAX_TEXT:
        raise JiraError.field(field, f"must be at most {MAX_TEXT} characters")
    return value


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_LABELS:
        raise JiraError.field("labels", f"labels are a list of at most {MAX_LABELS} words")
    for label in value:
        if (
            not isinstance(label, str)
            or not 0 < len(label) <= 255
            or any(c.isspace() for c in label)
        ):
            raise JiraError.field("labels", "a label is one word of 1 to 255 characters, no spaces")
    return list(dict.fromkeys(value))


def _transition_comment(body: dict[str, Any]) -> str | None:
    update = body.get("update")
    if update is None:
        return None
    try:
        text = update["comment"][0]["add"]["body"]
    except (KeyError, IndexError, TypeError) as exc:
        raise JiraError.field("comment", 'update.comment takes [{"add": {"body": text}}]') from exc
    return _text(text, "comment", optional=False)


def _values(issue: Issue, name: str) -> list[str]:
    return {
        "project": [issue.project],
        "status": [issue.status],
        "labels": issue.labels,
        "issuetype": [ISSUE_TYPES[issue.issue_type]],
        "type": [ISSUE_TYPES[issue.issue_type]],
        "priority": [PRIORITIES[issue.priority]],
        "key": [issue.key],
        "reporter": [issue.reporter],
    }[name]


def _matches(issue: Issue, query: Query) -> bool:
    for name, op, wanted in query.clauses:
        if op == "~":
            text = {"summary": issue.summary, "description": issue.description or ""}.get(
                name, issue.text()
            )
            if wanted[0].lower() not in text.lower():
                return False
            continue
        have = {value.lower() for value in _values(issue, name)}
        hit = bool(have & {value.lower() for value in wanted})
        if hit != (op in ("=", "in")):
            return False
    return True


def _order_key(name: str) -> Any:
    def key(issue: Issue) -> Any:
        if name == "key":
            project, _, number = issue.key.partition("-")
            return (project, int(number))
        if name == "priority":
            return int(issue.priority)
        moment: datetime = issue.updated if name == "updated" else issue.created
        return moment

    return key
