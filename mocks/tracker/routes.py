"""Jira REST API v2 routes under ``/tracker/rest/api/2``.

The ``jira`` library reaches them with ``JIRA(server="<mocks>/tracker", basic_auth=(user,
api_token))``: it reads ``serverInfo`` first (a Server deployment, so it searches with
``/search`` and JQL) and ``/field`` before searching (docs/sdk-recipes.md).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from mocks.platform.apidocs import BODY_STATUSES, GATEWAY_STATUSES, error_responses, json_body
from mocks.platform.state import service_in
from mocks.tracker.errors import JiraError, JiraErrorBody, JiraErrorRoute
from mocks.tracker.service import TrackerService

__all__ = ["Tracker", "current_tracker", "router"]

router = APIRouter(
    prefix="/rest/api/2",
    route_class=JiraErrorRoute,
    tags=["tracker"],
    responses=error_responses(JiraErrorBody, *GATEWAY_STATUSES),
)
MAX_RESULTS = 1000
IssueKey = Annotated[str, Path(alias="issueIdOrKey", max_length=255)]
ProjectKey = Annotated[str, Path(alias="projectIdOrKey", max_length=255)]


def _errors(*statuses: int | str) -> dict[int | str, dict[str, Any]]:
    return error_responses(JiraErrorBody, *statuses)


def _query(**described: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in described.items()
    ]


_TEXT = {"type": "string"}
_NAMED = {"type": "object", "properties": {"id": _TEXT, "key": _TEXT, "name": _TEXT}}
_NEW_ISSUE = json_body(
    {
        "type": "object",
        "properties": {
            "fields": {
                "type": "object",
                "properties": {
                    "project": _NAMED,
                    "issuetype": _NAMED,
                    "summary": _TEXT,
                    "description": _TEXT,
                    "labels": {"type": "array", "items": _TEXT},
                    "priority": _NAMED,
                },
                "required": ["project", "issuetype", "summary"],
            }
        },
        "required": ["fields"],
    }
)
_TRANSITION = json_body(
    {
        "type": "object",
        "properties": {
            "transition": {"type": "object", "properties": {"id": _TEXT}},
            "update": {
                "type": "object",
                "properties": {
                    "comment": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "add": {"type": "object", "properties": {"body": _TEXT}}
                            },
                        },
                    }
                },
            },
        },
        "required": ["transition"],
    }
)
_COMMENT = json_body({"type": "object", "properties": {"body": _TEXT}, "required": ["body"]})


async def current_tracker(request: Request) -> TrackerService:
    return service_in(request, TrackerService)


Tracker = Annotated[TrackerService, Depends(current_tracker)]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JiraError(400, ["The request body is not valid JSON."]) from exc


def _whole(request: Request, name: str, default: int, ceiling: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise JiraError(400, [f"The {name} parameter must be a whole number of at least 0."])
    return min(int(text), ceiling)


def _fields(request: Request) -> str | None:
    given = request.query_params.getlist("fields")
    return ",".join(given) if given else None


@router.get("/serverInfo", summary="The server's version and deployment type (no login)")
async def server_info(tracker: Tracker) -> dict[str, Any]:
    return tracker.server_info()


@router.get("/myself", summary="The authenticated user")
async def myself(tracker: Tracker) -> dict[str, Any]:
    return tracker.myself()


@router.get("/field", summary="Every field, with the names JQL knows it by")
async def fields(tracker: Tracker) -> list[dict[str, Any]]:
    return tracker.field_list()


@router.get("/project/{projectIdOrKey}", summary="One project", responses=_errors(404))
async def project(key: ProjectKey, tracker: Tracker) -> dict[str, Any]:
    return tracker.project(key)


@router.post(
    "/issue",
    summary="Create an issue (not idempotent: search by a label first)",
    status_code=201,
    responses=_errors(*BODY_STATUSES),
    openapi_extra=_NEW_ISSUE,
)
async def create_issue(request: Request, tracker: Tracker) -> dict[str, Any]:
    return tracker.create(await _json_body(request))


@router.get(
    "/issue/{issueIdOrKey}",
    summary="One issue",
    responses=_errors(404),
    openapi_extra={
        "parameters": _query(fields="comma-separated field names, or *all", expand="ignored")
    },
)
async def get_issue(key: IssueKey, request: Request, tracker: Tracker) -> dict[str, Any]:
    return tracker.issue_view(key, _fields(request))


@router.get(
    "/issue/{issueIdOrKey}/transitions",
    summary="The transitions the issue's status allows",
    responses=_errors(404),
)
async def transitions(key: IssueKey, tracker: Tracker) -> dict[str, Any]:
    return tracker.transitions(key)


@router.post(
    "/issue/{issueIdOrKey}/transitions",
    summary="Move the issue through its workflow (optionally commenting)",
    status_code=204,
    responses=_errors(*BODY_STATUSES, 404),
    openapi_extra=_TRANSITION,
)
async def do_transition(key: IssueKey, request: Request, tracker: Tracker) -> Response:
    tracker.transition(key, await _json_body(request))
    return Response(status_code=204)


@router.get("/issue/{issueIdOrKey}/comment", summary="The issue's comments", responses=_errors(404))
async def comments(key: IssueKey, tracker: Tracker) -> dict[str, Any]:
    return tracker.comments(key)


@router.post(
    "/issue/{issueIdOrKey}/comment",
    summary="Add a comment",
    status_code=201,
    responses=_errors(*BODY_STATUSES, 404),
    openapi_extra=_COMMENT,
)
async def add_comment(key: IssueKey, request: Request, tracker: Tracker) -> JSONResponse:
    comment = tracker.add_comment(key, await _json_body(request))
    return JSONResponse(comment, status_code=201)


@router.get(
    "/search",
    summary="Search issues with JQL (a subset: AND of =, !=, in, not in, ~; ORDER BY)",
    responses=_errors(400),
    openapi_extra={
        "parameters": _query(
            jql="the query",
            startAt="index of the first issue (default 0)",
            maxResults=f"issues a page (default 50, at most {MAX_RESULTS})",
            fields="field names (repeat or comma-separate), or *all",
            validateQuery="ignored",
            expand="ignored",
        )
    },
)
async def search(request: Request, tracker: Tracker) -> dict[str, Any]:
    return tracker.search(
        request.query_params.get("jql", ""),
        _whole(request, "startAt", 0, 1_000_000),
        _whole(request, "maxResults", 50, MAX_RESULTS),
        _fields(request),
    )
